/**
 * Snapshots every N events, so start-up replays at most about N events after the latest one.
 */
import type { Ledger } from '../core/ledger/ledger.ts';
import type { EventStore } from './store.ts';

/**
 * Queues a snapshot of the ledger when `everyEvents` or more events have come since the last
 * one; resolves true once it is durable, false when none was due.
 *
 * Call it right after appending the last executed command's events, before executing
 * another: the snapshot is taken and queued synchronously, so it covers exactly the events
 * already queued and commits with or after them. Called out of step, the commit refuses it
 * (StoreConflictError) rather than store a snapshot ahead of the log.
 */
export async function maybeSnapshot(ledger: Ledger, store: EventStore, everyEvents: number): Promise<boolean> {
  if (!Number.isSafeInteger(everyEvents) || everyEvents < 1) {
    throw new RangeError(`snapshot interval must be a positive integer of events, got ${everyEvents}`);
  }
  if (ledger.headSeq - store.snapshotSeq() < everyEvents) return false;
  await store.saveSnapshot({ seq: ledger.headSeq, hash: ledger.headHash, text: ledger.snapshot() });
  return true;
}
