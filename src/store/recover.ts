/**
 * Start-up: rebuild the ledger from what is durable. Start from the latest snapshot (or an
 * empty ledger), then replay the tail through Ledger.apply, which verifies every sequence
 * number and hash link.
 *
 * - A break anywhere but the last record refuses to start, naming the event: the log after
 *   it cannot be trusted, and guessing would change balances.
 * - A last record that does not read or verify is a torn write. Appends are answered only
 *   after they commit, so it was never acknowledged: it is dropped with a warning, together
 *   with the earlier events of its command (same key column), so that no command is left
 *   half-applied.
 */
import type { RiskConfig } from '../core/config.ts';
import { Ledger, LedgerIntegrityError } from '../core/ledger/ledger.ts';
import { EMPTY_HEAD } from './chain.ts';
import { StoreIntegrityError } from './errors.ts';
import { fromRecord } from './record.ts';
import type { EventRecord, EventStore, SnapshotRecord } from './store.ts';

/** Rows per read while replaying: bounds memory whatever the log's length. */
const REPLAY_PAGE_ROWS = 1_000;

export interface LoadOptions {
  /** Start from the latest snapshot (default), or replay the whole log (`collateral replay`). */
  readonly fromSnapshot?: boolean;
  /** Where the torn-write warning goes (default console.warn). */
  readonly warn?: (message: string) => void;
}

export interface LoadedLedger {
  readonly ledger: Ledger;
  /** Seq of the snapshot started from; 0 for a replay from genesis. */
  readonly snapshotSeq: number;
  /** Events applied after the snapshot. */
  readonly replayedEvents: number;
  /** Events of a torn last command removed from the log (normally 0). */
  readonly droppedEvents: number;
}

/** A torn last write: the seqs to drop and why. */
interface TornTail {
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly key: string;
  readonly reason: string;
}

interface Replay {
  readonly ledger: Ledger;
  readonly snapshotSeq: number;
  readonly replayedEvents: number;
  readonly torn: TornTail | null;
}

/**
 * The ledger as of the last durable command. `parseConfig` turns a stored configuration back
 * into a RiskConfig (throwing if invalid); `initialConfigJson` is the configuration an empty
 * log starts from.
 */
export async function loadLedger(
  store: EventStore,
  parseConfig: (json: unknown) => RiskConfig,
  initialConfigJson: unknown,
  options: LoadOptions = {},
): Promise<LoadedLedger> {
  const load = (): Promise<Replay> =>
    replayLog(store, parseConfig, initialConfigJson, options.fromSnapshot ?? true);
  const { torn, ...first } = await load();
  if (torn === null) return { ...first, droppedEvents: 0 };

  const droppedEvents = torn.toSeq - torn.fromSeq + 1;
  (options.warn ?? console.warn)(
    `event log: dropping events ${torn.fromSeq}..${torn.toSeq} of command '${torn.key}', a torn last write ` +
      `that was never acknowledged (${torn.reason})`,
  );
  await store.truncateFrom(torn.fromSeq);
  if (torn.fromSeq > first.ledger.headSeq) return { ...first, droppedEvents };

  // Earlier events of the torn command were applied already: rebuild without them rather
  // than teach the ledger to undo events.
  const { torn: stillTorn, ...second } = await load();
  if (stillTorn !== null) {
    throw new StoreIntegrityError(stillTorn.fromSeq, `event log still torn at event ${stillTorn.fromSeq} after truncation`);
  }
  return { ...second, droppedEvents };
}

async function replayLog(
  store: EventStore,
  parseConfig: (json: unknown) => RiskConfig,
  initialConfigJson: unknown,
  fromSnapshot: boolean,
): Promise<Replay> {
  const lastSeq = (await store.head()).seq;
  const snapshot = fromSnapshot ? await store.latestSnapshot() : null;
  let ledger: Ledger;
  if (snapshot === null) {
    const genesisJson = await genesisConfigJson(store, initialConfigJson);
    ledger = Ledger.create(parseConfig(genesisJson), genesisJson);
  } else {
    ledger = await restoreSnapshot(store, snapshot, parseConfig);
  }
  const snapshotSeq = ledger.headSeq;
  const torn = await replayTail(store, ledger, lastSeq);
  return { ledger, snapshotSeq, replayedEvents: ledger.headSeq - snapshotSeq, torn };
}

