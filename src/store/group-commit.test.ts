/**
 * The group commit queue alone, with a commit function the test controls: what is grouped
 * with what, when callers are answered, and how a failure stops the queue. The same queue
 * under both real adapters is exercised by store.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { parseRiskConfig } from '../core/config.ts';
import { Ledger, type SealedEvent } from '../core/ledger/ledger.ts';
import { StoreClosedError, StoreFailedError } from './errors.ts';
import { GroupCommitQueue, type CommitGroup } from './group-commit.ts';

const RISK_JSON = { quote: 'USDC', assets: [], markets: [] };

/** `count` single-event commands, sealed in order. */
function sealedEvents(count: number): SealedEvent[][] {
  const parsed = parseRiskConfig(RISK_JSON);
  if (!parsed.ok) throw new Error('invalid config');
  const ledger = Ledger.create(parsed.value, RISK_JSON);
  return Array.from({ length: count }, (_, index) => {
    const outcome = ledger.execute({
      kind: 'price',
      idempotencyKey: `p${index}`,
      asset: 'USDC',
      priceWad: 10n ** 18n,
      confidenceWad: 0n,
    });
    if (!outcome.ok) throw new Error('refused');
    return [...outcome.value.events];
  });
}

/** A commit function whose transactions finish only when the test says so. */
function controlledCommit() {
  const groups: CommitGroup[] = [];
  const finishers: ((error?: Error) => void)[] = [];
  const commit = (group: CommitGroup): Promise<void> => {
    groups.push(group);
    return new Promise((resolve, reject) => finishers.push((error) => (error === undefined ? resolve() : reject(error))));
  };
  return { commit, groups, finish: (index: number, error?: Error) => finishers[index]?.(error) };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommitQueue', () => {
  it('commits appends made while a transaction is in flight together in the next one', async () => {
    const { commit, groups, finish } = controlledCommit();
    const queue = new GroupCommitQueue(commit, { maxPendingEvents: 100, snapshotSeq: 0 });
    const [a, b, c, d] = sealedEvents(4);
    const answered: string[] = [];
    const first = queue.append(a!).then(() => answered.push('a'));
    await nextTurn();
    expect(groups.map((group) => group.events.map((event) => event.seq))).toEqual([[1]]);

    const rest = [queue.append(b!), queue.append(c!), queue.append(d!)].map((promise, index) =>
      promise.then(() => answered.push('bcd'[index]!)),
    );
    await nextTurn();
    expect(groups).toHaveLength(1); // b, c, d wait for the transaction in flight
    expect(answered).toEqual([]);
    expect(queue.pendingEvents()).toBe(4);

    finish(0);
    await first;
    await vi.waitFor(() => expect(groups).toHaveLength(2));
    expect(groups[1]!.events.map((event) => event.seq)).toEqual([2, 3, 4]);
    expect(answered).toEqual(['a']);

    finish(1);
    await Promise.all(rest);
    expect(answered).toEqual(['a', 'b', 'c', 'd']);
    expect(queue.pendingEvents()).toBe(0);
  });

  it('writes the newest snapshot of a group after its events', async () => {
    const { commit, groups, finish } = controlledCommit();
    const queue = new GroupCommitQueue(commit, { maxPendingEvents: 100, snapshotSeq: 0 });
    const [a, b] = sealedEvents(2);
    const writes = [
      queue.append(a!),
      queue.saveSnapshot({ seq: 1, hash: a![0]!.hash, text: 'one' }),
      queue.append(b!),
      queue.saveSnapshot({ seq: 2, hash: b![0]!.hash, text: 'two' }),
    ];
    expect(queue.snapshotSeq()).toBe(2);
    await nextTurn();
    finish(0);
    await Promise.all(writes);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.events.map((event) => event.seq)).toEqual([1, 2]);
    expect(groups[0]!.snapshot?.text).toBe('two');
  });

  it('after a failed commit, rejects its callers with the cause and everyone after with the stop', async () => {
    const { commit, finish } = controlledCommit();
    const queue = new GroupCommitQueue(commit, { maxPendingEvents: 100, snapshotSeq: 0 });
    const [a, b, c] = sealedEvents(3);
    const failing = queue.append(a!);
    await nextTurn();
    const behind = queue.append(b!);
    finish(0, new Error('disk full'));

    await expect(failing).rejects.toThrow('disk full');
    await expect(behind).rejects.toThrow(StoreFailedError);
    await expect(queue.append(c!)).rejects.toThrow('event log stopped after a failed commit (disk full)');
    expect(queue.pendingEvents()).toBe(0);
    await queue.close();
  });

  it('close waits for what is queued, then refuses', async () => {
    const { commit, finish } = controlledCommit();
    const queue = new GroupCommitQueue(commit, { maxPendingEvents: 100, snapshotSeq: 0 });
    const [a, b] = sealedEvents(2);
    const queued = queue.append(a!);
    let closed = false;
    const closing = queue.close().then(() => (closed = true));
    await expect(queue.append(b!)).rejects.toThrow(StoreClosedError);
    await nextTurn();
    expect(closed).toBe(false);
    finish(0);
    await closing;
    await queued;
  });

  it('a throwing onCommit hook is reported and does not wedge the queue', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const queue = new GroupCommitQueue(async () => undefined, {
      maxPendingEvents: 100,
      snapshotSeq: 0,
      onCommit: () => {
        throw new Error('metrics broke');
      },
    });
    const [a, b] = sealedEvents(2);
    await queue.append(a!);
    await queue.append(b!);
    expect(errors).toHaveBeenCalledTimes(2);
    errors.mockRestore();
  });
});
