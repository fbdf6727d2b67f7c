/**
 * Price paths the simulator plays: a start (every asset priced) and frames, each an instant
 * with every asset's price then.
 *
 * - A **scenario** (a crisis file, src/sim/scenarios/): the playback frames of
 *   src/oracle/feeds/playback.ts, each series holding its last price between its own ticks,
 *   and before its first tick its first price (so the population can hold an asset whose
 *   record starts later).
 * - **Monte Carlo**: geometric Brownian motion with jumps from the seeded SimulatedFeed.
 * - A scenario **relative to live prices** (pre-flight): the crisis's moves applied to today's
 *   prices of the assets a live book holds; its other assets hold still.
 *
 * Prices are wads; Monte Carlo prices come from the feed's decimal strings.
 */
import { parseDecimal, WAD_DECIMALS, mulDivDown } from '../core/fixed.ts';
import type { InputIssue } from '../core/input.ts';
import { ok, type Result } from '../core/result.ts';
import { loadScenario, scenarioFrames, type Scenario } from '../oracle/feeds/playback.ts';
import { SimulatedFeed, type SimulatedAssetOptions } from '../oracle/feeds/simulated.ts';

export interface PriceFrame {
  readonly timestampMs: number;
  /** Every asset of the path, priced. */
  readonly prices: ReadonlyMap<string, bigint>;
}

export interface PricePath {
  /** The scenario id ("black-thursday-2020", "montecarlo", …). */
  readonly id: string;
  readonly title: string;
  /** Frame 0 is the start: the population is built at its prices. */
  readonly frames: readonly PriceFrame[];
}

export function scenarioPath(scenario: Scenario): PricePath {
  const first = new Map<string, bigint>();
  for (const series of scenario.series) {
    const price = series.kind === 'candles' ? series.candles[0]?.open.wad : series.points[0]?.price.wad;
    if (price !== undefined) first.set(series.asset, price);
  }
  const played = scenarioFrames(scenario);
  const frames: PriceFrame[] = [];
  for (const frame of played) {
    const prices = new Map(first);
    for (const [asset, price] of frame.prices) prices.set(asset, price.wad);
    frames.push({ timestampMs: frame.timestampMs, prices });
  }
  return { id: scenario.id, title: scenario.title, frames };
}

/** A bundled scenario by name or a scenario file by path, as a price path. */
export function loadScenarioPath(nameOrPath: string): Result<PricePath, readonly InputIssue[]> {
  const loaded = loadScenario(nameOrPath);
  return loaded.ok ? ok(scenarioPath(loaded.value)) : loaded;
}

// ---------------------------------------------------------------------------------------
// Monte Carlo.

export interface MonteCarloOptions {
  readonly seed: number;
  readonly startMs: number;
  readonly stepMs: number;
  /** Frames after the start. */
  readonly steps: number;
  readonly assets: readonly SimulatedAssetOptions[];
  readonly correlation: number;
}

/**
 * A stressed market by default (annual volatilities above the long-run ones, a few large
 * downward jumps a year, correlation 0.7): the model of the adequacy question, "how bad can
 * a week get". Stablecoins wander by 2% a year with rare small depegs.
 */
export const MARKET_MODEL: Readonly<Record<string, Omit<SimulatedAssetOptions, 'asset'>>> = {
  BTC: { initialPrice: '60000', volatilityPerYear: 0.8, jumpsPerYear: 10, jumpMeanLog: -0.08, jumpStdLog: 0.06 },
  ETH: { initialPrice: '3000', volatilityPerYear: 1.0, jumpsPerYear: 12, jumpMeanLog: -0.1, jumpStdLog: 0.08 },
  SOL: { initialPrice: '150', volatilityPerYear: 1.4, jumpsPerYear: 14, jumpMeanLog: -0.14, jumpStdLog: 0.1 },
};
const STABLE_MODEL: Omit<SimulatedAssetOptions, 'asset'> = {
  initialPrice: '1',
  volatilityPerYear: 0.02,
  jumpsPerYear: 0.5,
  jumpMeanLog: -0.03,
  jumpStdLog: 0.02,
};
const GENERIC_MODEL: Omit<SimulatedAssetOptions, 'asset'> = {
  initialPrice: '100',
  volatilityPerYear: 1.2,
  jumpsPerYear: 12,
  jumpMeanLog: -0.12,
  jumpStdLog: 0.1,
};
const STABLE_IDS = new Set(['USDC', 'USDT', 'DAI', 'USD', 'UST', 'BUSD', 'FRAX', 'PYUSD', 'USDE']);

/** The model of one asset: the table above, a stablecoin profile, or a generic volatile one. */
export function marketModelOf(asset: string): SimulatedAssetOptions {
  const model = MARKET_MODEL[asset] ?? (STABLE_IDS.has(asset.toUpperCase()) ? STABLE_MODEL : GENERIC_MODEL);
  return { asset, ...model };
}

export function monteCarloPath(options: MonteCarloOptions): PricePath {
  const feed = new SimulatedFeed({
    seed: options.seed,
    startMs: options.startMs,
    stepMs: options.stepMs,
    assets: options.assets,
    correlation: options.correlation,
    sources: ['montecarlo'],
    significantDigits: 12,
  });
  const frames: PriceFrame[] = [];
  for (let step = 0; step <= options.steps; step += 1) {
    const timestampMs = feed.nowMs;
    const prices = new Map<string, bigint>();
    for (const update of feed.step()) {
      const parsed = parseDecimal(update.price, WAD_DECIMALS);
      if (!parsed.ok) throw new Error(`monteCarloPath: feed printed ${update.price}`);
      prices.set(update.asset, parsed.value);
    }
    frames.push({ timestampMs, prices });
  }
  return { id: 'montecarlo', title: 'Monte Carlo: geometric Brownian motion with jumps', frames };
}

// ---------------------------------------------------------------------------------------
// Relative to live prices.

/**
 * The path's moves applied to `live` prices: an asset both carry moves by the path's ratio to
 * its start (rounded down); the live book's other assets hold their price. The clock starts at
 * `startMs`. Null when the two share no asset (the scenario does not touch the book).
 */
export function relativePath(path: PricePath, live: ReadonlyMap<string, bigint>, startMs: number): PricePath | null {
  const start = path.frames[0];
  if (start === undefined) return null;
  const shared = [...live.keys()].filter((asset) => start.prices.has(asset));
  if (shared.length === 0) return null;
  const offsetMs = startMs - start.timestampMs;
  const frames = path.frames.map((frame) => {
    const prices = new Map(live);
    for (const asset of shared) {
      const from = start.prices.get(asset) ?? 1n;
      const to = frame.prices.get(asset) ?? from;
      const moved = mulDivDown(live.get(asset) ?? 0n, to, from);
      prices.set(asset, moved > 0n ? moved : 1n);
    }
    return { timestampMs: frame.timestampMs + offsetMs, prices };
  });
  return { id: path.id, title: path.title, frames };
}

/** The longest time between two consecutive frames (the oracle must stay fresh across it). */
export function maxFrameGapMs(path: PricePath): number {
  let gap = 0;
  for (let index = 1; index < path.frames.length; index += 1) {
    gap = Math.max(gap, path.frames[index]!.timestampMs - path.frames[index - 1]!.timestampMs);
  }
  return gap;
}
