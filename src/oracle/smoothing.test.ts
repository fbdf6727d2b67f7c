import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WAD } from '../core/fixed.ts';
import { halfLifeDecayWad, stepMarkPrice, stepStablePrice } from './smoothing.ts';
import { HOUR, MINUTE, wad } from './testing.ts';

describe('halfLifeDecayWad: 2^(−elapsed / halfLife) on bigint', () => {
  it.each([
    [0, MINUTE, WAD],
    [MINUTE, MINUTE, WAD / 2n],
    [2 * MINUTE, MINUTE, WAD / 4n],
    [10 * MINUTE, MINUTE, WAD / 1024n],
    // 2^−½ = 0.70710678118654752440084436…: rounded down to 18 digits
    [MINUTE / 2, MINUTE, 707_106_781_186_547_524n],
    // 2^−¼ = 0.84089641525371454303112547…
    [MINUTE / 4, MINUTE, 840_896_415_253_714_543n],
    // 2^−1.5 = 0.35355339059327376220042218…
    [(3 * MINUTE) / 2, MINUTE, 353_553_390_593_273_762n],
    // past 60 half-lives the weight is below one wei
    [60 * MINUTE, MINUTE, 0n],
    [Number.MAX_SAFE_INTEGER, 1, 0n],
  ])('elapsed %i ms, half-life %i ms → %s', (elapsedMs, halfLifeMs, expected) => {
    expect(halfLifeDecayWad(elapsedMs, halfLifeMs)).toBe(expected);
  });

  // float64's own 2^(−e/h) is the less precise side here (the division and pow each lose
  // ~1e-16 relative, amplified by the exponent): the exact digits are checked in the table.
  it('agrees with float64 2^(−x) to within float precision', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 * HOUR }), fc.integer({ min: 1, max: HOUR }), (elapsedMs, halfLifeMs) => {
        const exact = 2 ** (-elapsedMs / halfLifeMs);
        const ours = Number(halfLifeDecayWad(elapsedMs, halfLifeMs)) / 1e18;
        return Math.abs(ours - exact) <= 2e-18 + 1e-14 * exact;
      }),
    );
  });

  it('never increases with elapsed time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * HOUR }), fc.integer({ min: 0, max: HOUR }), fc.integer({ min: 1, max: HOUR }), (a, extra, halfLife) => {
        return halfLifeDecayWad(a + extra, halfLife) <= halfLifeDecayWad(a, halfLife);
      }),
    );
  });

  it('rejects a negative or fractional elapsed time and a zero half-life', () => {
    expect(() => halfLifeDecayWad(-1, MINUTE)).toThrow(RangeError);
    expect(() => halfLifeDecayWad(0.5, MINUTE)).toThrow(RangeError);
    expect(() => halfLifeDecayWad(1, 0)).toThrow(RangeError);
  });
});

describe('stepMarkPrice: EMA towards the spot that stood', () => {
  it('after one half-life, half way', () => {
    expect(stepMarkPrice(wad('100'), wad('110'), MINUTE, MINUTE)).toBe(wad('105'));
    expect(stepMarkPrice(wad('110'), wad('100'), MINUTE, MINUTE)).toBe(wad('105'));
  });

  it('no time, no move; a long time, all the way', () => {
    expect(stepMarkPrice(wad('100'), wad('110'), 0, MINUTE)).toBe(wad('100'));
    expect(stepMarkPrice(wad('100'), wad('110'), 61 * MINUTE, MINUTE)).toBe(wad('110'));
  });

  it('stays between the old mark and spot', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.integer({ min: 0, max: 10 * HOUR }),
        fc.integer({ min: 1, max: HOUR }),
        (mark, spot, elapsed, halfLife) => {
          const next = stepMarkPrice(mark, spot, elapsed, halfLife);
          const low = mark < spot ? mark : spot;
          const high = mark < spot ? spot : mark;
          return next >= low && next <= high;
        },
      ),
    );
  });
});

describe('stepStablePrice: towards spot by at most growthPerHour × elapsed', () => {
  const growth = wad('0.1'); // 10% per hour

  it.each([
    ['half an hour of spot 10% higher: +5%', '100', '110', HOUR / 2, '105'],
    ['an hour: +10%, reaching spot', '100', '110', HOUR, '110'],
    ['two hours: capped at spot', '100', '110', 2 * HOUR, '110'],
    ['six minutes of a 10× pump: +1%', '100', '1000', HOUR / 10, '101'],
    ['half an hour of spot far lower: divided by 1.05, rounded up', '105', '50', HOUR / 2, '100'],
    ['equal prices: no move', '100', '100', HOUR, '100'],
    ['no time: no move', '100', '1000', 0, '100'],
  ])('%s', (_name, stable, spot, elapsedMs, expected) => {
    expect(stepStablePrice(wad(stable), wad(spot), elapsedMs, growth)).toBe(wad(expected));
  });

  it('never moves by more than the factor, never past spot', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.integer({ min: 0, max: 5 * HOUR }),
        fc.bigInt({ min: 1n, max: 10n ** 18n }),
        (stable, spot, elapsedMs, growthPerHour) => {
          const next = stepStablePrice(stable, spot, elapsedMs, growthPerHour);
          const factorNumerator = WAD * BigInt(HOUR) + growthPerHour * BigInt(elapsedMs); // f × WAD × HOUR
          const scale = WAD * BigInt(HOUR);
          if (spot >= stable) return next >= stable && next <= spot && next * scale <= stable * factorNumerator;
          return next <= stable && next >= spot && next * factorNumerator >= stable * scale;
        },
      ),
    );
  });
});
