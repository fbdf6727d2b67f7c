import { describe, expect, it } from 'vitest';
import { parseDecimal } from '../../core/fixed.ts';
import { Oracle } from '../oracle.ts';
import { oracleConfig, T0 } from '../testing.ts';
import { formatSignificant, SimulatedFeed, Xoshiro128, type SimulatedFeedOptions } from './simulated.ts';

const BASE: SimulatedFeedOptions = {
  seed: 42,
  startMs: T0,
  stepMs: 1_000,
  assets: [
    { asset: 'ETH', initialPrice: '3000', volatilityPerYear: 0.8 },
    { asset: 'BTC', initialPrice: '60000', volatilityPerYear: 0.6, jumpsPerYear: 50, jumpMeanLog: -0.05, jumpStdLog: 0.02 },
  ],
};

function run(options: SimulatedFeedOptions, steps: number) {
  const feed = new SimulatedFeed(options);
  return Array.from({ length: steps }, () => feed.step());
}

function logReturns(options: SimulatedFeedOptions, steps: number, asset: string): number[] {
  const prices = run(options, steps).map((updates) => Number.parseFloat(updates.find((u) => u.asset === asset)!.price));
  return prices.slice(1).map((price, i) => Math.log(price / prices[i]!));
}

function correlation(a: readonly number[], b: readonly number[]): number {
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('Xoshiro128', () => {
  it('is deterministic by seed and differs between seeds', () => {
    const draw = (seed: number) => {
      const random = new Xoshiro128(seed);
      return Array.from({ length: 5 }, () => random.nextUint32());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    for (const value of draw(3)) expect(Number.isInteger(value) && value >= 0 && value < 2 ** 32).toBe(true);
  });

  it('gives standard normals (mean ≈ 0, variance ≈ 1)', () => {
    const random = new Xoshiro128(7);
    const samples = Array.from({ length: 50_000 }, () => random.normal());
    const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
    const variance = samples.reduce((s, x) => s + (x - mean) ** 2, 0) / samples.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });
});

describe('formatSignificant', () => {
  it.each([
    [3000, 10, '3000'],
    [3000.123456789, 10, '3000.123457'],
    [0.000123456789, 4, '0.0001235'],
    [1e-20, 10, '0.000000000000000001'], // never below one wei
    [123456789012, 5, '123456789012'], // whole digits are never dropped
  ])('%d with %i digits → %s', (value, digits, expected) => {
    expect(formatSignificant(value, digits)).toBe(expected);
  });

  it('refuses what is not a positive finite number', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => formatSignificant(bad, 10)).toThrow(RangeError);
  });
});

