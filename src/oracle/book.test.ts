import { describe, expect, it } from 'vitest';
import { priceHigh, priceLow } from '../core/prices.ts';
import { priceBookForLevel, priceForLevel } from './book.ts';
import type { GuardedPrice } from './oracle.ts';
import { T0, wad } from './testing.ts';

const guarded = (spot: string, stable: string, confidence = '0'): GuardedPrice => ({
  asset: 'ETH',
  priceWad: wad(spot),
  confidenceWad: wad(confidence),
  stablePriceWad: wad(stable),
  markPriceWad: wad(spot),
  healthy: true,
  reasons: [],
  updatedAtMs: T0,
});

describe('priceForLevel', () => {
  it('maintenance uses the spot aggregate as it is', () => {
    expect(priceForLevel(guarded('110', '100', '1'), 'maintenance')).toEqual({ priceWad: wad('110'), confidenceWad: wad('1') });
  });

  it.each([
    ['after a pump (spot above stable)', '110', '100', '1', '99', '111'],
    ['after a crash (spot below stable)', '90', '100', '1', '89', '101'],
    ['spot equal to stable', '100', '100', '1', '99', '101'],
    ['no confidence', '110', '100', '0', '100', '110'],
  ])('initial, %s: holdings at min(spot, stable) − conf, debts at max(spot, stable) + conf', (_name, spot, stable, confidence, low, high) => {
    const price = priceForLevel(guarded(spot, stable, confidence), 'initial');
    expect(priceLow(price)).toBe(wad(low));
    expect(priceHigh(price)).toBe(wad(high));
  });

  it('an odd interval width rounds the centre down: the low end gets one wei to spare, against the account', () => {
    const price = priceForLevel({ ...guarded('1', '1'), priceWad: 4n, stablePriceWad: 1n }, 'initial');
    expect(price).toEqual({ priceWad: 2n, confidenceWad: 2n }); // interval [1, 4] → centre 2, half-width 2
    expect(priceLow(price)).toBe(0n); // ≤ 1: never above min(spot, stable)
    expect(priceHigh(price)).toBe(4n);
  });

  it('a confidence wider than the lower price values holdings at zero', () => {
    const price = priceForLevel(guarded('100', '10', '20'), 'initial');
    expect(priceLow(price)).toBe(0n);
    expect(priceHigh(price)).toBe(wad('120'));
  });
});

describe('priceBookForLevel', () => {
  it('keys the book by asset', () => {
    const book = priceBookForLevel([guarded('110', '100'), { ...guarded('1', '1'), asset: 'USDC' }], 'initial');
    expect([...book.keys()]).toEqual(['ETH', 'USDC']);
    expect(book.get('USDC')).toEqual({ priceWad: wad('1'), confidenceWad: 0n });
  });
});
