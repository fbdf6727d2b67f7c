import { describe, expect, it } from 'vitest';
import { WAD } from './fixed.ts';
import { parsePriceBook, priceHigh, priceLow, withPrice, type PriceBook } from './prices.ts';

function fieldsOf(json: unknown): string[] {
  const result = parsePriceBook(json);
  return result.ok ? [] : result.error.map((issue) => issue.field);
}

function book(json: unknown): PriceBook {
  const result = parsePriceBook(json);
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

describe('parsePriceBook: accepted books', () => {
  it('reads the DESIGN.md example: string form and object form', () => {
    const prices = book({ ETH: '3000.12', USDC: { price: '1', confidence: '0.0005' } });
    expect([...prices.keys()]).toEqual(['ETH', 'USDC']);
    // string form: the price alone, confidence 0
    expect(prices.get('ETH')).toEqual({ priceWad: 3_000_120_000_000_000_000_000n, confidenceWad: 0n });
    // object form: 0.0005 = 5e14 wei of a wad
    expect(prices.get('USDC')).toEqual({ priceWad: WAD, confidenceWad: 500_000_000_000_000n });
  });

  it.each([
    ['object form without confidence', { BTC: { price: '63000' } }, { priceWad: 63_000n * WAD, confidenceWad: 0n }],
    ['explicit zero confidence', { BTC: { price: '63000', confidence: '0' } }, { priceWad: 63_000n * WAD, confidenceWad: 0n }],
    ['smallest price, one wei', { DUST: '0.000000000000000001' }, { priceWad: 1n, confidenceWad: 0n }],
    ['confidence wider than the price', { X: { price: '1', confidence: '2' } }, { priceWad: WAD, confidenceWad: 2n * WAD }],
  ])('%s', (_name, json, expected) => {
    const prices = book(json);
    expect([...prices.values()]).toEqual([expected]);
  });

  it('an empty object is an empty book', () => {
    expect(book({}).size).toBe(0);
  });
});

describe('parsePriceBook: rejected books, reported at the field', () => {
  it.each([
    ['zero price, string form', { ETH: '0' }, ['ETH']],
    ['negative price, string form', { ETH: '-3000' }, ['ETH']],
    ['zero price, object form', { ETH: { price: '0' } }, ['ETH.price']],
    ['negative price, object form', { ETH: { price: '-1', confidence: '0' } }, ['ETH.price']],
    ['negative confidence', { USDC: { price: '1', confidence: '-0.0005' } }, ['USDC.confidence']],
    ['unknown field in the object form', { USDC: { price: '1', conf: '0.1' } }, ['USDC.conf']],
    ['price missing from the object form', { USDC: { confidence: '0.1' } }, ['USDC.price']],
    ['price as a JSON number', { ETH: 3000.12 }, ['ETH']],
    ['price as a JSON number in the object form', { ETH: { price: 3000 } }, ['ETH.price']],
    ['confidence as a JSON number', { ETH: { price: '3000', confidence: 1 } }, ['ETH.confidence']],
    ['exponent notation', { ETH: '3e3' }, ['ETH']],
    ['NaN', { ETH: 'NaN' }, ['ETH']],
    ['Infinity', { ETH: 'Infinity' }, ['ETH']],
    ['leading +', { ETH: '+3000' }, ['ETH']],
    ['empty string', { ETH: '' }, ['ETH']],
    ['more than 18 decimals', { ETH: '1.0000000000000000001' }, ['ETH']],
    ['null', { ETH: null }, ['ETH']],
    ['invalid asset id', { 'E T H': '3000' }, ['E T H']],
    ['two bad prices, both reported', { ETH: '0', BTC: { price: '1', confidence: '-1' } }, ['ETH', 'BTC.confidence']],
  ])('%s', (_name, json, fields) => {
    expect(fieldsOf(json)).toEqual(fields);
  });

  it.each([[[]], [null], ['prices'], [42]])('rejects %j at the root', (json) => {
    expect(fieldsOf(json)).toEqual(['']);
  });

  it('tells a user who wrote a JSON number price that a decimal string is expected', () => {
    // DESIGN.md: JSON numbers are rejected "with a clear error naming the field". A price may be
    // a string or an object, so "must be an object, got 3000.12" sends the user the wrong way.
    const result = parsePriceBook({ ETH: 3000.12 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error[0]?.message, 'message for a JSON number price').toMatch(/string/);
  });

  it('says why a price was rejected', () => {
    const result = parsePriceBook({ ETH: '0' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error[0]?.message).toContain('(0, ∞)');
  });
});

describe('price_low and price_high', () => {
  it('move the price by the confidence, against the account', () => {
    const usdc = { priceWad: WAD, confidenceWad: 500_000_000_000_000n };
    expect(priceLow(usdc)).toBe(999_500_000_000_000_000n); // 1 − 0.0005
    expect(priceHigh(usdc)).toBe(1_000_500_000_000_000_000n); // 1 + 0.0005
  });

  it('price_low never goes below zero', () => {
    expect(priceLow({ priceWad: WAD, confidenceWad: 2n * WAD })).toBe(0n);
  });
});

describe('withPrice', () => {
  it('scales the confidence in proportion to the move', () => {
    // ETH 2000 ± 1 moved to 3000: ± 1 × 3000 / 2000 = ± 1.5
    const before = book({ ETH: { price: '2000', confidence: '1' }, USDC: '1' });
    const after = withPrice(before, 'ETH', 3000n * WAD);
    expect(after.get('ETH')).toEqual({ priceWad: 3000n * WAD, confidenceWad: 1_500_000_000_000_000_000n });
    expect(after.get('USDC')).toEqual(before.get('USDC'));
  });

  it('rounds the scaled confidence up (the wider side)', () => {
    // 3 ± 1 moved to 1: ± 1/3 = 0.333…3|33… → rounded up to …334
    const after = withPrice(book({ X: { price: '3', confidence: '1' } }), 'X', WAD);
    expect(after.get('X')).toEqual({ priceWad: WAD, confidenceWad: 333_333_333_333_333_334n });
  });

  it('keeps a zero confidence at zero, and gives an unknown asset zero confidence', () => {
    const before = book({ ETH: '2000' });
    expect(withPrice(before, 'ETH', 10n * WAD).get('ETH')).toEqual({ priceWad: 10n * WAD, confidenceWad: 0n });
    expect(withPrice(before, 'BTC', 5n * WAD).get('BTC')).toEqual({ priceWad: 5n * WAD, confidenceWad: 0n });
  });

  it('leaves the original book unchanged', () => {
    const before = book({ ETH: { price: '2000', confidence: '1' } });
    withPrice(before, 'ETH', 1n);
    withPrice(before, 'BTC', 1n);
    expect(before.get('ETH')).toEqual({ priceWad: 2000n * WAD, confidenceWad: WAD });
    expect(before.has('BTC')).toBe(false);
  });
});