/**
 * The configuration an empty ledger starts from: the log's first event, which is always the
 * configuration, so that a replay depends on the log alone. The initial state is built from
 * it (Ledger.create), and a configuration change only adds assets and markets: starting from
 * anything else would leave its assets in the state, and the state hash would then depend on
 * who replays (the service with risk.json, `collateral replay` with a placeholder). An
 * empty log (or an unreadable first record, which replayTail judges) starts from `fallbackJson`.
 */
async function genesisConfigJson(store: EventStore, fallbackJson: unknown): Promise<unknown> {
  const [first] = await store.read(0, 1);
  if (first === undefined) return fallbackJson;
  try {
    const { event } = fromRecord(first);
    return event.type === 'ConfigUpdated' ? event.config : fallbackJson;
  } catch (error) {
    if (error instanceof StoreIntegrityError) return fallbackJson;
    throw error;
  }
}

/** The snapshot as a ledger, after checking it agrees with itself and with the stored event at its seq. */
async function restoreSnapshot(
  store: EventStore,
  snapshot: SnapshotRecord,
  parseConfig: (json: unknown) => RiskConfig,
): Promise<Ledger> {
  const refuse = (why: string): StoreIntegrityError =>
    new StoreIntegrityError(snapshot.seq, `snapshot at event ${snapshot.seq} ${why}; refusing to start`);
  let ledger: Ledger;
  try {
    ledger = Ledger.fromSnapshot(snapshot.text, parseConfig);
  } catch (error) {
    throw refuse(`cannot be read (${(error as Error).message})`);
  }
  if (ledger.headSeq !== snapshot.seq || ledger.headHash !== snapshot.hash) {
    throw refuse(`holds event ${ledger.headSeq} (${ledger.headHash}), not the one it is stored under (${snapshot.hash})`);
  }
  const storedHash = await storedHashAt(store, snapshot.seq);
  if (storedHash !== snapshot.hash) {
    throw refuse(storedHash === null ? 'is past the end of the log' : `does not match the log's event (hash ${storedHash})`);
  }
  return ledger;
}

async function storedHashAt(store: EventStore, seq: number): Promise<string | null> {
  if (seq === 0) return EMPTY_HEAD.hash;
  const [record] = await store.read(seq - 1, 1);
  return record !== undefined && record.seq === seq ? record.hash : null;
}

/**
 * Applies every stored event after the ledger's head. Returns the torn tail when the last
 * record does not read or verify; throws StoreIntegrityError for any other break.
 */
async function replayTail(store: EventStore, ledger: Ledger, lastSeq: number): Promise<TornTail | null> {
  /** The last command applied (its events share its key): a torn record may be its continuation. */
  let command = null as { key: string; firstSeq: number } | null;
  for (;;) {
    const records = await store.read(ledger.headSeq, REPLAY_PAGE_ROWS);
    if (records.length === 0) return null;
    for (const record of records) {
      const problem = applyRecord(ledger, record);
      if (problem === null) {
        if (command?.key !== record.key) command = { key: record.key, firstSeq: record.seq };
        continue;
      }
      if (record.seq !== lastSeq || record.seq !== ledger.headSeq + 1) {
        throw new StoreIntegrityError(
          record.seq,
          `event log broken at event ${record.seq}: ${problem}; refusing to start, because the log after ` +
            `event ${ledger.headSeq} cannot be trusted (restore it from a backup, or investigate tampering)`,
        );
      }
      const fromSeq = command !== null && command.key === record.key ? command.firstSeq : record.seq;
      return { fromSeq, toSeq: record.seq, key: record.key, reason: problem };
    }
  }
}

/** Null when the record was applied; otherwise why it does not read or verify. */
function applyRecord(ledger: Ledger, record: EventRecord): string | null {
  try {
    ledger.apply(fromRecord(record));
    return null;
  } catch (error) {
    if (error instanceof StoreIntegrityError || error instanceof LedgerIntegrityError) return error.message;
    throw error;
  }
}
