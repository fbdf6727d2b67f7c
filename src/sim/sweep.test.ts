import { describe, expect, it } from 'vitest';
import { DEMO_CONFIG } from '../service/demo.ts';
import { loadScenarioPath } from './paths.ts';
import { configForPath } from './simulate.ts';
import { applyParameter, parseSweep, runSweep, sweepHtml, sweepSvg, sweepTable } from './sweep.ts';

const { oracle: _oracle, ...RISK } = DEMO_CONFIG;
type Entry = { id: string } & Record<string, unknown>;
const asset = (json: Record<string, unknown>, id: string): Entry => (json.assets as Entry[]).find((entry) => entry.id === id)!;
const market = (json: Record<string, unknown>, id: string): Entry => (json.markets as Entry[]).find((entry) => entry.id === id)!;

describe('parseSweep', () => {
  it('reads param=from:to:step into canonical decimal values', () => {
    const spec = parseSweep('liquidationPenalty=0.02:0.10:0.01');
    expect(spec.ok && spec.value.parameter).toBe('liquidationPenalty');
    expect(spec.ok && spec.value.values).toEqual(['0.02', '0.03', '0.04', '0.05', '0.06', '0.07', '0.08', '0.09', '0.1']);
    const uneven = parseSweep('warningRatio=1:1.5:0.2');
    expect(uneven.ok && uneven.value.values).toEqual(['1', '1.2', '1.4']);
  });

  it.each([
    ['liquidationPenalty', 'expected param=from:to:step'],
    ['liquidationPenalty=0.1:0.02:0.01', 'to must not be below from'],
    ['liquidationPenalty=0.02:0.1:0', 'step must be greater than zero'],
    ['liquidationPenalty=1e-2:0.1:0.01', 'from'],
    ['liquidationPenalty=0:1000:0.001', 'at most 200'],
  ])('refuses %j', (text, message) => {
    const spec = parseSweep(text);
    expect(spec.ok).toBe(false);
    if (!spec.ok) expect(spec.error).toContain(message);
  });
});

describe('applyParameter', () => {
  it('sets a per-asset field on every asset, or on one', () => {
    const all = applyParameter(RISK, 'liquidationPenalty', '0.07');
    expect(all.ok).toBe(true);
    if (!all.ok) return;
    for (const entry of all.value.assets as Entry[]) expect(entry.liquidationPenalty).toBe('0.07');
    const one = applyParameter(RISK, 'assets.ETH.liquidationPenalty', '0.09');
    if (!one.ok) throw new Error(one.error);
    expect(asset(one.value, 'ETH').liquidationPenalty).toBe('0.09');
    expect(asset(one.value, 'BTC').liquidationPenalty).toBe('0.05');
    // The input is not changed.
    expect(asset(RISK, 'ETH').liquidationPenalty).toBe('0.05');
  });

  it('sets nested, market and top-level fields; integers stay JSON integers', () => {
    const weights = applyParameter(RISK, 'collateral.maintenanceWeight', '0.9');
    if (!weights.ok) throw new Error(weights.error);
    expect((asset(weights.value, 'SOL').collateral as Record<string, string>).maintenanceWeight).toBe('0.9');
    const fraction = applyParameter(RISK, 'markets.ETH-PERP.maintenanceMarginFraction', '0.06');
    if (!fraction.ok) throw new Error(fraction.error);
    expect(market(fraction.value, 'ETH-PERP').maintenanceMarginFraction).toBe('0.06');
    expect(market(fraction.value, 'BTC-PERP').maintenanceMarginFraction).toBe('0.05');
    const allMarkets = applyParameter(RISK, 'liquidationFee', '0.02');
    if (!allMarkets.ok) throw new Error(allMarkets.error);
    for (const entry of allMarkets.value.markets as Entry[]) expect(entry.liquidationFee).toBe('0.02');
    const share = applyParameter(RISK, 'liquidation.insuranceShare', '0.8');
    if (!share.ok) throw new Error(share.error);
    expect((share.value.liquidation as Record<string, unknown>).insuranceShare).toBe('0.8');
    const window = applyParameter(RISK, 'liquidation.windowMs', '30000');
    if (!window.ok) throw new Error(window.error);
    expect((window.value.liquidation as Record<string, unknown>).windowMs).toBe(30_000);
    expect(applyParameter(RISK, 'liquidation.windowMs', '0.5').ok).toBe(false);
  });

  it('names what is wrong', () => {
    const unknown = applyParameter(RISK, 'leverage', '3');
    expect(!unknown.ok && unknown.error).toContain('unknown parameter "leverage"');
    const missing = applyParameter(RISK, 'assets.DOGE.liquidationPenalty', '0.1');
    expect(!missing.ok && missing.error).toContain('no asset "DOGE"');
  });
});

describe('runSweep', () => {
  it('runs the scenario once per value on the same book and charts bad debt and liquidations', () => {
    const path = loadScenarioPath('oct-2025-cascade');
    if (!path.ok) throw new Error('scenario');
    const config = configForPath(undefined, path.value);
    if (!config.ok) throw new Error('config');
    const spec = parseSweep('markets.BTC-PERP.maintenanceMarginFraction=0.03:0.09:0.03');
    if (!spec.ok) throw new Error(spec.error);
    const result = runSweep({ path: path.value, config: config.value, accounts: 300, seed: 9, spec: spec.value });
    expect(result.rows.map((row) => row.value)).toEqual(['0.03', '0.06', '0.09']);
    // 0.09 is not below the initial fraction 0.1: valid; every row ran.
    for (const row of result.rows) expect(row.error).toBeUndefined();
    // A stricter maintenance fraction liquidates at least as many accounts at once.
    const atOnce = result.rows.map((row) => row.accountsLiquidatableAtStart ?? 0);
    expect(atOnce[2]).toBeGreaterThanOrEqual(atOnce[0]!);
    expect(new Set(result.rows.map((row) => row.configHash)).size).toBe(3);
    const table = sweepTable(result);
    expect(table.split('\n')[0]).toContain('markets.BTC-PERP.maintenanceMarginFraction');
    expect(table.split('\n')).toHaveLength(5);
    const svg = sweepSvg(result);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<circle /g)?.length).toBe(9);
    expect(sweepHtml(result)).toContain('<svg class="sweep"');
  });

  it('reports an invalid value instead of running it', () => {
    const path = loadScenarioPath('usdc-depeg-2023');
    if (!path.ok) throw new Error('scenario');
    const config = configForPath(undefined, path.value);
    if (!config.ok) throw new Error('config');
    // Maintenance weights above 1 are invalid.
    const spec = parseSweep('assets.ETH.collateral.maintenanceWeight=0.95:1.05:0.1');
    if (!spec.ok) throw new Error(spec.error);
    const result = runSweep({ path: path.value, config: config.value, accounts: 100, seed: 1, spec: spec.value });
    expect(result.rows[0]?.error).toBeUndefined();
    expect(result.rows[1]?.error).toContain('INVALID_CONFIG');
    expect(sweepTable(result)).toContain('invalid: INVALID_CONFIG');
  });
});
