/**
 * Monte Carlo: the same book over N seeded paths of geometric Brownian motion with jumps
 * (paths.ts, MARKET_MODEL), each path played through a fresh oracle into a copy of the book.
 * What it answers: the distribution of bad debt and of the insurance fund's loss, and how large
 * a fund would have covered the bad debt in 99% and 99.9% of paths.
 *
 * Quantiles are nearest-rank over the paths (the smallest value with at least q of the paths
 * at or below it), on exact USD wads. The report's timeline is the worst path's (the largest
 * bad debt; the first on a tie).
 */
import { formatWad, parseDecimal, WAD_DECIMALS } from '../core/fixed.ts';
import type { InputIssue } from '../core/input.ts';
import { err, ok, type Result } from '../core/result.ts';
import { Book, PriceFeeder } from './book.ts';
import { defaultRiskJson, resolveSimConfig, type SimConfig } from './config.ts';
import { marketModelOf, monteCarloPath, type PriceFrame } from './paths.ts';
import { buildReport, type Report } from './report.ts';
import { runPath, type RunResult } from './run.ts';
import { setupBook, type FundingOptions, type ImpactSettings, type SimulatedBook } from './setup.ts';

export interface MonteCarloRunOptions {
  readonly accounts: number;
  readonly seed: number;
  readonly paths: number;
  /** Steps per path after the start; default 168 (a week of hours). */
  readonly steps?: number;
  readonly stepMs?: number;
  readonly configJson?: unknown;
  readonly funding?: FundingOptions;
  readonly impact?: ImpactSettings;
  readonly onPath?: (done: number, paths: number) => void;
}

export interface QuantileRow {
  readonly label: string;
  readonly badDebtUsd: string;
  readonly insuranceFundLossUsd: string;
}

export interface PathSummary {
  readonly path: number;
  readonly seed: number;
  readonly badDebtUsd: string;
  readonly insuranceFundLossUsd: string;
  readonly socializedLossUsd: string;
  readonly liquidations: number;
  readonly stateHash: string;
}

export interface MonteCarloSummary {
  readonly paths: number;
  readonly steps: number;
  readonly stepMs: number;
  readonly correlation: number;
  readonly model: readonly { readonly asset: string; readonly initialPrice: string; readonly volatilityPerYear: number; readonly jumpsPerYear: number; readonly jumpMeanLog: number; readonly jumpStdLog: number }[];
  readonly worstPath: number;
  readonly quantiles: readonly QuantileRow[];
  readonly adequacy: {
    readonly fundStartUsd: string;
    readonly neededAt99Usd: string;
    readonly neededAt999Usd: string;
    readonly coveredAt99: boolean;
    readonly coveredAt999: boolean;
    readonly note: string;
  };
  readonly perPath: readonly PathSummary[];
}

export interface MonteCarloOutcome {
  readonly report: Report & { readonly monteCarlo: MonteCarloSummary };
  /** The worst path's run (the report's timeline). */
  readonly worst: RunResult;
  readonly config: SimConfig;
  readonly setup: SimulatedBook;
}

export const MONTE_CARLO_START_MS = Date.UTC(2025, 0, 1);
const DEFAULT_STEPS = 168;
const DEFAULT_STEP_MS = 3_600_000;
const CORRELATION = 0.7;
const DEMO_ASSETS = ['USDC', 'BTC', 'ETH', 'SOL'];
const QUANTILES: readonly [string, number][] = [
  ['p50', 0.5],
  ['p90', 0.9],
  ['p95', 0.95],
  ['p99', 0.99],
  ['p99.9', 0.999],
];

