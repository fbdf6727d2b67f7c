/**
 * The liquidation history the API serves: each liquidation with its steps, prices, healths
 * and a plain-words explanation, built from durable events (and from the log at start-up).
 * Bounded: the newest `max` are kept in memory; older ones stay in the event log.
 */
import type { RiskConfig } from '../core/config.ts';
import { isLiquidationStep, type LiquidationCompleted, type LiquidationStepEventType } from '../core/ledger/events.ts';
import type { SealedEvent } from '../core/ledger/ledger.ts';
import { explainLiquidation } from '../core/liquidation/explain.ts';

export interface LiquidationRecord {
  readonly seq: number;
  readonly steps: readonly LiquidationStepEventType[];
  readonly completed: LiquidationCompleted;
  readonly explanation: string;
}


export class LiquidationHistory {
  private readonly records: LiquidationRecord[] = [];
  total = 0;

  constructor(private readonly max = 10_000) {}

  /** Adds the liquidations among one command's events; returns the new records. */
  add(events: readonly SealedEvent[], config: RiskConfig): LiquidationRecord[] {
    const added: LiquidationRecord[] = [];
    let steps: LiquidationStepEventType[] = [];
    for (const { event, seq } of events) {
      if (isLiquidationStep(event)) steps.push(event);
      if (event.type !== 'LiquidationCompleted') continue;
      const record = { seq, steps, completed: event, explanation: explainLiquidation(steps, event, config) };
      this.records.push(record);
      added.push(record);
      steps = [];
      this.total += 1;
    }
    if (this.records.length > this.max) this.records.splice(0, this.records.length - this.max);
    return added;
  }

  /** Newest first, optionally only those with seq < `before`, at most `limit`. */
  list(limit: number, before?: number, account?: string): LiquidationRecord[] {
    const result: LiquidationRecord[] = [];
    for (let index = this.records.length - 1; index >= 0 && result.length < limit; index -= 1) {
      const record = this.records[index];
      if (record === undefined) continue;
      if (before !== undefined && record.seq >= before) continue;
      if (account !== undefined && record.completed.account !== account) continue;
      result.push(record);
    }
    return result;
  }
}
