import { describe, expect, it } from 'vitest';
import { reportText } from './report.ts';
import { pathSeed, quantile, simulateMonteCarlo } from './montecarlo.ts';

describe('quantile (nearest rank)', () => {
  const values = Array.from({ length: 1000 }, (_, index) => BigInt(index + 1));
  it('is the smallest value with at least q of the values at or below it', () => {
    expect(quantile(values, 0.5)).toBe(500n);
    expect(quantile(values, 0.99)).toBe(990n);
    expect(quantile(values, 0.999)).toBe(999n);
    expect(quantile(values, 1)).toBe(1000n);
    expect(quantile([7n], 0.999)).toBe(7n);
    expect(quantile([], 0.5)).toBe(0n);
    expect(quantile([1n, 2n, 3n], 0.99)).toBe(3n);
  });
});

describe('Monte Carlo', () => {
  it('path seeds differ per path and per run seed, and stay 32-bit', () => {
    const seeds = new Set(Array.from({ length: 1000 }, (_, path) => pathSeed(1, path)));
    expect(seeds.size).toBe(1000);
    expect(pathSeed(1, 0)).not.toBe(pathSeed(2, 0));
    for (const seed of seeds) expect(seed >>> 0).toBe(seed);
  });

  it('reports quantiles of bad debt and fund loss, fund adequacy at 99% and 99.9%, the worst path, and is deterministic', () => {
    const run = () => {
      const outcome = simulateMonteCarlo({ accounts: 300, seed: 11, paths: 6, steps: 48 });
      if (!outcome.ok) throw new Error(JSON.stringify(outcome.error));
      return outcome.value;
    };
    const { report, worst } = run();
    expect(report.scenario).toBe('montecarlo');
    const mc = report.monteCarlo;
    expect(mc.paths).toBe(6);
    expect(mc.perPath).toHaveLength(6);
    expect(mc.quantiles.map((row) => row.label)).toEqual(['p50', 'p90', 'p95', 'p99', 'p99.9', 'max', 'mean']);
    const debts = mc.perPath.map((path) => Number(path.badDebtUsd)).sort((a, b) => a - b);
    expect(Number(mc.quantiles.find((row) => row.label === 'max')?.badDebtUsd)).toBe(debts[debts.length - 1]);
    expect(Number(mc.adequacy.neededAt99Usd)).toBe(debts[debts.length - 1]);
    expect(mc.adequacy.coveredAt99).toBe(Number(mc.adequacy.fundStartUsd) >= Number(mc.adequacy.neededAt99Usd));
    expect(mc.adequacy.note).toContain('at least 100');
    expect(report.totals.badDebtUsd).toBe(mc.perPath[mc.worstPath]?.badDebtUsd);
    expect(report.stateHash).toBe(mc.perPath[mc.worstPath]?.stateHash);
    expect(report.timeline).toHaveLength(49);
    expect(report.invariants).toEqual({ conservation: 'held', healthyLiquidated: 0 });
    expect(worst.invariants.violations).toEqual([]);
    // Paths differ from each other.
    expect(new Set(mc.perPath.map((path) => path.stateHash)).size).toBe(6);
    expect(reportText(run().report)).toBe(reportText(report));
  });
});