/** A path's seed from the run's seed and the path's index (32-bit mix, deterministic). */
export function pathSeed(seed: number, path: number): number {
  let x = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(path + 1, 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 0;
  return (x ^ (x >>> 12)) >>> 0;
}

/** Nearest rank: the smallest value with at least a share q of the values at or below it. */
export function quantile(sorted: readonly bigint[], q: number): bigint {
  if (sorted.length === 0) return 0n;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

export function simulateMonteCarlo(options: MonteCarloRunOptions): Result<MonteCarloOutcome, readonly InputIssue[]> {
  const steps = options.steps ?? DEFAULT_STEPS;
  const stepMs = options.stepMs ?? DEFAULT_STEP_MS;
  if (!Number.isInteger(options.paths) || options.paths < 1) return err([{ field: 'paths', message: 'must be a positive integer' }]);
  const assetIds =
    options.configJson === undefined
      ? DEMO_ASSETS
      : (((options.configJson as { assets?: { id?: unknown }[] }).assets ?? []).map((asset) => String(asset.id)));
  const models = assetIds.map((asset) => marketModelOf(asset));
  const startPrices = new Map<string, bigint>();
  for (const model of models) {
    const parsed = parseDecimal(model.initialPrice, WAD_DECIMALS);
    if (parsed.ok) startPrices.set(model.asset, parsed.value);
  }
  const resolved = resolveSimConfig(options.configJson ?? defaultRiskJson(startPrices), stepMs);
  if (!resolved.ok) return resolved;
  const config = resolved.value;
  // The quote of a file's configuration may not be listed: it is then priced at 1 by the setup.
  const modelled = models.filter((model) => config.risk.assets.has(model.asset));
  const start: PriceFrame = { timestampMs: MONTE_CARLO_START_MS, prices: startPrices };
  const setup = setupBook({ ...options, config, start, keepLog: false });
  const snapshot = setup.book.ledger.snapshot();

  const perPath: PathSummary[] = [];
  const badDebts: bigint[] = [];
  const fundLosses: bigint[] = [];
  let worst: { index: number; run: RunResult } | null = null;
  let conservation: 'held' | 'violated' = 'held';
  let healthyLiquidated = 0;
  for (let index = 0; index < options.paths; index += 1) {
    const seed = pathSeed(options.seed, index);
    const book = Book.fromSnapshot(snapshot, false);
    const feeder = new PriceFeeder(config.oracle, book, config.heartbeatMs);
    const path = monteCarloPath({ seed, startMs: MONTE_CARLO_START_MS, stepMs, steps, assets: modelled, correlation: CORRELATION });
    const run = runPath({
      book,
      feeder,
      path,
      startFed: false,
      heldPrices: setup.heldPrices,
      impact: setup.impact,
      ...(setup.keeper !== undefined && { keeper: setup.keeper }),
    });
    const fundLoss = run.insuranceFundStartUsd - run.insuranceFundEndUsd;
    badDebts.push(run.totals.badDebtUsd);
    fundLosses.push(fundLoss);
    if (run.invariants.conservation === 'violated') conservation = 'violated';
    healthyLiquidated += run.invariants.healthyLiquidated;
    perPath.push({
      path: index,
      seed,
      badDebtUsd: formatWad(run.totals.badDebtUsd),
      insuranceFundLossUsd: formatWad(fundLoss),
      socializedLossUsd: formatWad(run.totals.socializedLossUsd),
      liquidations: run.totals.liquidations,
      stateHash: run.stateHash,
    });
    if (worst === null || run.totals.badDebtUsd > worst.run.totals.badDebtUsd) worst = { index, run };
    options.onPath?.(index + 1, options.paths);
  }
  if (worst === null) return err([{ field: 'paths', message: 'no path ran' }]);

  const sortedDebts = [...badDebts].sort(compareBig);
  const sortedLosses = [...fundLosses].sort(compareBig);
  const quantiles: QuantileRow[] = QUANTILES.map(([label, q]) => ({
    label,
    badDebtUsd: formatWad(quantile(sortedDebts, q)),
    insuranceFundLossUsd: formatWad(quantile(sortedLosses, q)),
  }));
  quantiles.push({
    label: 'max',
    badDebtUsd: formatWad(sortedDebts[sortedDebts.length - 1] ?? 0n),
    insuranceFundLossUsd: formatWad(sortedLosses[sortedLosses.length - 1] ?? 0n),
  });
  quantiles.push({
    label: 'mean',
    badDebtUsd: formatWad(mean(badDebts)),
    insuranceFundLossUsd: formatWad(mean(fundLosses)),
  });
  const fundStart = worst.run.insuranceFundStartUsd;
  const needed99 = quantile(sortedDebts, 0.99);
  const needed999 = quantile(sortedDebts, 0.999);
  const note =
    options.paths >= 1_000
      ? 'Fund needed: the bad debt (deficits the fund must absorb) of the 99th and 99.9th percentile path, before penalty income.'
      : `Fund needed: the bad debt of the 99th and 99.9th percentile path, before penalty income. With ${options.paths} paths the ${options.paths < 100 ? '99% and 99.9% figures are' : '99.9% figure is'} the worst path's; run at least ${options.paths < 100 ? '100 (1,000 for 99.9%)' : '1,000'} paths for a tail estimate.`;
  const summary: MonteCarloSummary = {
    paths: options.paths,
    steps,
    stepMs,
    correlation: CORRELATION,
    model: modelled.map((model) => ({
      asset: model.asset,
      initialPrice: model.initialPrice,
      volatilityPerYear: model.volatilityPerYear,
      jumpsPerYear: model.jumpsPerYear ?? 0,
      jumpMeanLog: model.jumpMeanLog ?? 0,
      jumpStdLog: model.jumpStdLog ?? 0,
    })),
    worstPath: worst.index,
    quantiles,
    adequacy: {
      fundStartUsd: formatWad(fundStart),
      neededAt99Usd: formatWad(needed99),
      neededAt999Usd: formatWad(needed999),
      coveredAt99: fundStart >= needed99,
      coveredAt999: fundStart >= needed999,
      note,
    },
    perPath,
  };
  const base = buildReport(
    { scenario: 'montecarlo', seed: options.seed, accounts: setup.accounts, configHash: config.configHash },
    worst.run,
  );
  const report = { ...base, invariants: { conservation, healthyLiquidated }, monteCarlo: summary };
  return ok({ report, worst: worst.run, config, setup });
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function mean(values: readonly bigint[]): bigint {
  if (values.length === 0) return 0n;
  return values.reduce((sum, value) => sum + value, 0n) / BigInt(values.length);
}
