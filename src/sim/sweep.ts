/**
 * Parameter sweeps: `--sweep liquidationPenalty=0.02:0.10:0.01` runs the scenario once per
 * value, on the same book (set up once under the base configuration, then changed by a
 * `config` command, as a live change would be), and tabulates bad debt and liquidations.
 *
 * The parameter is a path into risk.json:
 * - `warningRatio`, `liquidation.insuranceShare`, … (top-level fields);
 * - `assets.ETH.liquidationPenalty`, `markets.BTC-PERP.maintenanceMarginFraction` (one entry);
 * - a bare asset field (`liquidationPenalty`, `collateral.maintenanceWeight`, …) applies to
 *   every asset that has it, a bare market field (`maintenanceMarginFraction`, …) to every market.
 */
import { formatDecimal, parseDecimal, WAD_DECIMALS } from '../core/fixed.ts';
import { formatWad } from '../core/fixed.ts';
import { encodeCanonical } from '../core/ledger/codec.ts';
import { sha256Hex } from '../core/ledger/hash.ts';
import { err, ok, type Result } from '../core/result.ts';
import { Book, PriceFeeder } from './book.ts';
import type { SimConfig } from './config.ts';
import type { PricePath } from './paths.ts';
import { runPath, type Progress } from './run.ts';
import { setupBook, type FundingOptions, type ImpactSettings } from './setup.ts';
import { CHART_CSS, compact, escapeXml, PALETTE, xyChart } from './svg.ts';

export interface SweepSpec {
  readonly parameter: string;
  /** Canonical decimal strings, from `from` to at most `to` by `step`. */
  readonly values: readonly string[];
}

const MAX_SWEEP_VALUES = 200;
const ASSET_FIELDS = new Set([
  'liquidationPenalty',
  'depositCap',
  'borrowCap',
  'collateral.initialWeight',
  'collateral.maintenanceWeight',
  'liability.initialWeight',
  'liability.maintenanceWeight',
  'interest.baseRate',
  'interest.optimalUtilization',
  'interest.slopeBelow',
  'interest.slopeAbove',
  'interest.reserveFactor',
  'auction.startFactor',
  'auction.floorFactor',
  'auction.resetBelowFactor',
  'auction.durationMs',
  'auction.resetAfterMs',
  'auction.stepMs',
  'auction.stepFactor',
]);
const MARKET_FIELDS = new Set([
  'initialMarginFraction',
  'maintenanceMarginFraction',
  'sizeScalingFactor',
  'liquidationFee',
  'positivePnlWeight.initial',
  'positivePnlWeight.maintenance',
]);
const TOP_FIELDS = new Set([
  'warningRatio',
  'liquidation.targetMaintenanceRatio',
  'liquidation.dustUsd',
  'liquidation.maxShare',
  'liquidation.insuranceShare',
  'liquidation.windowMs',
  'liquidation.notionalCapPerWindowUsd',
]);

/** Reads `param=from:to:step`. */
export function parseSweep(text: string): Result<SweepSpec, string> {
  const match = /^([A-Za-z0-9_.:-]+)=([^:]+):([^:]+):([^:]+)$/.exec(text);
  if (match === null) return err(`--sweep: expected param=from:to:step (e.g. liquidationPenalty=0.02:0.10:0.01), got "${text}"`);
  const [, parameter, fromText, toText, stepText] = match as unknown as [string, string, string, string, string];
  const parse = (value: string, name: string): Result<bigint, string> => {
    const parsed = parseDecimal(value, WAD_DECIMALS);
    return parsed.ok ? ok(parsed.value) : err(`--sweep: ${name} "${value}": ${parsed.error.message}`);
  };
  const from = parse(fromText, 'from');
  if (!from.ok) return from;
  const to = parse(toText, 'to');
  if (!to.ok) return to;
  const step = parse(stepText, 'step');
  if (!step.ok) return step;
  if (step.value <= 0n) return err('--sweep: step must be greater than zero');
  if (to.value < from.value) return err('--sweep: to must not be below from');
  const count = (to.value - from.value) / step.value + 1n;
  if (count > BigInt(MAX_SWEEP_VALUES)) return err(`--sweep: ${count} values; at most ${MAX_SWEEP_VALUES}`);
  const values: string[] = [];
  for (let value = from.value; value <= to.value; value += step.value) values.push(formatDecimal(value, WAD_DECIMALS));
  return ok({ parameter, values });
}

