/**
 * Guarded prices as the core's price books, one per margin level.
 *
 * The core values holdings at price − confidence and debts at price + confidence (prices.ts).
 * - Maintenance uses the spot aggregate as it is.
 * - Initial uses the less favourable of spot and stable price: holdings at
 *   min(spot, stable) − confidence, debts at max(spot, stable) + confidence. The core takes
 *   one interval per asset, so the initial price is the interval that encloses both ends:
 *   centre ⌊(low + high) / 2⌋, half-width high − centre. Rounding the centre down makes the
 *   half-width cover the low end with up to one wei to spare: against the account, as it
 *   should be.
 *
 * Until the core takes a stable price itself, a caller computes initial health with the
 * initial book and maintenance health with the maintenance book. A perp's PnL and margin use
 * the book's price as its mark; `markPriceWad` waits for the core to take a separate mark.
 */
import type { Level } from '../core/config.ts';
import { divDown, max, min } from '../core/fixed.ts';
import type { Price, PriceBook } from '../core/prices.ts';
import type { GuardedPrice } from './oracle.ts';

export function priceForLevel(price: GuardedPrice, level: Level): Price {
  if (level === 'maintenance') return { priceWad: price.priceWad, confidenceWad: price.confidenceWad };
  // A confidence wider than the lower price values the holding at zero, as the core would.
  const lowWad = max(0n, min(price.priceWad, price.stablePriceWad) - price.confidenceWad);
  const highWad = max(price.priceWad, price.stablePriceWad) + price.confidenceWad;
  const centreWad = divDown(lowWad + highWad, 2n);
  return { priceWad: centreWad, confidenceWad: highWad - centreWad };
}

/**
 * The book of `level` from guarded prices. Unhealthy prices are included as they are: the
 * caller decides what an unhealthy price blocks (liquidations, risk-increasing commands)
 * and must check `healthy` before acting.
 */
export function priceBookForLevel(prices: Iterable<GuardedPrice>, level: Level): PriceBook {
  const book = new Map<string, Price>();
  for (const price of prices) book.set(price.asset, priceForLevel(price, level));
  return book;
}
