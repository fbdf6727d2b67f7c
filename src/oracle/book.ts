/**
 * Guarded prices as the core takes them: spot and confidence, the stable price that initial
 * margin uses (the less favourable of spot and stable), and the mark price perps use.
 * Whether the price may be used at all (`healthy`) travels beside it, in the ledger's price
 * command.
 */
import type { Price, PriceBook } from '../core/prices.ts';
import type { GuardedPrice } from './oracle.ts';

export function corePrice(price: GuardedPrice): Price {
  return {
    priceWad: price.priceWad,
    confidenceWad: price.confidenceWad,
    stablePriceWad: price.stablePriceWad,
    markPriceWad: price.markPriceWad,
  };
}

export function corePriceBook(prices: Iterable<GuardedPrice>): PriceBook {
  const book = new Map<string, Price>();
  for (const price of prices) book.set(price.asset, corePrice(price));
  return book;
}
