/**
 * `simulate`: a scenario (a crisis by name or file) replayed over a seeded population. The
 * pieces: config.ts (what configuration), paths.ts (what prices), setup.ts (what book),
 * run.ts (the run), report.ts and html.ts (what it found). Monte Carlo and parameter sweeps
 * (montecarlo.ts, sweep.ts) reuse the same setup and run.
 */
import type { SealedEvent } from '../core/ledger/ledger.ts';
import type { InputIssue } from '../core/input.ts';
import { err, ok, type Result } from '../core/result.ts';
import { defaultRiskJson, resolveSimConfig, type SimConfig } from './config.ts';
import { loadScenarioPath, maxFrameGapMs, type PricePath } from './paths.ts';
import { buildReport, type Report } from './report.ts';
import { runPath, type Progress, type RunResult } from './run.ts';
import { setupBook, type FundingOptions, type ImpactSettings, type SimulatedBook } from './setup.ts';

export interface ScenarioOptions {
  /** A bundled scenario name or a scenario file path. */
  readonly scenario: string;
  readonly accounts: number;
  readonly seed: number;
  /** The configuration file's JSON (risk.json, optionally with `oracle`); absent: the default. */
  readonly configJson?: unknown;
  readonly funding?: FundingOptions;
  readonly impact?: ImpactSettings;
  /** Keep every sealed event (for a replay). */
  readonly keepLog?: boolean;
  /** Value every account exactly every this many frames and compare with the screen (tests). */
  readonly crossCheckEveryFrames?: number;
  readonly onProgress?: (progress: Progress) => void;
}

export interface ScenarioOutcome {
  readonly report: Report;
  readonly run: RunResult;
  readonly path: PricePath;
  readonly config: SimConfig;
  readonly setup: SimulatedBook;
  /** Every sealed event when `keepLog` was set. */
  readonly log: readonly SealedEvent[] | null;
}

/** The configuration for a path: the file's, or the default for the path's assets. */
export function configForPath(configJson: unknown, path: PricePath): Result<SimConfig, readonly InputIssue[]> {
  const start = path.frames[0];
  if (start === undefined) return err([{ field: 'scenario', message: 'the price path has no frames' }]);
  return resolveSimConfig(configJson ?? defaultRiskJson(start.prices), maxFrameGapMs(path));
}

export function simulateScenario(options: ScenarioOptions): Result<ScenarioOutcome, readonly InputIssue[]> {
  const path = loadScenarioPath(options.scenario);
  if (!path.ok) return path;
  const config = configForPath(options.configJson, path.value);
  if (!config.ok) return config;
  return ok(simulatePath({ ...options, path: path.value, config: config.value }));
}

export function simulatePath(
  options: Omit<ScenarioOptions, 'scenario' | 'configJson'> & { readonly path: PricePath; readonly config: SimConfig },
): ScenarioOutcome {
  const { path, config } = options;
  const start = path.frames[0];
  if (start === undefined) throw new Error('simulatePath: empty path');
  const setup = setupBook({ ...options, config, start, keepLog: options.keepLog ?? false });
  const run = runPath({
    book: setup.book,
    feeder: setup.feeder,
    path,
    startFed: true,
    heldPrices: setup.heldPrices,
    impact: setup.impact,
    ...(setup.keeper !== undefined && { keeper: setup.keeper }),
    ...(options.crossCheckEveryFrames !== undefined && { crossCheckEveryFrames: options.crossCheckEveryFrames }),
    ...(options.onProgress !== undefined && { onProgress: options.onProgress }),
  });
  const report = buildReport(
    { scenario: path.id, seed: options.seed, accounts: setup.accounts, configHash: config.configHash },
    run,
  );
  return { report, run, path, config, setup, log: setup.book.log };
}
