/**
 * `collateral preflight --config new-risk.json [--db PATH|postgres://…] [--scenarios a,b,…]`:
 * judges a proposed configuration on the live book (the ledger rebuilt from the event log,
 * read only): how many accounts it would put in warning or make liquidatable at once, and the
 * bad debt each built-in crisis would leave under the current and the proposed configuration
 * (src/sim/preflight.ts). Prints one JSON document; `verdict` is "refuse" when the change
 * would make any account liquidatable at once (what the service's POST /v1/config refuses
 * without `force`), else "accept".
 */
import type { RiskConfig } from '../core/config.ts';
import { parseRiskConfig } from '../core/config.ts';
import { formatIssues } from '../core/input.ts';
import { Book } from '../sim/book.ts';
import { resolveSimConfig } from '../sim/config.ts';
import { configImpact, judgeScenarios } from '../sim/preflight.ts';
import { openStore } from '../store/open.ts';
import { loadLedger } from '../store/recover.ts';
import { CliError, inputError, readFlags, readJsonFile } from './io.ts';

/** Stands in until the log's first event (always the configuration) replaces it. */
const PLACEHOLDER_CONFIG = { quote: 'USD', assets: [] };
/** Accounts listed by id in the output, at most. */
const EXAMPLES_MAX = 20;

export async function preflightCommand(args: readonly string[]): Promise<number> {
  const flags = readFlags(args, ['config', 'db', 'scenarios'], ['config']);
  const configPath = flags.config as string;
  const proposedJson = await readJsonFile(configPath);
  const proposed = resolveSimConfig(proposedJson, 0);
  if (!proposed.ok) throw inputError(configPath, proposed.error);

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

  // The ledger's own rules on configuration changes (no removed asset, same decimals, …).
  const { oracle: _oracle, ...proposedRisk } = proposedJson as Record<string, unknown>;
  const copy = Book.fromSnapshot(ledger.snapshot(), false);
  const applied = copy.execute({ kind: 'config', idempotencyKey: 'preflight:check', config: proposedRisk });
  if (!applied.ok) {
    const problem = applied.error;
    const detail = 'message' in problem ? ` ${problem.field}: ${problem.message}` : '';
    throw new CliError(`${configPath}: the ledger would refuse this change: ${problem.code}${detail}`);
  }

  const impact = configImpact(ledger.state, proposed.value.risk);
  const scenarios = flags.scenarios?.split(',').filter((name) => name !== '');
  const judgements = judgeScenarios({
    ledger,
    proposedJson,
    ...(scenarios !== undefined && { scenarios }),
    startMs: Math.max(Date.now(), latestTimeOf(ledger.state)),
    onScenario: (name) => {
      if (process.stderr.isTTY === true) process.stderr.write(`\r\x1b[2Kpreflight: replaying ${name}…`);
    },
  });
  if (process.stderr.isTTY === true) process.stderr.write('\r\x1b[2K');
  const verdict = impact.newlyLiquidatable.length > 0 ? 'refuse' : 'accept';
  const output = {
    config: configPath,
    configHash: proposed.value.configHash,
    seq: ledger.headSeq,
    stateHash: ledger.stateHash(),
    verdict,
    reason:
      verdict === 'refuse'
        ? `${impact.newlyLiquidatable.length} account(s) would be liquidatable as soon as the configuration applies`
        : 'no account becomes liquidatable at once',
    atOnce: {
      accounts: impact.accounts,
      current: impact.current,
      proposed: impact.proposed,
      newlyLiquidatable: impact.newlyLiquidatable.length,
      newlyWarning: impact.newlyWarning.length,
      unvalued: impact.unvalued,
      newlyLiquidatableAccounts: impact.newlyLiquidatable.slice(0, EXAMPLES_MAX),
      newlyWarningAccounts: impact.newlyWarning.slice(0, EXAMPLES_MAX),
    },
    scenarios: judgements,
  };
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  return 0;
}

function parseConfig(json: unknown): RiskConfig {
  const parsed = parseRiskConfig(json);
  if (!parsed.ok) throw new Error(`stored configuration is invalid: ${formatIssues(parsed.error)}`);
  return parsed.value;
}

/** The latest time the ledger has seen (cascade windows, auctions, interest), so a replay starts after it. */
function latestTimeOf(state: Book['ledger']['state']): number {
  let latest = 0;
  for (const window of state.liquidationWindows.values()) latest = Math.max(latest, window.startMs);
  for (const auction of state.auctions.values()) latest = Math.max(latest, auction.startMs);
  for (const asset of state.assets.values()) latest = Math.max(latest, asset.accruedAtMs ?? 0);
  return latest;
}
