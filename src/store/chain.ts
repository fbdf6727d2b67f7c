/**
 * Checks a commit group against the stored head inside its transaction, before writing: the
 * events must continue the chain one by one, and a snapshot must sit on it. This is what
 * keeps a gap (an append refused earlier), a fork or a second writer out of the log; the
 * primary key on seq alone would let a gap through.
 */
import { GENESIS_HASH } from '../core/ledger/hash.ts';
import { StoreConflictError } from './errors.ts';
import { MAX_PAGE_ROWS, type ChainHead, type EventRecord, type SnapshotRecord } from './store.ts';

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

/** The head after `events`; throws StoreConflictError when they or the snapshot do not fit. */
export function checkContinues(
  head: ChainHead,
  events: readonly EventRecord[],
  snapshot: SnapshotRecord | null,
): ChainHead {
  const heads: ChainHead[] = [head];
  let previous = head;
  for (const event of events) {
    if (event.seq !== previous.seq + 1 || event.prevHash !== previous.hash) {
      throw new StoreConflictError(
        `append of event ${event.seq} does not continue the log at event ${previous.seq}: ` +
          (event.seq !== previous.seq + 1 ? 'sequence gap or overlap' : 'previous hash differs'),
      );
    }
    previous = { seq: event.seq, hash: event.hash };
    heads.push(previous);
  }
  if (snapshot !== null && !heads.some((at) => at.seq === snapshot.seq && at.hash === snapshot.hash)) {
    throw new StoreConflictError(
      `snapshot at event ${snapshot.seq} is not on the log between events ${head.seq} and ${previous.seq}`,
    );
  }
  return previous;
}

/** Throws RangeError unless `afterSeq` is a seq (or 0) and `limit` within the page bound. */
export function checkEventPage(afterSeq: number, limit: number): void {
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
    throw new RangeError(`afterSeq must be a non-negative integer, got ${afterSeq}`);
  }
  checkPageLimit(limit);
}

export function checkPageLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_ROWS) {
    throw new RangeError(`page limit must be an integer in 1..${MAX_PAGE_ROWS}, got ${limit}`);
  }
}
