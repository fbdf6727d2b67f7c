/**
 * The event store: the durable side of the ledger. One interface, two adapters (sqlite.ts,
 * postgres.ts). The store keeps sealed events as canonical text and never interprets them;
 * decoding (record.ts) and verification (recover.ts, Ledger.apply) happen above it.
 *
 * Ordering contract: `append` and `saveSnapshot` take their place in the commit order when
 * they are called, not when their promise is awaited. The service executes a command and
 * appends its events in the same tick, so the log's order is the ledger's order, and a
 * snapshot is committed only together with or after every event it covers.
 */
import type { SealedEvent } from '../core/ledger/ledger.ts';

/** One stored event, as written: the columns of the `events` table. */
export interface EventRecord {
  readonly seq: number;
  readonly key: string;
  readonly prevHash: string;
  readonly hash: string;
  /** Canonical JSON (codec.ts) of `{ command?, event }`; the other fields are columns. */
  readonly body: string;
}

/** The ledger as of `seq` (Ledger.snapshot()), and the hash of the event at `seq`. */
export interface SnapshotRecord {
  readonly seq: number;
  readonly hash: string;
  readonly text: string;
}

/** The last stored event: seq 0 and the genesis hash when the log is empty. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const API_KEY_ROLES = ['admin', 'oracle', 'venue', 'keeper', 'reader', 'owner'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** An API key as stored: only its hash, never the key itself (shown once, at creation). */
export interface ApiKeyRecord {
  readonly id: string;
  readonly keyHash: string;
  readonly role: ApiKeyRole;
  /** The account an `owner` key is bound to. */
  readonly account?: string;
  readonly createdAtMs: number;
}

/** What one transaction wrote, for metrics (commit latency, group sizes). */
export interface CommitInfo {
  readonly events: number;
  /** Appends and snapshots answered by this transaction. */
  readonly writes: number;
  readonly durationMs: number;
}

/** Settings both adapters take. */
export interface StoreOptions {
  /**
   * Events (a snapshot counts as one) accepted and not yet durable, queued or in flight;
   * past it, appends are refused with StoreOverloadedError. Default DEFAULT_MAX_PENDING_EVENTS.
   */
  readonly maxPendingEvents?: number;
  readonly onCommit?: (commit: CommitInfo) => void;
}

export const DEFAULT_MAX_PENDING_EVENTS = 10_000;
/** Largest page `read` and `listApiKeys` return. */
export const MAX_PAGE_ROWS = 10_000;

export interface EventStore {
  /** The last stored event (seq 0 and the genesis hash when empty). */
  head(): Promise<ChainHead>;

  /**
   * Queues events for the next group commit; resolves once the transaction holding them has
   * committed durably. Events must continue the stored chain (seq and prevHash), or the
   * commit fails with StoreConflictError. After any failed commit the store refuses every
   * later append (StoreFailedError): the ledger is then ahead of the log and must restart.
   */
  append(events: readonly SealedEvent[]): Promise<void>;

  /** Events with seq > afterSeq, in order, at most `limit` (1..MAX_PAGE_ROWS). */
  read(afterSeq: number, limit: number): Promise<EventRecord[]>;

  /**
   * Deletes the events from `seq` on. Only recovery calls it, before any append, to drop a
   * torn tail that was never acknowledged.
   */
  truncateFrom(seq: number): Promise<void>;

  /**
   * Queues a snapshot behind every append already queued, replacing older snapshots in the
   * same transaction; resolves once durable. Its seq and hash must be the stored head or an
   * event committed in the same transaction (StoreConflictError otherwise): see maybeSnapshot.
   */
  saveSnapshot(snapshot: SnapshotRecord): Promise<void>;

  latestSnapshot(): Promise<SnapshotRecord | null>;

  /** Seq of the newest snapshot saved or queued; 0 when there is none. */
  snapshotSeq(): number;

  /** Events accepted by `append` and not yet durable; intake should pause well before the maximum. */
  pendingEvents(): number;

  /** Fails when the id or the key hash is already stored. */
  putApiKey(key: ApiKeyRecord): Promise<void>;
  getApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | null>;
  /** Keys with id > afterId ('' for the first page), by id, at most `limit` (1..MAX_PAGE_ROWS). */
  listApiKeys(afterId: string, limit: number): Promise<ApiKeyRecord[]>;

  /** Commits what is queued, then releases the database; later calls fail with StoreClosedError. */
  close(): Promise<void>;
}