describe('SimulatedFeed', () => {
  it('the same seed gives the same updates, to the last digit', () => {
    expect(run(BASE, 500)).toEqual(run(BASE, 500));
  });

  it('another seed gives another path', () => {
    expect(run({ ...BASE, seed: 43 }, 50)).not.toEqual(run(BASE, 50));
  });

  it('starts at the initial prices, then one update per asset and source per step, on the feed’s clock', () => {
    const feed = new SimulatedFeed({ ...BASE, sources: ['a', 'b'] });
    expect(feed.nowMs).toBe(T0);
    const first = feed.step();
    expect(first.map((u) => [u.source, u.asset, u.price, u.timestampMs])).toEqual([
      ['a', 'ETH', '3000', T0],
      ['b', 'ETH', '3000', T0],
      ['a', 'BTC', '60000', T0],
      ['b', 'BTC', '60000', T0],
    ]);
    expect(feed.step().every((u) => u.timestampMs === T0 + 1_000)).toBe(true);
    expect(feed.nowMs).toBe(T0 + 2_000);
  });

  it('prints canonical decimal strings, positive, with a confidence when asked', () => {
    const updates = run({ ...BASE, assets: [{ asset: 'X', initialPrice: '0.0001', volatilityPerYear: 3, confidenceRatio: 0.001 }] }, 300).flat();
    for (const update of updates) {
      const price = parseDecimal(update.price, 18);
      expect(price.ok && price.value > 0n).toBe(true);
      expect(update.confidence).toBeDefined();
      expect(parseDecimal(update.confidence, 18).ok).toBe(true);
    }
  });

  it('realised volatility matches the configured one', () => {
    // one-minute steps over ~14 days: annualised σ from the sample within 5%
    const options: SimulatedFeedOptions = { ...BASE, stepMs: 60_000, assets: [{ asset: 'ETH', initialPrice: '3000', volatilityPerYear: 0.8 }] };
    const returns = logReturns(options, 20_000, 'ETH');
    const variance = returns.reduce((s, r) => s + r * r, 0) / returns.length;
    const sigma = Math.sqrt(variance * ((365.25 * 24 * 3600 * 1000) / 60_000));
    expect(Math.abs(sigma - 0.8) / 0.8).toBeLessThan(0.05);
  });

  it('correlation through the common factor: high with ρ = 0.9, near zero with ρ = 0', () => {
    const assets = [
      { asset: 'ETH', initialPrice: '3000', volatilityPerYear: 0.8 },
      { asset: 'BTC', initialPrice: '60000', volatilityPerYear: 0.6 },
    ];
    const correlated = { ...BASE, assets, correlation: 0.9 };
    const independent = { ...BASE, assets, correlation: 0 };
    expect(correlation(logReturns(correlated, 5_000, 'ETH'), logReturns(correlated, 5_000, 'BTC'))).toBeGreaterThan(0.85);
    expect(Math.abs(correlation(logReturns(independent, 5_000, 'ETH'), logReturns(independent, 5_000, 'BTC')))).toBeLessThan(0.05);
  });

  it('jumps happen at about the configured rate', () => {
    // 1-hour steps for a year, 20 jumps of −30% a year on a quiet asset: count the big drops
    const options: SimulatedFeedOptions = {
      ...BASE,
      stepMs: 3_600_000,
      assets: [{ asset: 'X', initialPrice: '100', volatilityPerYear: 0.1, jumpsPerYear: 20, jumpMeanLog: -0.35, jumpStdLog: 0.01 }],
    };
    const drops = logReturns(options, 8_766, 'X').filter((r) => r < -0.2).length;
    expect(drops).toBeGreaterThanOrEqual(8);
    expect(drops).toBeLessThanOrEqual(35);
  });

  it('several noisy sources drive an oracle that stays healthy', () => {
    const feed = new SimulatedFeed({ ...BASE, sources: ['a', 'b', 'c'], sourceNoise: 0.0005 });
    const oracle = new Oracle(oracleConfig({ assets: [{ id: 'ETH', sources: ['a', 'b', 'c'] }, { id: 'BTC', sources: ['a', 'b', 'c'] }] }, ['ETH', 'BTC']));
    let nowMs = T0;
    for (let i = 0; i < 600; i++) {
      nowMs = feed.nowMs;
      for (const update of feed.step()) expect(oracle.submit(update, nowMs).status).toBe('accepted');
    }
    // the BTC jumps (−5% a time, ~50 a year) are too rare to show in 10 minutes; both stay healthy
    expect(oracle.status(nowMs).map((status) => [status.asset, status.healthy])).toEqual([
      ['ETH', true],
      ['BTC', true],
    ]);
  });

  it('refuses bad options: they are the programmer’s, not data', () => {
    expect(() => new SimulatedFeed({ ...BASE, stepMs: 0 })).toThrow(RangeError);
    expect(() => new SimulatedFeed({ ...BASE, correlation: 1.5 })).toThrow(RangeError);
    expect(() => new SimulatedFeed({ ...BASE, sources: [] })).toThrow(RangeError);
    expect(() => new SimulatedFeed({ ...BASE, assets: [{ asset: 'X', initialPrice: '1e3', volatilityPerYear: 1 }] })).toThrow(RangeError);
    expect(() => new SimulatedFeed({ ...BASE, assets: [{ asset: 'X', initialPrice: '1', volatilityPerYear: -1 }] })).toThrow(RangeError);
  });
});
