/**
 * From sources to the ledger: updates go through the oracle's guards and aggregation; when an
 * asset's guarded price (or its health) changes, the ledger records it with a price command.
 * A periodic sweep catches prices that go stale with no update at all.
 */
import { priceCommandFor } from '../oracle/ledger-price.ts';
import type { Oracle, PriceUpdate } from '../oracle/oracle.ts';
import type { Engine } from './engine.ts';

export type PushResult =
  | { readonly asset: string; readonly status: 'rejected'; readonly reasons: readonly { code: string; message: string }[] }
  | { readonly asset: string; readonly status: 'accepted'; readonly healthy: boolean; readonly reasons: readonly string[] };

export class PriceBridge {
  constructor(
    private readonly oracle: Oracle,
    private readonly engine: Engine,
    private readonly clock: () => number,
  ) {}

  /** Submits a source's updates, in order; each gets its own outcome. */
  async push(updates: readonly PriceUpdate[]): Promise<PushResult[]> {
    const results: PushResult[] = [];
    for (const update of updates) {
      const outcome = this.oracle.submit(update, this.clock());
      if (outcome.status === 'rejected') {
        results.push({ asset: outcome.asset, status: 'rejected', reasons: outcome.reasons });
        continue;
      }
      const recorded = await this.record(outcome.asset);
      results.push({ asset: outcome.asset, status: 'accepted', healthy: recorded.healthy, reasons: recorded.reasons });
    }
    return results;
  }

  /** Records every asset whose health the ledger does not know yet (staleness without updates). */
  async sweep(): Promise<void> {
    for (const status of this.oracle.status(this.clock())) {
      if (status.price === undefined) continue;
      const known = this.engine.ledger.state.unhealthyPrices.has(status.asset);
      if (known === !status.healthy) continue;
      await this.record(status.asset);
    }
  }

  private async record(asset: string): Promise<{ healthy: boolean; reasons: readonly string[] }> {
    const guarded = this.oracle.guarded(asset, this.clock());
    if (!guarded.ok) return { healthy: false, reasons: [guarded.error.code] };
    const price = guarded.value;
    const ledger = this.engine.ledger;
    const command = priceCommandFor(ledger.state, price, `price:${asset}:${ledger.headSeq + 1}`);
    if (command !== null) await this.engine.submit(command);
    return { healthy: price.healthy, reasons: price.reasons };
  }
}
