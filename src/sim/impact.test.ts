import { describe, expect, it } from 'vitest';
import { parseRiskConfig } from '../core/config.ts';
import type { LedgerEvent } from '../core/ledger/events.ts';
import { MarketImpact } from './impact.ts';

const E = 10n ** 18n;
const HOUR = 3_600_000;
const config = (() => {
  const parsed = parseRiskConfig({
    quote: 'USDC',
    assets: [
      { id: 'USDC', decimals: 6, collateral: { initialWeight: '1', maintenanceWeight: '1' } },
      { id: 'ETH', decimals: 18, collateral: { initialWeight: '0.8', maintenanceWeight: '0.85' } },
    ],
    markets: [{ id: 'ETH-PERP', base: 'ETH', initialMarginFraction: '0.1', maintenanceMarginFraction: '0.05' }],
  });
  if (!parsed.ok) throw new Error('config');
  return parsed.value;
})();
const prices = new Map([
  ['ETH', { priceWad: 2000n * E }],
  ['USDC', { priceWad: E }],
]);

/** A long perp of `size` whole ETH passed to the liquidator (who must sell it). */
function longTaken(size: bigint): LedgerEvent {
  return {
    type: 'PositionLiquidated',
    account: 'a',
    liquidator: 'system:backstop',
    step: { kind: 'perp', market: 'ETH-PERP', size: size * E, priceWad: 2000n * E, penalty: 0n, toInsurance: 0n, notionalUsd: 0n, rule: 'MINIMAL_TO_TARGET' },
  };
}

describe('MarketImpact', () => {
  it('leaves prices exactly as the path has them when nothing is sold', () => {
    const impact = new MarketImpact({ depthUsd: new Map([['ETH', 1_000_000]]), halfLifeMs: HOUR });
    expect(impact.price('ETH', 1234_567890123456789000n, 0)).toBe('1234.567890123456789');
    impact.closeStep(0);
    expect(impact.price('ETH', 2000n * E, HOUR)).toBe('2000');
  });

  it('concedes about 1% for a sale of the 1% depth, more for more, never all', () => {
    const concession = (soldEth: bigint): number => {
      const impact = new MarketImpact({ depthUsd: new Map([['ETH', 1_000_000]]), halfLifeMs: HOUR });
      impact.record([longTaken(soldEth)], prices, config);
      expect(impact.flows().get('ETH')).toBeCloseTo(-Number(soldEth) * 2000, 6);
      return -(impact.closeStep(0).get('ETH') ?? 0);
    };
    expect(concession(500n)).toBeCloseTo(1 - 1 / 1.01, 10); // 1,000,000 USD sold
    expect(concession(5_000n)).toBeCloseTo(1 - 1 / 1.1, 10);
    expect(concession(50_000n)).toBeCloseTo(0.5, 10); // 100 × the depth
    expect(concession(50_000_000n)).toBeLessThan(1);
    expect(concession(50n)).toBeLessThan(concession(500n));
  });

  it('moves the next price against the flow and decays with its half-life', () => {
    const impact = new MarketImpact({ depthUsd: new Map([['ETH', 1_000_000]]), halfLifeMs: HOUR });
    impact.price('ETH', 2000n * E, 0);
    impact.record([longTaken(50_000n)], prices, config);
    impact.closeStep(0);
    expect(impact.factorOf('ETH')).toBeCloseTo(0.5, 10);
    expect(Number(impact.price('ETH', 2000n * E, 0))).toBeCloseTo(1000, 6);
    // After one half-life the log of the factor has halved: √0.5.
    expect(Number(impact.price('ETH', 2000n * E, HOUR))).toBeCloseTo(2000 * Math.SQRT1_2, 4);
    // A short taken over is bought back: the price goes up.
    const up = new MarketImpact({ depthUsd: new Map([['ETH', 1_000_000]]), halfLifeMs: HOUR });
    up.record([longTaken(-500n)], prices, config);
    up.closeStep(0);
    expect(up.factorOf('ETH')).toBeGreaterThan(1);
  });

  it('seized collateral is sold and the repaid debt bought; an asset without depth does not move', () => {
    const impact = new MarketImpact({ depthUsd: new Map([['ETH', 1_000_000]]), halfLifeMs: HOUR });
    impact.record(
      [
        {
          type: 'CollateralSeized',
          account: 'a',
          liquidator: 'system:backstop',
          step: { kind: 'swap', debtAsset: 'USDC', repaid: 1_000n * 10n ** 6n, collateralAsset: 'ETH', seized: E, penaltyWad: E / 20n, toInsurance: 0n, valueUsd: 0n, rule: 'MINIMAL_TO_TARGET' },
        },
      ],
      prices,
      config,
    );
    expect(impact.flows().get('ETH')).toBeCloseTo(-2000, 6);
    expect(impact.flows().get('USDC')).toBeCloseTo(1000, 6);
    const applied = impact.closeStep(0);
    expect(applied.has('USDC')).toBe(false);
    expect(impact.price('USDC', E, 0)).toBe('1');
  });
});
