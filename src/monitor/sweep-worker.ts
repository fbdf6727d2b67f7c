/**
 * A sweep worker: values a share of the index's slots exactly, from the index's shared
 * columns, with the core's own `accountView` and `evaluateAccount`, and writes each slot's
 * zone mask into a shared result column. Slots are taken a chunk at a time from a shared
 * counter, so workers balance themselves. Started by sweep-pool.ts.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { evaluateAccount } from '../core/health.ts';
import { accountView, createLedgerState } from '../core/ledger/state.ts';
import { decodeRecord } from './risk-index.ts';
import { CONTROL, RESULT_UNVALUED, RESULT_WIDE, type FlaggedHealth, type SweepReply, type SweepTask } from './sweep-protocol.ts';
import { exactMask, LIQUIDATABLE, WARNING } from './thresholds.ts';

const { control, port } = workerData as { control: Int32Array; port: MessagePort };

port.on('message', (task: SweepTask) => {
  let reply: SweepReply;
  try {
    reply = { id: task.id, flagged: sweepChunks(task) };
  } catch (error) {
    reply = { id: task.id, flagged: [], error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
  Atomics.add(control, CONTROL.done, 1);
  Atomics.notify(control, CONTROL.done);
});

Atomics.add(control, CONTROL.ready, 1);
Atomics.notify(control, CONTROL.ready);

function sweepChunks(task: SweepTask): FlaggedHealth[] {
  const state = createLedgerState(task.config, null);
  state.prices = task.prices;
  state.assets = task.assets;
  state.markets = task.markets;
  const flagged: FlaggedHealth[] = [];
  for (;;) {
    const from = Atomics.add(control, CONTROL.nextChunk, 1) * task.chunkSlots;
    if (from >= task.slotCount) return flagged;
    const to = Math.min(from + task.chunkSlots, task.slotCount);
    for (let slot = from; slot < to; slot++) {
      const record = decodeRecord(task.columns, slot, '', task.assetIds, task.marketIds);
      if (record === null) {
        task.result[slot] = RESULT_WIDE;
        continue;
      }
      const health = evaluateAccount(accountView(state, record), state.prices, state.config);
      if (!health.ok) {
        task.result[slot] = RESULT_UNVALUED;
        continue;
      }
      const mask = exactMask(health.value.maintenance, task.thresholds);
      task.result[slot] = mask;
      const needed = (mask & (LIQUIDATABLE | WARNING)) !== 0 && (task.decided[slot] !== mask || task.stale[slot] === 1);
      if (needed) flagged.push({ slot, initial: health.value.initial, maintenance: health.value.maintenance });
    }
  }
}
