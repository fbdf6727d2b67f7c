import { describe, expect, it } from 'vitest';
import { Ledger } from '../core/ledger/ledger.ts';
import { DEMO_CONFIG } from '../service/demo.ts';
import { simulateScenario } from './simulate.ts';

const { oracle: _oracle, ...DEMO_RISK } = DEMO_CONFIG;

function simulate(scenario: string, configJson: unknown, accounts = 400) {
  const outcome = simulateScenario({ scenario, accounts, seed: 5, configJson, keepLog: true, crossCheckEveryFrames: 5 });
  if (!outcome.ok) throw new Error(JSON.stringify(outcome.error));
  return outcome.value;
}

function replayHash(outcome: ReturnType<typeof simulate>): string {
  const ledger = Ledger.create(outcome.config.risk, outcome.config.riskJson);
  for (const event of outcome.log ?? []) ledger.apply(event);
  return ledger.stateHash();
}

describe('runs with a configuration file', () => {
  it('Dutch auctions: a keeper buys lots below the oracle (resetting stale ones); the books still balance', () => {
    const config = {
      ...DEMO_RISK,
      assets: DEMO_RISK.assets.map((asset) =>
        asset.id === 'ETH'
          ? {
              ...asset,
              auction: { startFactor: '1.1', curve: 'linear', durationMs: 600_000, floorFactor: '0.7', resetAfterMs: 900_000, resetBelowFactor: '0.8' },
            }
          : asset,
      ),
    };
    const outcome = simulate('black-thursday-2020', config);
    const { run, report } = outcome;
    expect(outcome.setup.keeper).toBe('sim-keeper');
    expect(run.diagnostics.auctionBids).toBeGreaterThan(0);
    expect(report.invariants).toEqual({ conservation: 'held', healthyLiquidated: 0 });
    expect(run.diagnostics.crossCheckMismatches).toBe(0);
    expect(outcome.log?.some((sealed) => sealed.event.type === 'AuctionTaken')).toBe(true);
    expect(replayHash(outcome)).toBe(report.stateHash);
  });

  it('an oracle section of its own: its guards apply, held prices are re-printed between frames (never stale)', () => {
    const config = {
      ...DEMO_RISK,
      oracle: { defaults: { maxAgeMs: 60_000, maxDeviationPerUpdate: '0.1', maxDeviationPerWindow: '0.25' } },
    };
    const outcome = simulate('black-thursday-2020', config);
    expect(outcome.config.heartbeatMs).toBe(30_000);
    const unhealthy = (outcome.log ?? []).flatMap((sealed) =>
      sealed.event.type === 'PriceUpdated' && !sealed.event.healthy ? [sealed.event.reasons] : [],
    );
    // The crash's biggest ticks trip the deviation breaker; staleness never does.
    expect(unhealthy.length).toBeGreaterThan(0);
    expect(unhealthy.flat()).not.toContain('STALE');
    expect(unhealthy.flat().some((reason) => reason.startsWith('DEVIATION'))).toBe(true);
    expect(outcome.run.diagnostics.refusals.PRICE_UNHEALTHY ?? 0).toBeGreaterThan(0);
    expect(outcome.report.invariants).toEqual({ conservation: 'held', healthyLiquidated: 0 });
    expect(replayHash(outcome)).toBe(outcome.report.stateHash);
  });

  it('without one, prices never fail their guards on the sampling alone', () => {
    const outcome = simulate('luna-2022', undefined);
    expect(outcome.run.diagnostics.unhealthyPriceRecords).toBe(0);
    expect(outcome.run.diagnostics.refusals.PRICE_UNHEALTHY).toBeUndefined();
    // LUNA and UST, unknown to the demo configuration, were added with a profile each.
    expect([...outcome.config.risk.assets.keys()].sort()).toEqual(['BTC', 'ETH', 'LUNA', 'USDC', 'UST']);
    expect(outcome.config.risk.markets.has('LUNA-PERP')).toBe(true);
    expect(outcome.config.risk.markets.has('UST-PERP')).toBe(false);
  });
});
