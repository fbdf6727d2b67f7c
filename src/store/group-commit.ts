/**
 * Group commit, shared by both adapters. Writes (appends and snapshots) are queued in call
 * order; one transaction at a time takes everything queued so far. Writes that arrive while
 * a transaction is in flight wait and go together in the next one, so a burst of commands
 * costs a few fsyncs instead of one each. Every caller is answered only after the
 * transaction holding its write has committed.
 *
 * The first flush waits for the next turn of the event loop (setImmediate): requests handled
 * in the same turn then share the first transaction, and a synchronous driver (better-sqlite3)
 * gets groups at all.
 */
import { performance } from 'node:perf_hooks';
import type { SealedEvent } from '../core/ledger/ledger.ts';
import { StoreClosedError, StoreFailedError, StoreOverloadedError } from './errors.ts';
import { toRecord } from './record.ts';
import type { CommitInfo, EventRecord, SnapshotRecord } from './store.ts';

/** What one transaction writes: events in order, then the newest snapshot queued with them. */
export interface CommitGroup {
  readonly events: readonly EventRecord[];
  readonly snapshot: SnapshotRecord | null;
}

/** Writes one group in one transaction; resolves once it is durable. Never called concurrently. */
export type CommitFn = (group: CommitGroup) => Promise<void>;

export interface GroupCommitOptions {
  /** Bound on events (a snapshot counts as one) accepted and not yet durable. */
  readonly maxPendingEvents: number;
  /** Seq of the newest stored snapshot when the store opened. */
  readonly snapshotSeq: number;
  readonly onCommit?: (commit: CommitInfo) => void;
}

interface Write extends CommitGroup {
  readonly size: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommitQueue {
  private queued: Write[] = [];
  /** Size of the queued writes plus the group in flight: what the bound applies to. */
  private pendingSize = 0;
  /** Settles when the queue has drained; null while idle. */
  private flushing: Promise<void> | null = null;
  private failure: StoreFailedError | null = null;
  private closed = false;
  private latestSnapshotSeq: number;

  constructor(
    private readonly commit: CommitFn,
    private readonly options: GroupCommitOptions,
  ) {
    if (!Number.isSafeInteger(options.maxPendingEvents) || options.maxPendingEvents < 1) {
      throw new RangeError(`maxPendingEvents must be a positive integer, got ${options.maxPendingEvents}`);
    }
    this.latestSnapshotSeq = options.snapshotSeq;
  }

  append(events: readonly SealedEvent[]): Promise<void> {
    return this.enqueue(() => ({ events: events.map(toRecord), snapshot: null }));
  }

  saveSnapshot(snapshot: SnapshotRecord): Promise<void> {
    return this.enqueue(() => ({ events: [], snapshot }));
  }

  snapshotSeq(): number {
    return this.latestSnapshotSeq;
  }

  pendingEvents(): number {
    return this.pendingSize;
  }

  /** Stops intake and waits until everything queued has been committed (or has failed). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing !== null) await this.flushing;
  }

  /** Takes the write's place in the commit order now; a refusal is a rejected promise, never a throw. */
  private enqueue(build: () => CommitGroup): Promise<void> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    if (this.failure !== null) return Promise.reject(this.failure);
    let group: CommitGroup;
    try {
      group = build();
    } catch (error) {
      return Promise.reject(error);
    }
    const size = group.events.length + (group.snapshot === null ? 0 : 1);
    if (this.pendingSize + size > this.options.maxPendingEvents) {
      return Promise.reject(new StoreOverloadedError(this.pendingSize, size, this.options.maxPendingEvents));
    }
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ ...group, size, resolve, reject });
      this.pendingSize += size;
      if (group.snapshot !== null) this.latestSnapshotSeq = Math.max(this.latestSnapshotSeq, group.snapshot.seq);
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushing !== null) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  private async drain(): Promise<void> {
    while (this.queued.length > 0) {
      const writes = this.queued;
      this.queued = [];
      await this.commitWrites(writes);
    }
    // Cleared in the same synchronous step as the emptiness check, so an append made after
    // it always schedules a new flush.
    this.flushing = null;
  }

  private async commitWrites(writes: readonly Write[]): Promise<void> {
    const group = mergeWrites(writes);
    const startedMs = performance.now();
    try {
      await this.commit(group);
    } catch (error) {
      this.release(writes);
      this.fail(error, writes);
      return;
    }
    this.release(writes);
    this.reportCommit({ events: group.events.length, writes: writes.length, durationMs: performance.now() - startedMs });
    for (const write of writes) write.resolve();
  }

  /** The group's callers get the cause; everyone queued behind it, and every later append, the stop. */
  private fail(cause: unknown, writes: readonly Write[]): void {
    this.failure = new StoreFailedError(cause);
    for (const write of writes) write.reject(cause);
    for (const write of this.queued) write.reject(this.failure);
    this.release(this.queued);
    this.queued = [];
  }

  /** Answered writes no longer count against the bound (done before answering, so callers see it). */
  private release(writes: readonly Write[]): void {
    for (const write of writes) this.pendingSize -= write.size;
  }

  /** A metrics hook that throws must not wedge the log: it is reported, not propagated. */
  private reportCommit(info: CommitInfo): void {
    try {
      this.options.onCommit?.(info);
    } catch (error) {
      console.error('event store: onCommit hook threw', error);
    }
  }
}

function mergeWrites(writes: readonly Write[]): CommitGroup {
  let snapshot: SnapshotRecord | null = null;
  for (const write of writes) if (write.snapshot !== null) snapshot = write.snapshot;
  return { events: writes.flatMap((write) => write.events), snapshot };
}
