/**
 * Every built-in crisis through the whole engine at a small size, with the invariants the
 * issue asks for (INV-1 conservation, no healthy account liquidated, fund ≥ 0 or socialisation
 * recorded, replay reaching the report's state hash), the screen checked against a full exact
 * valuation, and the same seed giving the same bytes.
 */
import { describe, expect, it } from 'vitest';
import { WAD } from '../src/core/fixed.ts';
import { checkInvariants } from '../src/core/ledger/invariants.ts';
import { Ledger } from '../src/core/ledger/ledger.ts';
import { SYSTEM } from '../src/core/ledger/state.ts';
import { BUNDLED_SCENARIOS } from '../src/oracle/feeds/playback.ts';
import { reportText } from '../src/sim/report.ts';
import { simulateScenario, type ScenarioOutcome } from '../src/sim/simulate.ts';

/** The CI size (at most 2,000 accounts): the file runs in well under a minute. */
const ACCOUNTS = 2_000;
const SEED = 20_240_601;

function run(scenario: string, accounts: number, seed: number, extra: { keepLog?: boolean; crossCheckEveryFrames?: number } = {}): ScenarioOutcome {
  const outcome = simulateScenario({ scenario, accounts, seed, ...extra });
  if (!outcome.ok) throw new Error(JSON.stringify(outcome.error));
  return outcome.value;
}

function wad(text: string): bigint {
  const [whole = '0', fraction = ''] = text.split('.');
  return BigInt(whole) * WAD + BigInt(fraction.padEnd(18, '0').slice(0, 18)) * (text.startsWith('-') ? -1n : 1n);
}

describe.each([...BUNDLED_SCENARIOS])('simulate %s', (scenario) => {
  it(`${ACCOUNTS} accounts: conservation held, no healthy account liquidated, fund ≥ 0 or socialisation recorded, replay reaches the state hash`, () => {
    const { report, run: result, log, config } = run(scenario, ACCOUNTS, SEED, { keepLog: true, crossCheckEveryFrames: 3 });

    // The report's shape, exactly.
    expect(Object.keys(report)).toEqual(['scenario', 'seed', 'accounts', 'configHash', 'totals', 'timeline', 'invariants', 'stateHash']);
    expect(Object.keys(report.totals)).toEqual([
      'liquidations',
      'liquidatedNotionalUsd',
      'penaltiesUsd',
      'badDebtUsd',
      'insuranceFundStartUsd',
      'insuranceFundEndUsd',
      'insuranceFundMinUsd',
      'socializedLossUsd',
      'deleveragingEvents',
    ]);
    expect(Object.keys(report.timeline[0]!)).toEqual([
      't',
      'prices',
      'accountsWarning',
      'accountsLiquidatable',
      'liquidations',
      'insuranceFundUsd',
      'badDebtUsd',
    ]);
    expect(report.scenario).toBe(scenario);
    expect(report.accounts).toBeGreaterThan(ACCOUNTS * 0.95);
    for (const value of [...Object.values(report.totals), ...report.timeline.flatMap((entry) => [entry.insuranceFundUsd, entry.badDebtUsd, ...Object.values(entry.prices)])]) {
      if (typeof value === 'string') expect(value).toMatch(/^-?(0|[1-9][0-9]*)\.[0-9]{18}$/);
    }
    const times = report.timeline.map((entry) => Date.parse(entry.t));
    expect(times.every((time, index) => index === 0 || time > times[index - 1]!)).toBe(true);

    // Conservation (INV-1, INV-2, INV-7) at every frame, and no halt.
    expect(result.invariants.violations).toEqual([]);
    expect(report.invariants.conservation).toBe('held');
    // No healthy account liquidated: the ledger's own record of every liquidation, and the
    // simulator's exact check before each one.
    expect(report.invariants.healthyLiquidated).toBe(0);
    expect(result.totals.liquidations).toBe(report.timeline.reduce((sum, entry) => sum + entry.liquidations, 0));
    // The float screen agreed with a full exact valuation wherever it was checked.
    expect(result.diagnostics.crossChecks).toBeGreaterThan(0);
    expect(result.diagnostics.crossCheckMismatches).toBe(0);

    // The insurance fund never goes below zero; when it could not have paid for all the bad
    // debt, what it could not pay was socialised (lenders' haircut or deleveraging), never hidden.
    for (const entry of report.timeline) expect(wad(entry.insuranceFundUsd)).toBeGreaterThanOrEqual(0n);
    expect(wad(report.totals.insuranceFundMinUsd)).toBeGreaterThanOrEqual(0n);
    const bad = wad(report.totals.badDebtUsd);
    if (bad > wad(report.totals.insuranceFundStartUsd) + wad(report.totals.penaltiesUsd)) {
      expect(wad(report.totals.socializedLossUsd) > 0n || report.totals.deleveragingEvents > 0).toBe(true);
    }
    const replayed = Ledger.create(config.risk, config.riskJson);
    for (const event of log ?? []) replayed.apply(event);
    for (const balance of replayed.state.accounts.get(SYSTEM.insurance)?.balances.values() ?? []) expect(balance.amount).toBeGreaterThanOrEqual(0n);
    // Every deficit was recorded: no account is left liquidatable without a refusal saying why.
    if (result.diagnostics.liquidatableAtEnd > 0) expect(Object.keys(result.diagnostics.refusals).length).toBeGreaterThan(0);

    // Replay of the run's log from an empty ledger reaches the report's state hash.
    expect(log?.length).toBeGreaterThan(0);
    expect(replayed.headSeq).toBe(log?.length);
    expect(replayed.stateHash()).toBe(report.stateHash);
    expect(checkInvariants(replayed.state)).toEqual([]);
  });
});

describe('simulate: determinism', () => {
  it('the same seed gives a byte-identical report.json; another seed a different book', () => {
    const first = reportText(run('oct-2025-cascade', 400, 42).report);
    const second = reportText(run('oct-2025-cascade', 400, 42).report);
    expect(second).toBe(first);
    const other = run('oct-2025-cascade', 400, 43).report;
    expect(other.stateHash).not.toBe(JSON.parse(first).stateHash);
    expect(first).not.toMatch(/"elapsed|Date|wall/);
  });
});
