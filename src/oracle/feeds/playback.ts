/**
 * Playback of recorded crises: the scenario format of `src/sim/scenarios/` (copied from the
 * shared scenario folder, sources kept), played as that folder's README describes.
 *
 * - A **candle** of granularity g starting at t gives four ticks, at t, t + g/4, t + g/2 and
 *   t + 3g/4: open, the extreme reached first, the other extreme, close. The files do not say
 *   which extreme came first, so a falling candle (close < open) plays open → high → low →
 *   close and a rising one open → low → high → close: the worst point comes last, where a
 *   liquidation engine would meet it. A flat candle (close = open) plays as falling.
 * - Between two **points** (daily snapshots) at t0 and t1, prices are interpolated
 *   geometrically at the same quarter steps as candles: at t0 + Δ/4, Δ/2, 3Δ/4 the price is
 *   p0 × (p1/p0)^(k/4), computed on bigint as nested geometric means
 *   (mid = √(p0·p1), then √(p0·mid) and √(mid·p1)), each rounded down (at most 1e-18 off).
 * - Series are merged on one clock: ticks sorted by time, then by the series' order in the
 *   file. Each series holds its last price between its own ticks (`scenarioFrames`).
 *
 * Recorded prices keep the file's own strings; interpolated ones are formatted from wads.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatDecimal, sqrtDown, WAD_DECIMALS } from '../../core/fixed.ts';
import { formatIssues, InputReader, join, type InputIssue } from '../../core/input.ts';
import { err, ok, type Result } from '../../core/result.ts';
import type { PriceUpdate } from '../oracle.ts';

export interface ScenarioPrice {
  /** As written in the file (canonical decimal). */
  readonly text: string;
  readonly wad: bigint;
}

export interface ScenarioCandle {
  readonly timestampMs: number;
  readonly open: ScenarioPrice;
  readonly high: ScenarioPrice;
  readonly low: ScenarioPrice;
  readonly close: ScenarioPrice;
}

export interface ScenarioPoint {
  readonly timestampMs: number;
  readonly price: ScenarioPrice;
}

export type ScenarioSeries =
  | { readonly asset: string; readonly granularityMs: number; readonly kind: 'candles'; readonly candles: readonly ScenarioCandle[] }
  | { readonly asset: string; readonly granularityMs: number; readonly kind: 'points'; readonly points: readonly ScenarioPoint[] };

export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  readonly unit: 'USD';
  readonly timezone: 'UTC';
  /** In file order (the tie-break of ticks at the same time). */
  readonly series: readonly ScenarioSeries[];
  readonly notes: readonly string[];
}

export type TickKind = 'open' | 'high' | 'low' | 'close' | 'point' | 'interpolated';

export interface ScenarioTick {
  readonly timestampMs: number;
  readonly asset: string;
  readonly price: string;
  readonly priceWad: bigint;
  readonly kind: TickKind;
}

/** All series' last prices at one instant of the merged clock. */
export interface ScenarioFrame {
  readonly timestampMs: number;
  /** Ticks at this instant, in merged order. */
  readonly ticks: readonly ScenarioTick[];
  /** Each series' last price so far (a series appears from its first tick on). */
  readonly prices: ReadonlyMap<string, ScenarioPrice>;
}

/** The scenarios this project carries, by name (file name without `.json`). */
export const BUNDLED_SCENARIOS = [
  'black-thursday-2020',
  'luna-2022',
  'ftx-2022',
  'usdc-depeg-2023',
  'oct-2025-cascade',
] as const;

const SCENARIO_DIRECTORY = new URL('../../sim/scenarios/', import.meta.url);

// ---------------------------------------------------------------------------------------
// Loading and validation.

/**
 * A bundled scenario by name ("luna-2022", with or without ".json"), or a scenario file by
 * path. Problems with the file (unreadable, not JSON, invalid) come back as issues.
 */