/** The risk configuration with `parameter` set to `value` (see the module comment); an error names what is wrong. */
export function applyParameter(riskJson: unknown, parameter: string, value: string): Result<Record<string, unknown>, string> {
  const json = structuredClone(riskJson) as Record<string, unknown>;
  const segments = parameter.split('.');
  const [head, id, ...rest] = segments;
  if ((head === 'assets' || head === 'markets') && id !== undefined && rest.length > 0) {
    const list = json[head];
    const entry = Array.isArray(list) ? (list as Record<string, unknown>[]).find((item) => item.id === id) : undefined;
    if (entry === undefined) return err(`--sweep: no ${head === 'assets' ? 'asset' : 'market'} "${id}" in the configuration`);
    const set = setPath(entry, rest, value);
    return set.ok ? ok(json) : set;
  }
  if (TOP_FIELDS.has(parameter) || (head !== undefined && head in json && head !== 'assets' && head !== 'markets')) {
    const set = setPath(json, segments, value);
    return set.ok ? ok(json) : set;
  }
  if (ASSET_FIELDS.has(parameter) || MARKET_FIELDS.has(parameter)) {
    const list = json[ASSET_FIELDS.has(parameter) ? 'assets' : 'markets'];
    const section = segments.length > 1 ? segments[0] : undefined;
    let changed = 0;
    for (const entry of Array.isArray(list) ? (list as Record<string, unknown>[]) : []) {
      // A nested field (collateral.*, liability.*, auction.*) applies only where the section exists.
      if (section !== undefined && section !== 'interest' && section !== 'positivePnlWeight' && entry[section] === undefined) continue;
      const set = setPath(entry, segments, value);
      if (!set.ok) return set;
      changed += 1;
    }
    if (changed === 0) return err(`--sweep: no entry of the configuration has "${parameter}"`);
    return ok(json);
  }
  return err(
    `--sweep: unknown parameter "${parameter}" (a top-level field such as warningRatio or liquidation.insuranceShare, ` +
      'assets.<id>.<field>, markets.<id>.<field>, or an asset or market field applied to all)',
  );
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: string): Result<true, string> {
  let node: Record<string, unknown> = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (typeof next !== 'object' || next === null || Array.isArray(next)) return err(`--sweep: "${key}" is not an object`);
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  const current = node[last];
  if (typeof current === 'number' || /Ms$/.test(last)) {
    // Durations and counts are JSON integers.
    if (!/^\d+$/.test(value)) return err(`--sweep: ${path.join('.')} takes whole numbers, not ${value}`);
    node[last] = Number(value);
  } else {
    node[last] = value;
  }
  return ok(true);
}

export interface SweepRow {
  readonly value: string;
  /** Why this value could not run (invalid configuration); the figures are then absent. */
  readonly error?: string;
  readonly configHash?: string;
  readonly accountsLiquidatableAtStart?: number;
  readonly liquidations?: number;
  readonly liquidatedNotionalUsd?: string;
  readonly penaltiesUsd?: string;
  readonly badDebtUsd?: string;
  readonly socializedLossUsd?: string;
  readonly insuranceFundEndUsd?: string;
  readonly stateHash?: string;
}

export interface SweepResult {
  readonly scenario: string;
  readonly seed: number;
  readonly accounts: number;
  readonly parameter: string;
  readonly baseConfigHash: string;
  readonly rows: readonly SweepRow[];
}

export function runSweep(options: {
  readonly path: PricePath;
  readonly config: SimConfig;
  readonly accounts: number;
  readonly seed: number;
  readonly spec: SweepSpec;
  readonly funding?: FundingOptions;
  readonly impact?: ImpactSettings;
  readonly onProgress?: (value: number, values: number, progress: Progress) => void;
}): SweepResult {
  const { path, config, spec } = options;
  const start = path.frames[0];
  if (start === undefined) throw new Error('runSweep: empty path');
  const setup = setupBook({ ...options, config, start, keepLog: false });
  const snapshot = setup.book.ledger.snapshot();
  const rows: SweepRow[] = spec.values.map((value, index) => {
    const changed = applyParameter(config.riskJson, spec.parameter, value);
    if (!changed.ok) return { value, error: changed.error };
    const book = Book.fromSnapshot(snapshot, false);
    const applied = book.execute({ kind: 'config', idempotencyKey: `sim:sweep:${index}`, config: changed.value });
    if (!applied.ok) {
      const problem = applied.error;
      return { value, error: `${problem.code}${'message' in problem ? `: ${problem.field}: ${problem.message}` : ''}` };
    }
    const feeder = new PriceFeeder(config.oracle, book, config.heartbeatMs);
    const run = runPath({
      book,
      feeder,
      path,
      startFed: false,
      heldPrices: setup.heldPrices,
      impact: setup.impact,
      ...(setup.keeper !== undefined && { keeper: setup.keeper }),
      ...(options.onProgress !== undefined && { onProgress: (progress: Progress) => options.onProgress?.(index, spec.values.length, progress) }),
    });
    return {
      value,
      configHash: sha256Hex(encodeCanonical({ risk: changed.value, oracle: config.oracleJson })),
      accountsLiquidatableAtStart: run.timeline[0]?.accountsLiquidatable ?? 0,
      liquidations: run.totals.liquidations,
      liquidatedNotionalUsd: formatWad(run.totals.liquidatedNotionalUsd),
      penaltiesUsd: formatWad(run.totals.penaltiesUsd),
      badDebtUsd: formatWad(run.totals.badDebtUsd),
      socializedLossUsd: formatWad(run.totals.socializedLossUsd),
      insuranceFundEndUsd: formatWad(run.insuranceFundEndUsd),
      stateHash: run.stateHash,
    };
  });
  return {
    scenario: path.id,
    seed: options.seed,
    accounts: setup.accounts,
    parameter: spec.parameter,
    baseConfigHash: config.configHash,
    rows,
  };
}

