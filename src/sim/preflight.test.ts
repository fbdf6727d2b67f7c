import { describe, expect, it } from 'vitest';
import { parseRiskConfig } from '../core/config.ts';
import { DEMO_CONFIG } from '../service/demo.ts';
import { defaultRiskJson, resolveSimConfigOrThrow } from './config.ts';
import { loadScenarioPath, relativePath } from './paths.ts';
import { configImpact, judgeScenarios } from './preflight.ts';
import { setupBook } from './setup.ts';
import { applyParameter } from './sweep.ts';

const E = 10n ** 18n;
const START = new Map([
  ['BTC', 60_000n * E],
  ['ETH', 3_000n * E],
  ['SOL', 150n * E],
]);

function liveBook() {
  const config = resolveSimConfigOrThrow(defaultRiskJson(START), 3_600_000);
  return { config, setup: setupBook({ config, start: { timestampMs: Date.UTC(2025, 5, 1), prices: START }, accounts: 400, seed: 21, keepLog: false }) };
}

function parsed(json: unknown) {
  const result = parseRiskConfig(json);
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

describe('configImpact', () => {
  it('finds nothing new for the same configuration, and the accounts a stricter one liquidates at once', () => {
    const { config, setup } = liveBook();
    const state = setup.book.ledger.state;
    const same = configImpact(state, config.risk);
    expect(same.accounts).toBe(setup.accounts);
    expect(same.newlyLiquidatable).toEqual([]);
    expect(same.newlyWarning).toEqual([]);
    expect(same.proposed).toEqual(same.current);

    const stricter = applyParameter(config.riskJson, 'collateral.maintenanceWeight', '0.75');
    if (!stricter.ok) throw new Error(stricter.error);
    // Initial weights may not exceed maintenance ones: lower them too.
    const both = applyParameter(stricter.value, 'collateral.initialWeight', '0.7');
    if (!both.ok) throw new Error(both.error);
    const impact = configImpact(state, parsed(both.value));
    expect(impact.newlyLiquidatable.length).toBeGreaterThan(0);
    expect(impact.proposed.liquidatable).toBe(impact.current.liquidatable + impact.newlyLiquidatable.length);
    for (const id of impact.newlyLiquidatable) expect(id).toMatch(/^sim-/);
  });
});

describe('judgeScenarios', () => {
  it('replays crises relative to live prices on copies of the book, current against proposed, leaving the live book alone', async () => {
    const { config, setup } = liveBook();
    const ledger = setup.book.ledger;
    const hashBefore = ledger.stateHash();
    const lenient = applyParameter(config.riskJson, 'markets.BTC-PERP.maintenanceMarginFraction', '0.03');
    if (!lenient.ok) throw new Error(lenient.error);
    const judgements = await judgeScenarios({
      ledger,
      proposedJson: lenient.value,
      scenarios: ['oct-2025-cascade', 'luna-2022'],
      startMs: Date.UTC(2025, 5, 2),
    });
    expect(ledger.stateHash()).toBe(hashBefore);
    expect(judgements.map((judgement) => judgement.scenario)).toEqual(['oct-2025-cascade', 'luna-2022']);
    for (const judgement of judgements) {
      expect(judgement.applies).toBe(true);
      expect(judgement.error).toBeUndefined();
      expect(judgement.current?.liquidations).toBeGreaterThan(0);
      expect(judgement.proposed?.badDebtUsd).toMatch(/^\d+\.\d{18}$/);
    }
    // A laxer maintenance fraction on BTC-PERP liquidates later: no fewer bad-debt dollars.
    const cascade = judgements[0]!;
    expect(Number(cascade.proposed?.badDebtUsd)).toBeGreaterThanOrEqual(Number(cascade.current?.badDebtUsd));
  });

  it('a scenario that moves nothing the book holds does not apply', () => {
    const ftx = loadScenarioPath('ftx-2022');
    if (!ftx.ok) throw new Error('scenario');
    expect(relativePath(ftx.value, new Map([['ETH', 3000n * E]]), 0)).toBeNull();
    const moved = relativePath(ftx.value, new Map([['SOL', 100n * E], ['USDC', E]]), 1_000);
    expect(moved?.frames[0]?.prices.get('SOL')).toBe(100n * E);
    expect(moved?.frames[0]?.timestampMs).toBe(1_000);
    // SOL fell from 29.62 to 12.37 at its low: the same ratio from 100.
    const low = Math.min(...(moved?.frames ?? []).map((frame) => Number(frame.prices.get('SOL')) / 1e18));
    expect(low).toBeCloseTo((100 * 12.37) / 29.62, 6);
    expect(moved?.frames.every((frame) => frame.prices.get('USDC') === E)).toBe(true);
  });

  it('uses the demo configuration by default', () => {
    expect(defaultRiskJson(START).quote).toBe(DEMO_CONFIG.quote);
  });
});
