import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateQuotes, dispersionWad, freshQuotes, MAD_TO_SIGMA_WAD, medianDown, medianUp, type SourceQuote } from './aggregate.ts';
import { MINUTE, T0, wad } from './testing.ts';

const quote = (source: string, price: string, confidence = '0', timestampMs = T0): SourceQuote => ({
  source,
  priceWad: wad(price),
  confidenceWad: wad(confidence),
  timestampMs,
});

describe('medians', () => {
  it.each([
    [[5n], 5n, 5n],
    [[3n, 1n, 2n], 2n, 2n],
    [[1n, 2n], 1n, 2n], // (1 + 2) / 2 = 1.5: down 1, up 2
    [[4n, 1n, 3n, 2n], 2n, 3n],
    [[-3n, -1n], -2n, -2n],
    [[-2n, -1n], -2n, -1n], // −1.5: down is towards −∞
  ])('median of %s: down %s, up %s', (values, down, up) => {
    expect(medianDown(values)).toBe(down);
    expect(medianUp(values)).toBe(up);
  });

  it('a median of nothing is a bug', () => {
    expect(() => medianDown([])).toThrow(RangeError);
  });
});

describe('aggregateQuotes: median price, confidence = max(1.4826 × MAD, median own confidence)', () => {
  it('one source: its own price and confidence', () => {
    expect(aggregateQuotes([quote('a', '3000', '1.5')])).toEqual({ priceWad: wad('3000'), confidenceWad: wad('1.5'), sourceCount: 1 });
  });

  it('three agreeing sources: the middle price, the median of their confidences', () => {
    const aggregate = aggregateQuotes([quote('a', '100', '0.1'), quote('b', '100', '0.3'), quote('c', '100', '0.2')]);
    expect(aggregate).toEqual({ priceWad: wad('100'), confidenceWad: wad('0.2'), sourceCount: 3 });
  });

  it('disagreeing sources: the dispersion wins when it is wider', () => {
    // 99, 100, 102: median 100, deviations 1, 0, 2 → MAD 1 → 1.4826
    const aggregate = aggregateQuotes([quote('a', '99', '0.1'), quote('b', '100', '0.1'), quote('c', '102', '0.1')]);
    expect(aggregate.priceWad).toBe(wad('100'));
    expect(aggregate.confidenceWad).toBe(wad('1.4826'));
  });

  it('two sources: the mean, and a confidence that covers both (0.74 × their distance)', () => {
    const aggregate = aggregateQuotes([quote('a', '100'), quote('b', '101')]);
    expect(aggregate.priceWad).toBe(wad('100.5'));
    expect(aggregate.confidenceWad).toBe(wad('0.7413')); // 1.4826 × 0.5
  });

  it('rounds the dispersion up (a confidence only counts against the account)', () => {
    // deviations of 1 wei and 0: MAD rounds to 1 wei, × 1.4826 = 1.4826 wei → 2 wei
    expect(dispersionWad([1n, 2n, 3n], 2n)).toBe(2n);
    expect(dispersionWad([7n, 7n, 7n], 7n)).toBe(0n);
    expect(MAD_TO_SIGMA_WAD).toBe(wad('1.4826'));
  });
});

describe('the outlier case: one of three sources prints ETH 190% above the others for one tick', () => {
  // 13 March 2020: ETH traded around $110-130 while one public data set printed a 190% spike.
  const normal = [quote('binance', '110.10', '0.05'), quote('coinbase', '110.20', '0.05')];

  it('the median ignores it, and the confidence stays narrow', () => {
    const spike = quote('thin-venue', '319.29', '0.05'); // 110.10 × 2.9
    const aggregate = aggregateQuotes([...normal, spike]);
    expect(aggregate.priceWad).toBe(wad('110.20'));
    // deviations 0.10, 0, 209.09 → MAD 0.10 → 0.14826: the spike does not widen it
    expect(aggregate.confidenceWad).toBe(wad('0.14826'));
  });

  it('whichever source prints it, and in whatever order', () => {
    for (const order of [[0, 1, 2], [2, 0, 1], [1, 2, 0]]) {
      const quotes = [normal[0]!, normal[1]!, quote('x', '319.29', '0.05')];
      expect(aggregateQuotes(order.map((i) => quotes[i]!)).priceWad).toBe(wad('110.20'));
    }
  });
});

describe('freshQuotes', () => {
  it('keeps quotes no older than max age, including one slightly ahead of the clock', () => {
    const quotes = [quote('a', '1', '0', T0 - MINUTE), quote('b', '1', '0', T0 - MINUTE - 1), quote('c', '1', '0', T0 + 500)];
    expect(freshQuotes(quotes, T0, MINUTE).map((q) => q.source)).toEqual(['a', 'c']);
  });
});

describe('aggregateQuotes: properties', () => {
  const quotes = fc.array(
    fc.record({ price: fc.bigInt({ min: 1n, max: 10n ** 30n }), confidence: fc.bigInt({ min: 0n, max: 10n ** 27n }) }),
    { minLength: 1, maxLength: 9 },
  );
  const asQuotes = (list: readonly { price: bigint; confidence: bigint }[]): SourceQuote[] =>
    list.map((item, index) => ({ source: `s${index}`, priceWad: item.price, confidenceWad: item.confidence, timestampMs: T0 }));

  it('the price lies between the lowest and highest source; a minority cannot move it outside the majority', () => {
    fc.assert(
      fc.property(quotes, (list) => {
        const prices = list.map((item) => item.price);
        const { priceWad } = aggregateQuotes(asQuotes(list));
        const low = prices.reduce((a, b) => (a < b ? a : b));
        const high = prices.reduce((a, b) => (a > b ? a : b));
        return priceWad >= low && priceWad <= high;
      }),
    );
  });

  it('order of sources does not matter', () => {
    fc.assert(
      fc.property(quotes, (list) => {
        const forward = aggregateQuotes(asQuotes(list));
        const backward = aggregateQuotes(asQuotes([...list].reverse()));
        return forward.priceWad === backward.priceWad && forward.confidenceWad === backward.confidenceWad;
      }),
    );
  });

  it('the confidence is never below the median of the sources’ own confidences', () => {
    fc.assert(
      fc.property(quotes, (list) => aggregateQuotes(asQuotes(list)).confidenceWad >= medianUp(list.map((item) => item.confidence))),
    );
  });

  it('fewer than half the sources, however wrong, keep the price within the honest sources’ range', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 10n ** 18n, max: 2n * 10n ** 18n }), { minLength: 3, maxLength: 5 }),
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 40n }), { minLength: 0, maxLength: 2 }),
        (honest, liars) => {
          fc.pre(liars.length < honest.length);
          const list = [...honest, ...liars].map((price) => ({ price, confidence: 0n }));
          const { priceWad } = aggregateQuotes(asQuotes(list));
          const low = honest.reduce((a, b) => (a < b ? a : b));
          const high = honest.reduce((a, b) => (a > b ? a : b));
          return priceWad >= low && priceWad <= high;
        },
      ),
    );
  });
});
