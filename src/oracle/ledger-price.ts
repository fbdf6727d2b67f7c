/**
 * The one way a guarded oracle price reaches the ledger (the service's price bridge and the
 * simulator's feeder both use it): a `price` command carrying spot, confidence, stable and
 * mark prices and the guards' verdict, or nothing when the ledger already holds exactly that.
 */
import type { PriceCommand } from '../core/ledger/commands.ts';
import type { LedgerState } from '../core/ledger/state.ts';
import type { GuardedPrice } from './oracle.ts';

export function priceCommandFor(state: LedgerState, price: GuardedPrice, idempotencyKey: string): PriceCommand | null {
  const current = state.prices.get(price.asset);
  const unchanged =
    current !== undefined &&
    current.priceWad === price.priceWad &&
    current.confidenceWad === price.confidenceWad &&
    current.stablePriceWad === price.stablePriceWad &&
    current.markPriceWad === price.markPriceWad &&
    state.unhealthyPrices.has(price.asset) === !price.healthy;
  if (unchanged) return null;
  return {
    kind: 'price',
    idempotencyKey,
    asset: price.asset,
    priceWad: price.priceWad,
    confidenceWad: price.confidenceWad,
    stablePriceWad: price.stablePriceWad,
    markPriceWad: price.markPriceWad,
    healthy: price.healthy,
    reasons: price.reasons,
  };
}
