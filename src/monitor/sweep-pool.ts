/**
 * Full exact sweeps across worker threads. Workers start on first use and stay (unreferenced,
 * so they never keep the process alive). A sweep is synchronous for the caller: the main
 * thread posts one task to each worker it uses and waits on a shared counter (Atomics.wait)
 * until all have answered, so nothing changes under the workers while they read the index's
 * shared columns; the index is single-writer and the writer is blocked.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { CONTROL, CONTROL_CELLS, type FlaggedHealth, type SweepReply, type SweepTask } from './sweep-protocol.ts';

/** Slots per chunk a worker takes at a time: small enough to balance, large enough to be cheap. */
const CHUNK_SLOTS = 4096;
const START_TIMEOUT_MS = 120_000;
/** A sweep of millions of accounts takes seconds; a worker silent for this long is stuck. */
const SWEEP_TIMEOUT_MS = 600_000;

interface PooledWorker {
  readonly worker: Worker;
  readonly port: MessagePort;
}

export interface SweepOutcome {
  /** One byte per slot (sweep-protocol.ts). */
  readonly result: Uint8Array;
  readonly flagged: readonly FlaggedHealth[];
}

export class SweepPool {
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_CELLS * 4));
  private readonly workers: PooledWorker[] = [];
  private nextTaskId = 1;

  /** Values slots [0, slotCount) on `workerCount` workers. */
  run(task: Omit<SweepTask, 'id' | 'chunkSlots' | 'result'>, workerCount: number): SweepOutcome {
    if (!Number.isSafeInteger(workerCount) || workerCount < 1) throw new RangeError(`monitor: bad sweep worker count ${workerCount}`);
    this.start(workerCount);
    const result = new Uint8Array(new SharedArrayBuffer(Math.max(1, task.slotCount)));
    const id = this.nextTaskId++;
    Atomics.store(this.control, CONTROL.nextChunk, 0);
    Atomics.store(this.control, CONTROL.done, 0);
    const used = this.workers.slice(0, workerCount);
    for (const { port } of used) port.postMessage({ ...task, id, chunkSlots: CHUNK_SLOTS, result } satisfies SweepTask);
    this.waitFor(CONTROL.done, used.length, SWEEP_TIMEOUT_MS, 'sweep');
    const flagged: FlaggedHealth[] = [];
    for (const { port } of used) {
      const reply = receiveMessageOnPort(port)?.message as SweepReply | undefined;
      if (reply === undefined || reply.id !== id) throw new Error('monitor: a sweep worker did not answer its task');
      if (reply.error !== undefined) throw new Error(`monitor: sweep worker failed: ${reply.error}`);
      for (const item of reply.flagged) flagged.push(item);
    }
    return { result, flagged };
  }

  get size(): number {
    return this.workers.length;
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map(({ worker, port }) => {
      port.close();
      return worker.terminate();
    }));
  }

  private start(count: number): void {
    const missing = count - this.workers.length;
    if (missing <= 0) return;
    const readyBefore = Atomics.load(this.control, CONTROL.ready);
    for (let index = 0; index < missing; index++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(new URL('./sweep-worker.js', import.meta.url), {
        workerData: { control: this.control, port: port2 },
        transferList: [port2],
      });
      worker.unref();
      this.workers.push({ worker, port: port1 });
    }
    this.waitFor(CONTROL.ready, readyBefore + missing, START_TIMEOUT_MS, 'start');
  }

  /** Blocks until control[cell] reaches `target`; throws after `timeoutMs` without progress. */
  private waitFor(cell: number, target: number, timeoutMs: number, what: string): void {
    for (;;) {
      const seen = Atomics.load(this.control, cell);
      if (seen >= target) return;
      if (Atomics.wait(this.control, cell, seen, timeoutMs) === 'timed-out') {
        throw new Error(`monitor: sweep workers did not ${what} within ${timeoutMs} ms (${seen} of ${target})`);
      }
    }
  }
}
