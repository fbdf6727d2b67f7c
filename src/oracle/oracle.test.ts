import { describe, expect, it } from 'vitest';
import { account, riskConfig } from '../../test/fixtures.ts';
import { mulDivDown, WAD } from '../core/fixed.ts';
import { evaluateAccount } from '../core/health.ts';
import { corePriceBook } from './book.ts';
import type { Oracle, PriceUpdate } from './oracle.ts';
import { ed25519Publisher, eip191Publisher, signEd25519, signEip191, type AttestedPrice } from './signatures.ts';
import { guardedOk, HOUR, MINUTE, oracle, SECOND, submitOk, T0, testKey, update, wad } from './testing.ts';

const at = (asset: string, source: string, price: string, timestampMs: number, extra: Partial<PriceUpdate> = {}): PriceUpdate => ({
  asset,
  source,
  price,
  timestampMs,
  ...extra,
});

describe('Oracle: accepted prices', () => {
  it('a single-source asset (no oracle configuration) takes its first price, healthy', () => {
    const target = oracle(undefined);
    const result = submitOk(target, update({ price: '3000.12', confidence: '1.5' }));
    expect(result).toEqual({
      status: 'accepted',
      asset: 'ETH',
      source: 'a',
      aggregate: { status: 'accepted', priceWad: wad('3000.12'), confidenceWad: wad('1.5'), sourceCount: 1 },
      healthy: true,
    });
    expect(guardedOk(target, 'ETH', T0)).toEqual({
      asset: 'ETH',
      priceWad: wad('3000.12'),
      confidenceWad: wad('1.5'),
      stablePriceWad: wad('3000.12'),
      markPriceWad: wad('3000.12'),
      healthy: true,
      reasons: [],
      updatedAtMs: T0,
    });
  });

  it('a single-source asset takes any source id as one feed: the latest update is the price', () => {
    const target = oracle(undefined);
    submitOk(target, at('ETH', 'first', '3000', T0));
    submitOk(target, at('ETH', 'second', '3010', T0 + SECOND));
    expect(guardedOk(target, 'ETH', T0 + SECOND)).toMatchObject({ priceWad: wad('3010'), healthy: true });
    expect(target.status(T0 + SECOND)[0]).toMatchObject({ freshSources: 1, quorum: 1 });
  });

  it('unknown asset and unpriced asset are distinct answers', () => {
    const target = oracle(undefined);
    expect(target.guarded('DOGE', T0)).toEqual({ ok: false, error: { code: 'UNKNOWN_ASSET', asset: 'DOGE' } });
    expect(target.guarded('ETH', T0)).toEqual({ ok: false, error: { code: 'NO_PRICE', asset: 'ETH' } });
  });

  it('status lists every configured asset in order, with its breaker and freshness', () => {
    const target = oracle({ assets: [{ id: 'ETH', sources: ['a', 'b', 'c'] }] });
    submitOk(target, at('ETH', 'a', '3000', T0));
    submitOk(target, at('ETH', 'b', '3001', T0));
    const [eth, usdc] = target.status(T0);
    expect(eth).toMatchObject({ asset: 'ETH', healthy: true, reasons: [], breaker: { state: 'closed' }, freshSources: 2, quorum: 2, recoveryUpdates: 3 });
    expect(eth?.price?.priceWad).toBe(wad('3000.5'));
    expect(usdc).toEqual({
      asset: 'USDC',
      healthy: false,
      reasons: ['NO_PRICE'],
      breaker: { state: 'closed' },
      recoveryUpdates: 3,
      freshSources: 0,
      quorum: 1,
    });
  });

  it('the clock is the caller’s: one that runs backwards is a bug and throws', () => {
    const target = oracle(undefined);
    submitOk(target, update(), T0);
    expect(() => target.submit(update({ timestampMs: T0 - 1 }), T0 - 1)).toThrow(RangeError);
  });

  it('is deterministic: the same updates at the same times give the same state', () => {
    const run = (): string => {
      const target = oracle({ assets: [{ id: 'ETH', sources: ['a', 'b', 'c'], quorum: 2 }] });
      for (let i = 0; i < 50; i++) {
        for (const [index, source] of ['a', 'b', 'c'].entries()) {
          const price = (3000 + ((i * 7 + index * 13) % 40) - 20).toString();
          target.submit(at('ETH', source, price, T0 + i * 10 * SECOND + index), T0 + i * 10 * SECOND + index);
        }
      }
      return JSON.stringify(target.status(T0 + 600 * SECOND), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    };
    expect(run()).toBe(run());
  });
});

// ---------------------------------------------------------------------------------------

describe('the outlier case: one of three sources prints ETH 190% above the others for one tick', () => {
  it('the median ignores it: the price, its confidence and the asset’s health do not move', () => {
    const target = oracle({ assets: [{ id: 'ETH', sources: ['binance', 'coinbase', 'kraken'], quorum: 2 }] });
    const prices: Record<string, readonly string[]> = {
      binance: ['110.10', '110.40', '110.30'],
      coinbase: ['110.20', '110.50', '110.40'],
      kraken: ['110.15', '320.16', '110.35'], // tick 1: 110.40 × 2.9 on one venue
    };
    const expected = ['110.15', '110.50', '110.35'];
    for (let tick = 0; tick < 3; tick++) {
      let result;
      for (const source of ['binance', 'coinbase', 'kraken']) {
        result = submitOk(target, at('ETH', source, prices[source]![tick]!, T0 + tick * 10 * SECOND));
      }
      expect(result?.aggregate).toMatchObject({ status: 'accepted', priceWad: wad(expected[tick]!) });
      const guarded = guardedOk(target, 'ETH', T0 + tick * 10 * SECOND);
      expect(guarded).toMatchObject({ priceWad: wad(expected[tick]!), healthy: true, reasons: [] });
      // within 2% of the price: the spike does not widen the confidence either
      expect(guarded.confidenceWad * 50n).toBeLessThan(guarded.priceWad);
    }
  });

  it('with one source only, the same print trips the deviation breaker instead', () => {
    const target = oracle(undefined);
    submitOk(target, at('ETH', 'kraken', '110.40', T0));
    const spike = submitOk(target, at('ETH', 'kraken', '320.16', T0 + 10 * SECOND));
    expect(spike.aggregate).toMatchObject({ status: 'rejected' });
    expect(guardedOk(target, 'ETH', T0 + 10 * SECOND)).toMatchObject({
      priceWad: wad('110.40'), // the last price that passed its guards
      healthy: false,
      reasons: ['DEVIATION_PER_UPDATE', 'DEVIATION_PER_WINDOW'],
    });
  });
});

// ---------------------------------------------------------------------------------------

describe('the Mango case: one venue pumps a thin asset 10× within minutes', () => {
  const RISK = riskConfig({
    quote: 'USDC',
    assets: [
      { id: 'USDC', decimals: 6, collateral: { initialWeight: '1', maintenanceWeight: '1' }, liability: { initialWeight: '1', maintenanceWeight: '1' } },
      { id: 'MNGO', decimals: 6, collateral: { initialWeight: '0.8', maintenanceWeight: '0.9' } },
    ],
  });
  const ATTACKER = account(RISK, { id: 'attacker', balances: { MNGO: '100000000' } }); // 100 M MNGO
  const GROWTH_PER_HOUR = wad('0.1');
  const STEP_MS = 30 * SECOND;
  /** 10^(1/20), 10 decimals: twenty steps make 10×. */
  const STEP_FACTOR = wad('1.1220184543');

  interface Pump {
    readonly startMs: number;
    readonly endMs: number;
    /** Taken at the start of the pump (guarded() answers for the oracle's current state). */
    readonly before: { readonly stablePriceWad: bigint; readonly priceWad: bigint; readonly initialUsd: bigint; readonly maintenanceUsd: bigint };
  }

  /** 10 quiet minutes at 0.02, then 20 steps of 30 s up to ≈ 0.2 on `source`; `others` keep printing 0.02. */
  function pump(target: Oracle, source: string, others: readonly string[] = []): Pump {
    let priceWad = wad('0.02');
    let nowMs = T0;
    for (let i = 0; i <= 20; i++) {
      nowMs = T0 + i * STEP_MS;
      for (const venue of [source, ...others]) submitOk(target, at('MNGO', venue, '0.02', nowMs));
    }
    const startMs = nowMs;
    const guarded = guardedOk(target, 'MNGO', startMs);
    const before = {
      stablePriceWad: guarded.stablePriceWad,
      priceWad: guarded.priceWad,
      initialUsd: borrowingPowerUsd(target, startMs, 'initial'),
      maintenanceUsd: borrowingPowerUsd(target, startMs, 'maintenance'),
    };
    for (let i = 1; i <= 20; i++) {
      priceWad = mulDivDown(priceWad, STEP_FACTOR, WAD);
      nowMs = startMs + i * STEP_MS;
      submitOk(target, at('MNGO', source, formatPrice(priceWad), nowMs));
      for (const venue of others) submitOk(target, at('MNGO', venue, '0.02', nowMs));
    }
    return { startMs, endMs: nowMs, before };
  }

  function borrowingPowerUsd(target: Oracle, nowMs: number, level: 'initial' | 'maintenance'): bigint {
    // the attacker holds MNGO only, so the book needs no other price; the core values the
    // initial level at min(spot, stable) and the maintenance level at spot
    const book = corePriceBook([guardedOk(target, 'MNGO', nowMs)]);
    const health = evaluateAccount(ATTACKER, book, RISK);
    if (!health.ok) throw new Error(health.error.code);
    return health.value[level].assetsUsd;
  }

  it('with loose deviation guards, initial borrowing power follows the stable price: at most e^(growth × Δt)', () => {
    const target = oracle(
      { assets: [{ id: 'MNGO', sources: ['thin-venue'], quorum: 1, maxDeviationPerUpdate: '1', maxDeviationPerWindow: '100', stablePriceGrowthPerHour: '0.1' }] },
      ['USDC', 'MNGO'],
    );
    const { startMs, endMs, before } = pump(target, 'thin-venue');
    const after = guardedOk(target, 'MNGO', endMs);

    // the pump is real in spot: ≈ 10×, and the breaker (loosened here) did not stop it
    expect(after.priceWad * 1000n).toBeGreaterThan(before.priceWad * 9_990n);
    expect(after.healthy).toBe(true);

    // the stable price grew by at most e^x ≤ 1 + x + x², x = 0.1/h × 10 min
    const x = (GROWTH_PER_HOUR * BigInt(endMs - startMs)) / BigInt(HOUR);
    const boundWad = WAD + x + (x * x) / WAD;
    expect(after.stablePriceWad).toBeGreaterThan(before.stablePriceWad); // it does follow, slowly
    expect(after.stablePriceWad * WAD).toBeLessThanOrEqual(before.stablePriceWad * boundWad);

    // so borrowing power (initial level: min(spot, stable)) grew by no more than the bound …
    expect(before.initialUsd).toBe(wad('1600000')); // 100 M × 0.02 × 0.8
    const powerAfter = borrowingPowerUsd(target, endMs, 'initial');
    expect(powerAfter * WAD).toBeLessThanOrEqual(before.initialUsd * boundWad);
    // … while the spot valuation, which maintenance uses, went up about tenfold
    expect(borrowingPowerUsd(target, endMs, 'maintenance')).toBeGreaterThan(9n * before.maintenanceUsd);
  });

  it('an hour later the stable price has caught up by at most 10% more, not 10×', () => {
    const target = oracle(
      { assets: [{ id: 'MNGO', sources: ['thin-venue'], maxDeviationPerUpdate: '1', maxDeviationPerWindow: '100', maxAgeMs: 2 * HOUR }] },
      ['USDC', 'MNGO'],
    );
    const { startMs, endMs } = pump(target, 'thin-venue');
    const stable = guardedOk(target, 'MNGO', endMs + HOUR).stablePriceWad;
    expect(stable).toBeLessThan(wad('0.0225')); // 0.02 × e^(0.1 × 70/60) ≈ 0.02248
    expect(stable).toBeGreaterThan(wad('0.022'));
    expect(endMs - startMs).toBe(10 * MINUTE);
  });

  it('with three venues, the pump on one moves neither the price nor the borrowing power', () => {
    const target = oracle({ assets: [{ id: 'MNGO', sources: ['thin-venue', 'venue-b', 'venue-c'], quorum: 2 }] }, ['USDC', 'MNGO']);
    const { endMs, before } = pump(target, 'thin-venue', ['venue-b', 'venue-c']);
    expect(guardedOk(target, 'MNGO', endMs)).toMatchObject({ priceWad: wad('0.02'), healthy: true });
    expect(borrowingPowerUsd(target, endMs, 'initial')).toBe(before.initialUsd);
  });

  it('with the default guards, the pump trips the deviation breaker: the asset is unhealthy', () => {
    const target = oracle(undefined, ['USDC', 'MNGO']);
    const { endMs } = pump(target, 'thin-venue');
    const after = guardedOk(target, 'MNGO', endMs);
    expect(after.healthy).toBe(false);
    expect(after.reasons).toContain('DEVIATION_PER_UPDATE');
    expect(after.priceWad).toBe(wad('0.02')); // no pumped price ever passed its guards
  });
});

function formatPrice(priceWad: bigint): string {
  const whole = priceWad / WAD;
  const fraction = (priceWad % WAD).toString().padStart(18, '0').replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

// ---------------------------------------------------------------------------------------

describe('a frozen feed', () => {
  const CONFIG = { assets: [{ id: 'ETH', sources: ['a', 'b', 'c'], quorum: 2, maxAgeMs: MINUTE, recoveryUpdates: 3 }] };

  function feed(target: Oracle, fromMs: number, ticks: number, sources = ['a', 'b', 'c']): number {
    let nowMs = fromMs;
    for (let i = 0; i < ticks; i++) {
      nowMs = fromMs + i * 10 * SECOND;
      for (const source of sources) submitOk(target, at('ETH', source, '3000', nowMs));
    }
    return nowMs;
  }

  it('becomes unhealthy once no quorum of sources is fresher than max age, without any new update', () => {
    const target = oracle(CONFIG);
    const lastMs = feed(target, T0, 6);
    expect(guardedOk(target, 'ETH', lastMs + MINUTE)).toMatchObject({ healthy: true });
    expect(guardedOk(target, 'ETH', lastMs + MINUTE + 1)).toMatchObject({ healthy: false, reasons: ['STALE'], priceWad: wad('3000') });
    const status = target.status(lastMs + MINUTE + 1)[0];
    expect(status).toMatchObject({ healthy: false, reasons: ['STALE'], freshSources: 0, quorum: 2 });
  });

  it('recovers only after N consecutive good aggregates once it moves again', () => {
    const target = oracle(CONFIG);
    const lastMs = feed(target, T0, 6);
    const resumeMs = lastMs + 5 * MINUTE;
    // the first source back: taken, but alone it is no quorum
    const first = submitOk(target, at('ETH', 'a', '3000', resumeMs));
    expect(first.aggregate).toMatchObject({ status: 'rejected', reasons: [{ code: 'QUORUM_NOT_MET' }] });
    expect(first.healthy).toBe(false);
    // then good aggregates: 1, 2 → still unhealthy; 3 → healthy
    const progress: unknown[] = [];
    let nowMs = resumeMs;
    for (const source of ['b', 'c', 'a']) {
      nowMs += SECOND;
      const result = submitOk(target, at('ETH', source, '3000', nowMs));
      progress.push([result.healthy, target.status(nowMs)[0]?.breaker]);
    }
    // (b found the asset still stale, one fresh source of two: the trip's reason is STALE)
    expect(progress).toEqual([
      [false, { state: 'open', reasons: ['STALE'], goodUpdates: 1 }],
      [false, { state: 'open', reasons: ['STALE'], goodUpdates: 2 }],
      [true, { state: 'closed' }],
    ]);
  });

  it('a single-source feed: stale at query time, tripped STALE when it resumes, healthy after 3 good updates', () => {
    const target = oracle(undefined);
    submitOk(target, update({ timestampMs: T0 }));
    expect(guardedOk(target, 'ETH', T0 + 2 * MINUTE)).toMatchObject({ healthy: false, reasons: ['STALE'] });
    const healthy: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const nowMs = T0 + 2 * MINUTE + i * SECOND;
      healthy.push(submitOk(target, update({ timestampMs: nowMs })).healthy);
      if (i === 0) expect(guardedOk(target, 'ETH', nowMs).reasons).toEqual(['STALE']);
    }
    expect(healthy).toEqual([false, false, true]);
  });

  it('a failing aggregate during recovery restarts the count', () => {
    const target = oracle(undefined);
    submitOk(target, at('ETH', 'a', '100', T0));
    submitOk(target, at('ETH', 'a', '100', T0 + 2 * MINUTE)); // stale trip, good 1
    submitOk(target, at('ETH', 'a', '100', T0 + 2 * MINUTE + SECOND)); // good 2
    submitOk(target, at('ETH', 'a', '112', T0 + 2 * MINUTE + 2 * SECOND)); // 12%: tripped again
    expect(target.status(T0 + 2 * MINUTE + 2 * SECOND)[0]?.breaker).toEqual({
      state: 'open',
      reasons: ['DEVIATION_PER_UPDATE'],
      goodUpdates: 0,
    });
  });
});

describe('a real, lasting move recovers (stuck is not safe)', () => {
  it('after a 30% jump the breaker trips, then closes once the old prices leave the window and N good updates follow', () => {
    const target = oracle({ defaults: { windowMs: 5 * MINUTE, recoveryUpdates: 3, maxAgeMs: MINUTE } });
    submitOk(target, at('ETH', 'a', '100', T0));
    const jumpMs = T0 + 30 * SECOND;
    submitOk(target, at('ETH', 'a', '130', jumpMs));
    let healthyAtMs: number | undefined;
    for (let i = 1; i <= 20 && healthyAtMs === undefined; i++) {
      const nowMs = jumpMs + i * 30 * SECOND;
      if (submitOk(target, at('ETH', 'a', '130', nowMs)).healthy) healthyAtMs = nowMs;
    }
    expect(healthyAtMs).toBeDefined();
    // not before the window has forgotten 100 …
    expect(healthyAtMs! - T0).toBeGreaterThan(5 * MINUTE);
    // … and within the window, one bucket, and three updates
    expect(healthyAtMs! - T0).toBeLessThanOrEqual(5 * MINUTE + 5 * SECOND + 3 * 30 * SECOND);
    expect(guardedOk(target, 'ETH', healthyAtMs!)).toMatchObject({ priceWad: wad('130'), healthy: true });
  });
});

// ---------------------------------------------------------------------------------------

describe('stable and mark prices', () => {
  const CONFIG = { defaults: { maxAgeMs: HOUR, markHalfLifeMs: MINUTE, stablePriceGrowthPerHour: '0.1' } };

  it('move towards the spot that stood, evaluated at query time', () => {
    const target = oracle(CONFIG);
    submitOk(target, at('ETH', 'a', '100', T0));
    submitOk(target, at('ETH', 'a', '105', T0 + MINUTE));
    // at arrival the new spot has stood for no time: stable and mark have moved towards 100 only
    expect(guardedOk(target, 'ETH', T0 + MINUTE)).toMatchObject({ priceWad: wad('105'), stablePriceWad: wad('100'), markPriceWad: wad('100') });
    // a half-life later the mark is half way; the stable price has moved 0.1/h × 1 min: the
    // factor 1.0016666… is rounded down to a wad before it multiplies (within the bound)
    const later = guardedOk(target, 'ETH', T0 + 2 * MINUTE);
    expect(later.markPriceWad).toBe(wad('102.5'));
    expect(later.stablePriceWad).toBe(wad('100.1666666666666666'));
    // long after, both reach spot
    expect(guardedOk(target, 'ETH', T0 + 2 * HOUR)).toMatchObject({ markPriceWad: wad('105'), stablePriceWad: wad('105') });
  });

  it('a single-tick spike that is refused moves neither', () => {
    const target = oracle(CONFIG);
    submitOk(target, at('ETH', 'a', '100', T0));
    submitOk(target, at('ETH', 'a', '300', T0 + SECOND)); // refused by the deviation guards
    const later = guardedOk(target, 'ETH', T0 + 10 * MINUTE);
    expect(later).toMatchObject({ priceWad: wad('100'), stablePriceWad: wad('100'), markPriceWad: wad('100') });
  });
});

// ---------------------------------------------------------------------------------------

describe('attested prices: M of N publisher signatures', () => {
  const A = testKey(11);
  const B = testKey(12);
  const C = testKey(13);
  const STRANGER = testKey(14);
  const CONFIG = {
    assets: [
      {
        id: 'ETH',
        sources: ['relayer-1', 'relayer-2'],
        quorum: 1,
        publishers: { ed25519: [ed25519Publisher(A), ed25519Publisher(B)], eip191: [eip191Publisher(C)], threshold: 2 },
      },
    ],
  };
  const attested = (price: string, timestampMs: number): AttestedPrice => ({ asset: 'ETH', priceWad: wad(price), confidenceWad: 0n, timestampMs });
  const signedUpdate = (source: string, price: string, timestampMs: number, keys: readonly ('A' | 'B' | 'C' | 'STRANGER')[]): PriceUpdate => ({
    source,
    asset: 'ETH',
    price,
    timestampMs,
    signatures: keys.map((key) =>
      key === 'C' ? signEip191(attested(price, timestampMs), C) : signEd25519(attested(price, timestampMs), { A, B, STRANGER }[key]),
    ),
  });
  const reasonOf = (target: Oracle, value: PriceUpdate, nowMs = value.timestampMs) => {
    const result = target.submit(value, nowMs);
    return result.status === 'rejected' ? result.reasons.map((reason) => reason.code) : 'accepted';
  };

  it('a valid 2-of-3 update is accepted and priced', () => {
    const target = oracle(CONFIG);
    expect(reasonOf(target, signedUpdate('relayer-1', '3000', T0, ['A', 'C']))).toBe('accepted');
    expect(guardedOk(target, 'ETH', T0)).toMatchObject({ priceWad: wad('3000'), healthy: true });
  });

  it('a wrong key, a replayed message and a tampered price are each rejected with their reason', () => {
    const target = oracle(CONFIG);
    const valid = signedUpdate('relayer-1', '3000', T0, ['A', 'B']);
    expect(reasonOf(target, valid)).toBe('accepted');

    // wrong key: a stranger signs in place of B
    expect(reasonOf(target, signedUpdate('relayer-1', '3001', T0 + SECOND, ['A', 'STRANGER']))).toEqual(['SIGNATURE_UNKNOWN_PUBLISHER']);
    // replayed message: the accepted update again, through either relayer
    expect(reasonOf(target, valid, T0 + 2 * SECOND)).toEqual(['SIGNATURE_REPLAYED']);
    expect(reasonOf(target, { ...valid, source: 'relayer-2' }, T0 + 2 * SECOND)).toEqual(['SIGNATURE_REPLAYED']);
    // tampered price: signatures over 3002, the update says 3200
    const honest = signedUpdate('relayer-1', '3002', T0 + 3 * SECOND, ['A', 'C']);
    expect(reasonOf(target, { ...honest, price: '3200' })).toEqual(['SIGNATURE_INVALID']);
    // one signature is not enough
    expect(reasonOf(target, signedUpdate('relayer-1', '3003', T0 + 4 * SECOND, ['C']))).toEqual(['SIGNATURE_THRESHOLD_NOT_MET']);

    // none of these moved the price
    expect(guardedOk(target, 'ETH', T0 + 4 * SECOND).priceWad).toBe(wad('3000'));
    // and the honest update, untampered, still goes through
    expect(reasonOf(target, honest, T0 + 5 * SECOND)).toBe('accepted');
  });

  it('a rejected update does not use up its signatures', () => {
    const target = oracle(CONFIG);
    const early = signedUpdate('relayer-1', '3000', T0 + 10 * SECOND, ['A', 'B']);
    expect(reasonOf(target, early, T0)).toEqual(['TIMESTAMP_IN_FUTURE']);
    expect(reasonOf(target, early, T0 + 10 * SECOND)).toBe('accepted');
  });

  it('per publisher, timestamps must increase even across relayers', () => {
    const target = oracle(CONFIG);
    expect(reasonOf(target, signedUpdate('relayer-1', '3000', T0 + SECOND, ['A', 'B']))).toBe('accepted');
    // relayer-2 has never sent, so its own order is fine; publisher A has signed a later time
    expect(reasonOf(target, signedUpdate('relayer-2', '3000', T0, ['A', 'C']), T0 + SECOND)).toEqual(['SIGNATURE_REPLAYED']);
    expect(reasonOf(target, signedUpdate('relayer-2', '3000', T0 + 2 * SECOND, ['A', 'C']))).toBe('accepted');
  });
});