export function loadScenario(nameOrPath: string): Result<Scenario, readonly InputIssue[]> {
  const name = nameOrPath.replace(/\.json$/, '');
  const path = (BUNDLED_SCENARIOS as readonly string[]).includes(name)
    ? fileURLToPath(new URL(`${name}.json`, SCENARIO_DIRECTORY))
    : nameOrPath;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const known = `known scenarios: ${BUNDLED_SCENARIOS.join(', ')}`;
    return err([{ field: '', message: `cannot read scenario ${JSON.stringify(nameOrPath)} (${(cause as NodeJS.ErrnoException).code ?? 'error'}); ${known}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    return err([{ field: '', message: `${path} is not JSON: ${(cause as Error).message}` }]);
  }
  return parseScenario(json);
}

/** Like `loadScenario`, for callers (tests, the demo) for which a bad bundled file is a bug. */
export function loadScenarioOrThrow(nameOrPath: string): Scenario {
  const loaded = loadScenario(nameOrPath);
  if (!loaded.ok) throw new Error(`invalid scenario ${nameOrPath}:\n${formatIssues(loaded.error)}`);
  return loaded.value;
}

const TOP_FIELDS = ['id', 'title', 'source', 'unit', 'timezone', 'series', 'notes'];
const SERIES_FIELDS = ['granularity', 'candles', 'points'];
const CANDLE_FIELDS = ['t', 'o', 'h', 'l', 'c'];
const POINT_FIELDS = ['t', 'price'];
const POSITIVE = { min: 0n, minExclusive: true, text: '(0, ∞)' };
const GRANULARITY = /^([1-9][0-9]{0,3})(m|h|d)$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

export function parseScenario(json: unknown): Result<Scenario, readonly InputIssue[]> {
  const reader = new InputReader();
  const top = reader.object(json, '', TOP_FIELDS);
  if (top === undefined) return err(reader.issues);
  const id = reader.required(top, 'id', '', (v) => reader.identifier(v, 'id'));
  const title = reader.required(top, 'title', '', (v) => text(reader, v, 'title'));
  const source = reader.required(top, 'source', '', (v) => text(reader, v, 'source'));
  reader.required(top, 'unit', '', (v) => (v === 'USD' ? v : reader.fail('unit', 'must be "USD"')));
  reader.required(top, 'timezone', '', (v) => (v === 'UTC' ? v : reader.fail('timezone', 'must be "UTC"')));
  const notes = reader.optional(top, 'notes', (v) => readNotes(reader, v)) ?? [];
  const record = reader.required(top, 'series', '', (v) => reader.dictionary(v, 'series')) ?? {};
  const series: ScenarioSeries[] = [];
  for (const [asset, value] of Object.entries(record)) {
    const field = join('series', asset);
    if (reader.identifier(asset, field) === undefined) continue;
    const parsed = readSeries(reader, asset, value, field);
    if (parsed !== undefined) series.push(parsed);
  }
  if (Object.keys(record).length === 0) reader.fail('series', 'must hold at least one series');
  if (reader.issues.length > 0 || id === undefined || title === undefined || source === undefined) return err(reader.issues);
  return ok({ id, title, source, unit: 'USD', timezone: 'UTC', series, notes });
}

function text(reader: InputReader, value: unknown, field: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return reader.fail(field, 'must be a non-empty string');
  return value;
}

function readNotes(reader: InputReader, value: unknown): readonly string[] | undefined {
  const list = reader.array(value, 'notes');
  if (list === undefined) return undefined;
  return list.flatMap((item, index) => text(reader, item, join('notes', index)) ?? []);
}

function readSeries(reader: InputReader, asset: string, value: unknown, field: string): ScenarioSeries | undefined {
  const record = reader.object(value, field, SERIES_FIELDS);
  if (record === undefined) return undefined;
  const granularityMs = reader.required(record, 'granularity', field, (v) => readGranularity(reader, v, join(field, 'granularity')));
  if ((record['candles'] === undefined) === (record['points'] === undefined)) {
    return reader.fail(field, 'must have exactly one of "candles" and "points"');
  }
  if (granularityMs === undefined) return undefined;
  if (record['candles'] !== undefined) {
    const candles = readList(reader, record['candles'], join(field, 'candles'), readCandle);
    if (candles === undefined) return undefined;
    checkTimes(reader, candles, join(field, 'candles'), granularityMs);
    return { asset, granularityMs, kind: 'candles', candles };
  }
  const points = readList(reader, record['points'], join(field, 'points'), readPoint);
  if (points === undefined) return undefined;
  checkTimes(reader, points, join(field, 'points'), 1);
  return { asset, granularityMs, kind: 'points', points };
}

function readGranularity(reader: InputReader, value: unknown, field: string): number | undefined {
  const match = typeof value === 'string' ? GRANULARITY.exec(value) : null;
  if (match === null) return reader.fail(field, 'must be a duration like "15m", "1h", "6h" or "1d"');
  return Number.parseInt(match[1]!, 10) * UNIT_MS[match[2]!]!;
}

function readList<T>(
  reader: InputReader,
  value: unknown,
  field: string,
  readItem: (reader: InputReader, value: unknown, field: string) => T | undefined,
): readonly T[] | undefined {
  const list = reader.array(value, field);
  if (list === undefined) return undefined;
  if (list.length === 0) return reader.fail(field, 'must not be empty');
  const before = reader.issues.length;
  const items = list.flatMap((item, index) => readItem(reader, item, join(field, index)) ?? []);
  return reader.issues.length > before ? undefined : items;
}

/** Times strictly increase, by at least `minimumStepMs` (candles must not overlap). */
function checkTimes(reader: InputReader, items: readonly { readonly timestampMs: number }[], field: string, minimumStepMs: number): void {
  for (let i = 1; i < items.length; i++) {
    if (items[i]!.timestampMs - items[i - 1]!.timestampMs < minimumStepMs) {
      reader.fail(join(join(field, i), 't'), `must be at least ${minimumStepMs} ms after the previous one`);
    }
  }
}

function readTime(reader: InputReader, value: unknown, field: string): number | undefined {
  if (typeof value !== 'string' || !UTC_TIME.test(value)) return reader.fail(field, 'must be a UTC time like "2020-03-12T00:00:00Z"');
  const ms = Date.parse(value);
  // Date.parse rolls "2021-02-30" over to March: the round trip catches impossible dates.
  if (!Number.isFinite(ms) || new Date(ms).toISOString() !== value.replace('Z', '.000Z')) {
    return reader.fail(field, `${JSON.stringify(value)} is not a real date and time`);
  }
  return ms;
}

function readPrice(reader: InputReader, value: unknown, field: string): ScenarioPrice | undefined {
  const wad = reader.decimalWithin(value, field, WAD_DECIMALS, POSITIVE);
  return wad === undefined ? undefined : { text: value as string, wad };
}

function readCandle(reader: InputReader, value: unknown, field: string): ScenarioCandle | undefined {
  const record = reader.object(value, field, CANDLE_FIELDS);
  if (record === undefined) return undefined;
  const timestampMs = reader.required(record, 't', field, (v) => readTime(reader, v, join(field, 't')));
  const [open, high, low, close] = (['o', 'h', 'l', 'c'] as const).map((key) =>
    reader.required(record, key, field, (v) => readPrice(reader, v, join(field, key))),
  );
  if (timestampMs === undefined || open === undefined || high === undefined || low === undefined || close === undefined) {
    return undefined;
  }
  const bodyLow = open.wad < close.wad ? open.wad : close.wad;
  const bodyHigh = open.wad > close.wad ? open.wad : close.wad;
  if (low.wad > bodyLow) return reader.fail(join(field, 'l'), 'low must not be above open or close');
  if (high.wad < bodyHigh) return reader.fail(join(field, 'h'), 'high must not be below open or close');
  return { timestampMs, open, high, low, close };
}

function readPoint(reader: InputReader, value: unknown, field: string): ScenarioPoint | undefined {
  const record = reader.object(value, field, POINT_FIELDS);
  if (record === undefined) return undefined;
  const timestampMs = reader.required(record, 't', field, (v) => readTime(reader, v, join(field, 't')));
  const price = reader.required(record, 'price', field, (v) => readPrice(reader, v, join(field, 'price')));
  return timestampMs === undefined || price === undefined ? undefined : { timestampMs, price };
}

// ---------------------------------------------------------------------------------------
// Ticks.

/** The order a candle's four prices play in (README: falling → high first, rising → low first). */
export function candleOrder(candle: ScenarioCandle): readonly (readonly [TickKind, ScenarioPrice])[] {
  const falling = candle.close.wad <= candle.open.wad;
  return falling
    ? [['open', candle.open], ['high', candle.high], ['low', candle.low], ['close', candle.close]]
    : [['open', candle.open], ['low', candle.low], ['high', candle.high], ['close', candle.close]];
}

function tick(asset: string, timestampMs: number, kind: TickKind, price: ScenarioPrice): ScenarioTick {
  return { timestampMs, asset, price: price.text, priceWad: price.wad, kind };
}

function interpolated(wad: bigint): ScenarioPrice {
  return { text: formatDecimal(wad, WAD_DECIMALS), wad };
}

/** √(a·b) of two wads, as a wad, rounded down: their geometric mean. */
function geometricMean(aWad: bigint, bWad: bigint): bigint {
  return sqrtDown(aWad * bWad);
}

/** One series' ticks in time order. */
export function seriesTicks(series: ScenarioSeries): ScenarioTick[] {
  const ticks: ScenarioTick[] = [];
  if (series.kind === 'candles') {
    const quarterMs = Math.floor(series.granularityMs / 4);
    for (const candle of series.candles) {
      candleOrder(candle).forEach(([kind, price], index) => {
        ticks.push(tick(series.asset, candle.timestampMs + index * quarterMs, kind, price));
      });
    }
    return ticks;
  }
  const { points } = series;
  points.forEach((point, index) => {
    ticks.push(tick(series.asset, point.timestampMs, 'point', point.price));
    const next = points[index + 1];
    if (next === undefined) return;
    const quarterMs = Math.floor((next.timestampMs - point.timestampMs) / 4);
    const midWad = geometricMean(point.price.wad, next.price.wad);
    const steps = [geometricMean(point.price.wad, midWad), midWad, geometricMean(midWad, next.price.wad)];
    steps.forEach((wad, step) => {
      ticks.push(tick(series.asset, point.timestampMs + (step + 1) * quarterMs, 'interpolated', interpolated(wad)));
    });
  });
  return ticks;
}

/** Every series' ticks merged on one clock: by time, then by the series' order in the file. */
export function scenarioTicks(scenario: Scenario): ScenarioTick[] {
  const tagged = scenario.series.flatMap((series, seriesIndex) => seriesTicks(series).map((t) => ({ t, seriesIndex })));
  // Array.prototype.sort is stable, so each series' own order survives equal keys.
  tagged.sort((a, b) => a.t.timestampMs - b.t.timestampMs || a.seriesIndex - b.seriesIndex);
  return tagged.map(({ t }) => t);
}

/** The merged clock as frames: at each instant its ticks and every series' last price. */
export function scenarioFrames(scenario: Scenario): ScenarioFrame[] {
  const frames: ScenarioFrame[] = [];
  const last = new Map<string, ScenarioPrice>();
  let pending: ScenarioTick[] = [];
  const flush = (): void => {
    const first = pending[0];
    if (first === undefined) return;
    frames.push({ timestampMs: first.timestampMs, ticks: pending, prices: new Map(last) });
    pending = [];
  };
  for (const t of scenarioTicks(scenario)) {
    if (pending[0] !== undefined && pending[0].timestampMs !== t.timestampMs) flush();
    last.set(t.asset, { text: t.price, wad: t.priceWad });
    pending.push(t);
  }
  flush();
  return frames;
}

/** A tick as an oracle update from `source`, timestamped at the tick. */
export function tickUpdate(t: ScenarioTick, source: string): PriceUpdate {
  return { source, asset: t.asset, price: t.price, timestampMs: t.timestampMs };
}
