/**
 * `collateral preflight --config new-risk.json [--db PATH|postgres://…] [--scenarios a,b,…]`:
 * judges a proposed configuration on the live book (the ledger rebuilt from the event log,
 * read only): how many accounts it would put in warning or make liquidatable at once, and the
 * bad debt each built-in crisis would leave under the current and the proposed configuration.
 * The document is src/sim/preflight.ts `preflightReport` (the service's
 * `POST /v1/config/preflight` answers the same), printed as one JSON document with the file's
 * path first; `verdict` is "refuse" when the change would make any account liquidatable at
 * once (what the service's POST /v1/config refuses without `force`), else "accept".
 */
import type { RiskConfig } from '../core/config.ts';
import { parseRiskConfig } from '../core/config.ts';
import { formatIssues } from '../core/input.ts';
import { checkProposal, preflightReport, type PreflightError } from '../sim/preflight.ts';
import { openStore } from '../store/open.ts';
import { loadLedger } from '../store/recover.ts';
import { CliError, inputError, readFlags, readJsonFile } from './io.ts';

/** Stands in until the log's first event (always the configuration) replaces it. */
const PLACEHOLDER_CONFIG = { quote: 'USD', assets: [] };

export async function preflightCommand(args: readonly string[]): Promise<number> {
  const flags = readFlags(args, ['config', 'db', 'scenarios'], ['config']);
  const configPath = flags.config as string;
  const proposedJson = await readJsonFile(configPath);
  // An invalid file is reported before the store is opened.
  const checked = checkProposal(proposedJson);
  if (!checked.ok) throw preflightError(configPath, checked.error);

  const store = await openStore(flags.db);
  let loaded;
  try {
    loaded = await loadLedger(store, parseConfig, PLACEHOLDER_CONFIG, { warn: (message) => process.stderr.write(`${message}\n`) });
  } catch (error) {
    throw new CliError(`cannot load the live book: ${(error as Error).message}`, 1);
  } finally {
    await store.close();
  }
  const ledger = loaded.ledger;
  if (ledger.headSeq === 0) throw new CliError('the event log is empty: there is no live book to judge the configuration on', 1);

  const scenarios = flags.scenarios?.split(',').filter((name) => name !== '');
  const report = await preflightReport({
    ledger,
    proposedJson,
    ...(scenarios !== undefined && { scenarios }),
    nowMs: Date.now(),
    onScenario: (name) => {
      if (process.stderr.isTTY === true) process.stderr.write(`\r\x1b[2Kpreflight: replaying ${name}…`);
    },
  });
  if (process.stderr.isTTY === true) process.stderr.write('\r\x1b[2K');
  if (!report.ok) throw preflightError(configPath, report.error);
  process.stdout.write(`${JSON.stringify({ config: configPath, ...report.value }, null, 2)}\n`);
  return 0;
}

function preflightError(configPath: string, error: PreflightError): CliError {
  switch (error.code) {
    case 'INVALID_CONFIG':
      return inputError(configPath, error.issues);
    case 'LEDGER_WOULD_REFUSE': {
      const problem = error.rejection;
      const detail = 'message' in problem ? ` ${problem.field}: ${problem.message}` : '';
      return new CliError(`${configPath}: the ledger would refuse this change: ${problem.code}${detail}`);
    }
  }
}

function parseConfig(json: unknown): RiskConfig {
  const parsed = parseRiskConfig(json);
  if (!parsed.ok) throw new Error(`stored configuration is invalid: ${formatIssues(parsed.error)}`);
  return parsed.value;
}
