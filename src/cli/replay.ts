/**
 * `collateral replay [--db …]`: rebuilds the state from the whole log (no snapshot),
 * verifying every hash link, and prints the state hash. When the log has a snapshot, the
 * state rebuilt from it plus the tail must reach the same hash: a mismatch exits with 1.
 *
 * Replay only reads. A last command whose events do not verify (a torn write, or tampering:
 * from the log alone the two look the same) is reported and exits with 1; unlike start-up,
 * replay never drops it from the log.
 */
import type { RiskConfig } from '../core/config.ts';
import { parseRiskConfig } from '../core/config.ts';
import { formatIssues } from '../core/input.ts';
import { openStore } from '../store/open.ts';
import { loadLedger } from '../store/recover.ts';
import type { EventStore } from '../store/store.ts';
import { CliError, readFlags } from './io.ts';

/** Stands in until the log's first event (always the configuration) replaces it. */
const PLACEHOLDER_CONFIG = { quote: 'USD', assets: [] };

export async function replayCommand(args: readonly string[]): Promise<number> {
  const flags = readFlags(args, ['db'], []);
  const opened = await openStore(flags.db);
  const store = readOnly(opened);
  try {
    const full = await loadLedger(store, parseConfig, PLACEHOLDER_CONFIG, { fromSnapshot: false, warn: () => undefined });
    const hash = full.ledger.stateHash();
    const result = { seq: full.ledger.headSeq, headHash: full.ledger.headHash, stateHash: hash, events: full.replayedEvents };
    if (full.snapshotSeq === 0 && (await store.latestSnapshot()) !== null) {
      const fromSnapshot = await loadLedger(store, parseConfig, PLACEHOLDER_CONFIG);
      const snapshotHash = fromSnapshot.ledger.stateHash();
      if (snapshotHash !== hash) {
        process.stdout.write(`${JSON.stringify({ ...result, snapshotStateHash: snapshotHash, match: false })}\n`);
        process.stderr.write('collateral replay: snapshot + tail does not reach the full replay\'s state hash\n');
        return 1;
      }
    }
    process.stdout.write(`${JSON.stringify({ ...result, match: true })}\n`);
    return 0;
  } catch (error) {
    throw new CliError(`replay failed: ${(error as Error).message}`, 1);
  } finally {
    await opened.close();
  }
}

/** The store for reading only: recovery's truncation of a torn tail becomes an error. */
function readOnly(store: EventStore): EventStore {
  const refuse = async (): Promise<never> => {
    throw new Error('collateral replay does not write to the event log');
  };
  return {
    head: () => store.head(),
    read: (afterSeq, limit) => store.read(afterSeq, limit),
    latestSnapshot: () => store.latestSnapshot(),
    snapshotSeq: () => store.snapshotSeq(),
    pendingEvents: () => store.pendingEvents(),
    getApiKeyByHash: (keyHash) => store.getApiKeyByHash(keyHash),
    listApiKeys: (afterId, limit) => store.listApiKeys(afterId, limit),
    async truncateFrom(seq) {
      throw new Error(
        `the last command's events from event ${seq} on do not verify (a torn write or tampering); ` +
          'replay leaves the log as it is (`collateral serve` drops a torn last write at start-up)',
      );
    },
    append: refuse,
    saveSnapshot: refuse,
    putApiKey: refuse,
    close: async () => undefined,
  };
}

function parseConfig(json: unknown): RiskConfig {
  const parsed = parseRiskConfig(json);
  if (!parsed.ok) throw new Error(`stored configuration is invalid: ${formatIssues(parsed.error)}`);
  return parsed.value;
}
