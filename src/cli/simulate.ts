/**
 * `collateral simulate --scenario NAME|FILE|montecarlo [--accounts N] [--seed S] [--out DIR]
 *   [--config risk.json] [--paths N] [--steps N] [--sweep param=from:to:step]
 *   [--insurance USD] [--backstop USD] [--depth USD|ASSET=USD,…] [--impact-half-life-ms MS]`
 *
 * Writes report.json and report.html to --out (default ./simulation), or for a sweep
 * sweep.json, sweep.svg and sweep.html, and prints the sweep's table. On a terminal a progress
 * bar runs on stderr and a short summary follows; otherwise stdout gets one line of JSON.
 * Exit code 1 when an invariant was violated (conservation, or a healthy account liquidated).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDecimal, WAD_DECIMALS } from '../core/fixed.ts';
import { renderReportHtml, usd } from '../sim/html.ts';
import { simulateMonteCarlo } from '../sim/montecarlo.ts';
import { loadScenarioPath } from '../sim/paths.ts';
import { reportText } from '../sim/report.ts';
import type { Progress } from '../sim/run.ts';
import type { FundingOptions, ImpactSettings, SimulatedBook } from '../sim/setup.ts';
import { configForPath, simulatePath } from '../sim/simulate.ts';
import { parseSweep, runSweep, sweepHtml, sweepSvg, sweepTable } from '../sim/sweep.ts';
import { CliError, inputError, readFlags, readJsonFile } from './io.ts';

const FLAGS = [
  'scenario',
  'accounts',
  'seed',
  'out',
  'config',
  'paths',
  'steps',
  'sweep',
  'insurance',
  'backstop',
  'depth',
  'impact-half-life-ms',
] as const;

const ACCOUNTS_MAX = 10_000_000;

export async function simulateCommand(args: readonly string[]): Promise<number> {
  const flags = readFlags(args, FLAGS, ['scenario']);
  const scenario = flags.scenario as string;
  const accounts = readInteger(flags.accounts ?? '1000', 'accounts', 1, ACCOUNTS_MAX);
  const seed = readInteger(flags.seed ?? '1', 'seed', 0, 0xffff_ffff);
  const out = flags.out ?? 'simulation';
  const configJson = flags.config === undefined ? undefined : await readJsonFile(flags.config);
  const funding: FundingOptions = {
    ...(flags.insurance !== undefined && { insuranceUsd: readUsd(flags.insurance, 'insurance') }),
    ...(flags.backstop !== undefined && { backstopUsd: readUsd(flags.backstop, 'backstop') }),
  };
  const impact: ImpactSettings = {
    ...(flags.depth !== undefined && { depthUsd: readDepth(flags.depth) }),
    ...(flags['impact-half-life-ms'] !== undefined && {
      halfLifeMs: readInteger(flags['impact-half-life-ms'], 'impact-half-life-ms', 1, 365 * 86_400_000),
    }),
  };
  const terminal = process.stdout.isTTY === true && process.stderr.isTTY === true;
  const bar = terminal ? new ProgressBar(scenario) : null;
  const startedMs = Date.now();
  await mkdir(out, { recursive: true });

  if (scenario === 'montecarlo') {
    if (flags.sweep !== undefined) throw new CliError('--sweep replays a scenario; it does not combine with montecarlo');
    const paths = readInteger(flags.paths ?? '100', 'paths', 1, 100_000);
    const steps = readInteger(flags.steps ?? '168', 'steps', 1, 100_000);
    const outcome = simulateMonteCarlo({
      accounts,
      seed,
      paths,
      steps,
      funding,
      impact,
      ...(configJson !== undefined && { configJson }),
      onPath: (done, total) => bar?.update(done / total, `path ${done}/${total}`),
    });
    if (!outcome.ok) throw inputError(flags.config ?? 'configuration', outcome.error);
    bar?.done();
    const { report, worst, setup } = outcome.value;
    await writeFile(join(out, 'report.json'), reportText(report));
    await writeFile(
      join(out, 'report.html'),
      renderReportHtml({
        title: `Monte Carlo, ${paths} paths of ${steps} hours`,
        report,
        run: worst,
        parameters: parameters(setup, { paths: String(paths), steps: `${steps} × 1 h` }),
        monteCarlo: report.monteCarlo,
      }),
    );
    const adequacy = report.monteCarlo.adequacy;
    return finish(terminal, out, startedMs, report, {
      badDebtP99Usd: report.monteCarlo.quantiles.find((row) => row.label === 'p99')?.badDebtUsd,
      fundNeededAt99Usd: adequacy.neededAt99Usd,
      fundNeededAt999Usd: adequacy.neededAt999Usd,
    });
  }

  const path = loadScenarioPath(scenario);
  if (!path.ok) throw inputError('--scenario', path.error);
  const config = configForPath(configJson, path.value);
  if (!config.ok) throw inputError(flags.config ?? 'configuration', config.error);
  const onProgress = (progress: Progress): void =>
    bar?.update(progress.frame / progress.frames, `step ${progress.frame}/${progress.frames} · ${progress.liquidations.toLocaleString('en-US')} liquidations`);

  if (flags.sweep !== undefined) {
    const spec = parseSweep(flags.sweep);
    if (!spec.ok) throw new CliError(spec.error);
    const result = runSweep({
      path: path.value,
      config: config.value,
      accounts,
      seed,
      spec: spec.value,
      funding,
      impact,
      onProgress: (value, values, progress) =>
        bar?.update((value + progress.frame / progress.frames) / values, `${spec.value.parameter} = ${spec.value.values[value]} (${value + 1}/${values})`),
    });
    bar?.done();
    await writeFile(join(out, 'sweep.json'), reportText(result));
    await writeFile(join(out, 'sweep.svg'), sweepSvg(result));
    await writeFile(join(out, 'sweep.html'), sweepHtml(result));
    process.stdout.write(`${sweepTable(result)}\n`);
    if (terminal) process.stdout.write(`\nchart: ${join(out, 'sweep.html')} (${join(out, 'sweep.svg')}), data: ${join(out, 'sweep.json')}\n`);
    return 0;
  }

  const outcome = simulatePath({
    path: path.value,
    config: config.value,
    accounts,
    seed,
    funding,
    impact,
    onProgress,
  });
  bar?.done();
  await writeFile(join(out, 'report.json'), reportText(outcome.report));
  await writeFile(
    join(out, 'report.html'),
    renderReportHtml({
      title: path.value.title,
      report: outcome.report,
      run: outcome.run,
      parameters: parameters(outcome.setup, {}),
    }),
  );
  return finish(terminal, out, startedMs, outcome.report, {});
}

function parameters(setup: SimulatedBook, extra: Readonly<Record<string, string>>): Record<string, string> {
  const money = (wad: bigint): string => `${(wad / 10n ** 18n).toLocaleString('en-US')} USD`;
  const depth = [...setup.impact.depthUsd].map(([asset, usd]) => `${asset} ${Math.round(usd).toLocaleString('en-US')}`).join(', ');
  const kinds = new Map<string, number>();
  for (const plan of setup.population.plans) kinds.set(plan.kind, (kinds.get(plan.kind) ?? 0) + 1);
  return {
    ...extra,
    population: [...kinds].map(([kind, count]) => `${kind} ${count}`).join(', '),
    'insurance fund at start': money(setup.insuranceUsd),
    'backstop capital': money(setup.backstopUsd),
    'market depth (USD per step for a 1% move)': depth === '' ? 'none' : depth,
    'impact half-life': `${setup.impact.halfLifeMs / 3_600_000} h`,
    'setup commands refused': JSON.stringify(setup.setupRefusals),
  };
}

interface SummaryReport {
  readonly scenario: string;
  readonly seed: number;
  readonly accounts: number;
  readonly totals: { readonly liquidations: number; readonly badDebtUsd: string; readonly socializedLossUsd: string; readonly insuranceFundEndUsd: string };
  readonly invariants: { readonly conservation: string; readonly healthyLiquidated: number };
  readonly stateHash: string;
}

function finish(terminal: boolean, out: string, startedMs: number, report: SummaryReport, extra: Record<string, string | undefined>): number {
  const elapsedMs = Date.now() - startedMs;
  const broken = report.invariants.conservation !== 'held' || report.invariants.healthyLiquidated > 0;
  if (terminal) {
    const cents = (text: string | undefined): string => {
      const parsed = parseDecimal(text ?? '0', WAD_DECIMALS);
      return parsed.ok ? usd(parsed.value) : String(text);
    };
    process.stdout.write(
      `${report.scenario}: ${report.accounts.toLocaleString('en-US')} accounts, ${report.totals.liquidations.toLocaleString('en-US')} liquidations, ` +
        `bad debt ${cents(report.totals.badDebtUsd)} USD, socialised ${cents(report.totals.socializedLossUsd)} USD, ` +
        `insurance fund at the end ${cents(report.totals.insuranceFundEndUsd)} USD\n` +
        Object.entries(extra)
          .filter(([, value]) => value !== undefined)
          .map(([key, value]) => `${key}: ${cents(value)} USD\n`)
          .join('') +
        `invariants: conservation ${report.invariants.conservation}, healthy accounts liquidated ${report.invariants.healthyLiquidated}\n` +
        `report: ${join(out, 'report.html')} (${join(out, 'report.json')}), ${(elapsedMs / 1000).toFixed(1)} s\n`,
    );
  } else {
    process.stdout.write(
      `${JSON.stringify({
        scenario: report.scenario,
        seed: report.seed,
        accounts: report.accounts,
        liquidations: report.totals.liquidations,
        badDebtUsd: report.totals.badDebtUsd,
        socializedLossUsd: report.totals.socializedLossUsd,
        insuranceFundEndUsd: report.totals.insuranceFundEndUsd,
        ...Object.fromEntries(Object.entries(extra).filter(([, value]) => value !== undefined)),
        conservation: report.invariants.conservation,
        healthyLiquidated: report.invariants.healthyLiquidated,
        stateHash: report.stateHash,
        report: join(out, 'report.json'),
        html: join(out, 'report.html'),
        elapsedMs,
      })}\n`,
    );
  }
  if (broken) process.stderr.write('collateral simulate: an invariant was violated (see report.html, Notes)\n');
  return broken ? 1 : 0;
}

class ProgressBar {
  private lastDrawMs = 0;
  private static readonly WIDTH = 30;

  constructor(private readonly label: string) {}

  update(share: number, detail: string): void {
    const now = Date.now();
    if (now - this.lastDrawMs < 100 && share < 1) return;
    this.lastDrawMs = now;
    const filled = Math.round(Math.min(Math.max(share, 0), 1) * ProgressBar.WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(ProgressBar.WIDTH - filled)}`;
    process.stderr.write(`\r\x1b[2K${this.label} ${bar} ${Math.floor(share * 100)}% ${detail}`);
  }

  done(): void {
    process.stderr.write('\r\x1b[2K');
  }
}

function readInteger(text: string, name: string, min: number, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new CliError(`--${name}: "${text}" is not a whole number`);
  const value = Number(text);
  if (value < min || value > max) throw new CliError(`--${name}: must be from ${min} to ${max}`);
  return value;
}

function readUsd(text: string, name: string): bigint {
  const parsed = parseDecimal(text, WAD_DECIMALS);
  if (!parsed.ok) throw new CliError(`--${name}: ${parsed.error.message}`);
  if (parsed.value < 0n) throw new CliError(`--${name}: must not be negative`);
  return parsed.value;
}

/** `--depth 5000000` (every asset but the quote) or `--depth ETH=5000000,BTC=20000000`. */
function readDepth(text: string): number | Map<string, number> {
  const usdNumber = (value: string): number => {
    const parsed = parseDecimal(value, WAD_DECIMALS);
    if (!parsed.ok || parsed.value <= 0n) throw new CliError(`--depth: "${value}" must be a positive decimal (USD per step for a 1% move)`);
    return Number(parsed.value) / 1e18;
  };
  if (!text.includes('=')) return usdNumber(text);
  const depth = new Map<string, number>();
  for (const part of text.split(',')) {
    const [asset, value] = part.split('=');
    if (asset === undefined || value === undefined || asset === '') throw new CliError(`--depth: "${part}" is not ASSET=USD`);
    depth.set(asset, usdNumber(value));
  }
  return depth;
}