/** The sweep as a plain-text table. */
export function sweepTable(result: SweepResult): string {
  const header = [result.parameter, 'liquidations', 'bad debt USD', 'socialised USD', 'penalties USD', 'fund end USD', 'liq. at once'];
  const cents = (text: string | undefined): string => (text === undefined ? '' : Number(text).toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 }));
  const body = result.rows.map((row) =>
    row.error !== undefined
      ? [row.value, `invalid: ${row.error}`]
      : [
          row.value,
          String(row.liquidations ?? 0),
          cents(row.badDebtUsd),
          cents(row.socializedLossUsd),
          cents(row.penaltiesUsd),
          cents(row.insuranceFundEndUsd),
          String(row.accountsLiquidatableAtStart ?? 0),
        ],
  );
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((line) => (line.length > 2 || column < 2 ? (line[column] ?? '').length : 0))));
  const format = (line: readonly string[]): string =>
    line.length === 2 && line[1]!.startsWith('invalid')
      ? `${line[0]!.padStart(widths[0]!)}  ${line[1]}`
      : line.map((cell, column) => (column === 0 ? cell.padStart(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [format(header), format(header.map((title) => '-'.repeat(title.length))), ...body.map(format)].join('\n');
}

/** Chart of bad debt (USD) and liquidations against the parameter: a standalone SVG. */
export function sweepSvg(result: SweepResult): string {
  const rows = result.rows.filter((row) => row.error === undefined);
  const xValues = rows.map((row) => Number(row.value));
  const debt = xyChart(
    { title: `Bad debt and socialised loss (USD) against ${result.parameter}`, xValues, width: 640, height: 260 },
    [
      { label: 'bad debt', color: PALETTE[1], values: rows.map((row) => Number(row.badDebtUsd ?? 0)) },
      { label: 'socialised loss', color: PALETTE[3], values: rows.map((row) => Number(row.socializedLossUsd ?? 0)) },
    ],
  );
  const liquidations = xyChart(
    { title: `Liquidations against ${result.parameter}`, xValues, width: 640, height: 260, yFormat: compact },
    [{ label: 'liquidations', color: PALETTE[0], values: rows.map((row) => row.liquidations ?? 0) }],
  );
  const inner = (svg: string, dy: number): string => svg.replace('<svg class="chart"', `<svg class="chart" y="${dy}"`);
  return (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 540" width="640" height="540">' +
    `<style>${CHART_CSS}</style>` +
    inner(debt, 0) +
    inner(liquidations, 275) +
    '</svg>\n'
  );
}

export function sweepHtml(result: SweepResult): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sweep of ${escapeXml(result.parameter)} — ${escapeXml(result.scenario)}</title>
<style>body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 900px; padding: 0 16px; color: #0f172a; }
pre { background: #f1f5f9; padding: 12px; overflow-x: auto; } ${CHART_CSS}</style></head>
<body><h1>Sweep of ${escapeXml(result.parameter)}</h1>
<p>scenario <b>${escapeXml(result.scenario)}</b> · seed ${result.seed} · ${result.accounts} accounts · base configuration ${escapeXml(result.baseConfigHash)}</p>
<figure>${sweepSvg(result).replace(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/, '<svg class="sweep" xmlns="http://www.w3.org/2000/svg"')}</figure>
<pre>${escapeXml(sweepTable(result))}</pre>
</body></html>
`;
}
