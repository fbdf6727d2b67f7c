import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sqrtDown } from '../../core/fixed.ts';
import { Oracle } from '../oracle.ts';
import { HOUR, MINUTE, oracleConfig, wad } from '../testing.ts';
import {
  BUNDLED_SCENARIOS,
  loadScenario,
  loadScenarioOrThrow,
  parseScenario,
  scenarioFrames,
  scenarioTicks,
  seriesTicks,
  tickUpdate,
  type ScenarioSeries,
  type ScenarioTick,
} from './playback.ts';

const utc = (text: string) => Date.parse(text);
const show = (ticks: readonly ScenarioTick[]) => ticks.map((t) => `${new Date(t.timestampMs).toISOString().slice(11, 16)} ${t.asset} ${t.kind} ${t.price}`);

function scenario(series: Record<string, unknown>) {
  const parsed = parseScenario({ id: 'test', title: 'Test', source: 'hand-made', unit: 'USD', timezone: 'UTC', series });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return parsed.value;
}

describe('the bundled scenarios', () => {
  it.each(BUNDLED_SCENARIOS)('%s loads, keeps its source, and plays in time order', (name) => {
    const loaded = loadScenarioOrThrow(name);
    expect(loaded.id).toBe(name);
    expect(loaded.source.length).toBeGreaterThan(10);
    const ticks = scenarioTicks(loaded);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.timestampMs).toBeGreaterThanOrEqual(ticks[i - 1]!.timestampMs);
  });

  it('the copies in src/sim/scenarios keep the files’ own fields (source included)', () => {
    const path = fileURLToPath(new URL('../../sim/scenarios/black-thursday-2020.json', import.meta.url));
    const json = JSON.parse(readFileSync(path, 'utf8')) as { source: string };
    expect(json.source).toBe('Binance spot 1h candles (ETHUSDT, BTCUSDT); DAI: Yahoo Finance daily');
  });

  it('loads by name, by name with .json, and by path', () => {
    const path = fileURLToPath(new URL('../../sim/scenarios/ftx-2022.json', import.meta.url));
    expect(loadScenarioOrThrow('ftx-2022.json').id).toBe('ftx-2022');
    expect(loadScenarioOrThrow(path).id).toBe('ftx-2022');
  });

  it('an unknown name is an issue naming the known scenarios', () => {
    const result = loadScenario('tulip-mania-1637');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error[0]?.message).toContain('black-thursday-2020');
  });
});

describe('candles: four ticks, the worst point last', () => {
  const black = loadScenarioOrThrow('black-thursday-2020');
  const eth = black.series.find((s) => s.asset === 'ETH')!;

  it('a falling candle plays open → high → low → close, at quarter steps', () => {
    // 2020-03-12 00:00 ETH: o 194.61 h 195.55 l 192.22 c 193.31 (close < open)
    expect(show(seriesTicks(eth).slice(0, 4))).toEqual([
      '00:00 ETH open 194.61',
      '00:15 ETH high 195.55',
      '00:30 ETH low 192.22',
      '00:45 ETH close 193.31',
    ]);
  });

  it('a rising candle plays open → low → high → close', () => {
    // 2020-03-12 05:00 ETH: o 181.71 h 182.23 l 180.16 c 181.75 (close > open)
    const ticks = seriesTicks(eth).filter((t) => t.timestampMs >= utc('2020-03-12T05:00:00Z'));
    expect(show(ticks.slice(0, 4))).toEqual([
      '05:00 ETH open 181.71',
      '05:15 ETH low 180.16',
      '05:30 ETH high 182.23',
      '05:45 ETH close 181.75',
    ]);
  });

  it('a flat candle plays as falling', () => {
    const flat = scenario({ X: { granularity: '1h', candles: [{ t: '2020-01-01T00:00:00Z', o: '10', h: '11', l: '9', c: '10' }] } });
    expect(seriesTicks(flat.series[0]!).map((t) => t.kind)).toEqual(['open', 'high', 'low', 'close']);
  });

  it('a daily candle’s quarters are six hours apart', () => {
    const dai = black.series.find((s) => s.asset === 'DAI')!;
    expect(show(seriesTicks(dai).slice(0, 4))).toEqual([
      '00:00 DAI open 1.0016',
      '06:00 DAI low 0.9928',
      '12:00 DAI high 1.0721',
      '18:00 DAI close 1.0354',
    ]);
  });
});

describe('points: geometric interpolation at quarter steps', () => {
  const luna = loadScenarioOrThrow('luna-2022').series.find((s) => s.asset === 'LUNA') as ScenarioSeries & { kind: 'points' };

  it('between 82.67 and 86.14: the geometric means, rounded down', () => {
    const ticks = seriesTicks(luna).slice(0, 5);
    const mid = sqrtDown(wad('82.67') * wad('86.14'));
    expect(ticks.map((t) => t.kind)).toEqual(['point', 'interpolated', 'interpolated', 'interpolated', 'point']);
    expect(ticks.map((t) => t.priceWad)).toEqual([
      wad('82.67'),
      sqrtDown(wad('82.67') * mid),
      mid,
      sqrtDown(mid * wad('86.14')),
      wad('86.14'),
    ]);
    expect(show(ticks).map((line) => line.slice(0, 5))).toEqual(['00:00', '06:00', '12:00', '18:00', '00:00']);
  });

  it('each quarter step is the same ratio: (p1/p0)^(1/4), within float precision', () => {
    const ticks = seriesTicks(luna);
    // through the collapse, 1.063 → 0.001219 in a day
    const day = ticks.filter((t) => t.timestampMs >= utc('2022-05-12T00:00:00Z') && t.timestampMs <= utc('2022-05-13T00:00:00Z'));
    const prices = day.map((t) => Number.parseFloat(t.price));
    const ratio = (0.001219 / 1.063) ** 0.25;
    for (let i = 1; i < prices.length; i++) expect(prices[i]! / prices[i - 1]!).toBeCloseTo(ratio, 9);
  });

  it('the last point is played once, with nothing after it', () => {
    const ticks = seriesTicks(luna);
    expect(ticks.at(-1)).toMatchObject({ kind: 'point', price: '0.0002154', timestampMs: utc('2022-05-16T00:00:00Z') });
    expect(ticks).toHaveLength((luna.points.length - 1) * 4 + 1);
  });
});

describe('series merged on one clock', () => {
  it('ticks at the same time come in the file’s series order', () => {
    const ticks = scenarioTicks(loadScenarioOrThrow('black-thursday-2020'));
    expect(show(ticks.slice(0, 7))).toEqual([
      '00:00 ETH open 194.61',
      '00:00 BTC open 7934.52',
      '00:00 DAI open 1.0016',
      '00:15 ETH high 195.55',
      '00:15 BTC high 7966.17',
      '00:30 ETH low 192.22',
      '00:30 BTC low 7897.63',
    ]);
  });

  it('each series holds its last price between its own ticks', () => {
    const frames = scenarioFrames(loadScenarioOrThrow('black-thursday-2020'));
    const at = (text: string) => frames.find((frame) => frame.timestampMs === utc(text))!;
    // 00:15: ETH and BTC tick, DAI holds its 00:00 open
    expect(at('2020-03-12T00:15:00Z').ticks.map((t) => t.asset)).toEqual(['ETH', 'BTC']);
    expect(at('2020-03-12T00:15:00Z').prices.get('DAI')?.text).toBe('1.0016');
    // 05:45: DAI still on its 00:00 open (its next tick is at 06:00)
    expect(at('2020-03-12T05:45:00Z').prices.get('DAI')?.text).toBe('1.0016');
    expect(at('2020-03-12T06:00:00Z').prices.get('DAI')?.text).toBe('0.9928');
  });

  it('a series appears from its first tick on', () => {
    const merged = scenario({
      A: { granularity: '1h', candles: [{ t: '2020-01-01T00:00:00Z', o: '10', h: '11', l: '9', c: '10' }] },
      B: { granularity: '1d', points: [{ t: '2020-01-01T00:30:00Z', price: '5' }] },
    });
    const frames = scenarioFrames(merged);
    expect(frames.map((frame) => [...frame.prices.keys()])).toEqual([['A'], ['A'], ['A', 'B'], ['A', 'B']]);
    expect(frames[2]?.ticks.map((t) => t.asset)).toEqual(['A', 'B']); // 00:30: A's low, then B
  });
});

describe('parseScenario: rejected files, reported at the field', () => {
  const candle = { t: '2020-01-01T00:00:00Z', o: '10', h: '11', l: '9', c: '10' };
  const base = { id: 'x', title: 'X', source: 's', unit: 'USD', timezone: 'UTC' };
  const fieldsOf = (json: unknown) => {
    const result = parseScenario(json);
    return result.ok ? [] : result.error.map((issue) => issue.field);
  };

  it.each([
    ['unknown top-level field', { ...base, series: { A: { granularity: '1h', candles: [candle] } }, extra: 1 }, ['extra']],
    ['another unit', { ...base, unit: 'EUR', series: { A: { granularity: '1h', candles: [candle] } } }, ['unit']],
    ['another timezone', { ...base, timezone: 'CET', series: { A: { granularity: '1h', candles: [candle] } } }, ['timezone']],
    ['no series', { ...base, series: {} }, ['series']],
    ['both candles and points', { ...base, series: { A: { granularity: '1h', candles: [candle], points: [] } } }, ['series.A']],
    ['bad granularity', { ...base, series: { A: { granularity: '1 hour', candles: [candle] } } }, ['series.A.granularity']],
    ['price as a JSON number', { ...base, series: { A: { granularity: '1h', candles: [{ ...candle, o: 10 }] } } }, ['series.A.candles[0].o']],
    ['price in exponent notation', { ...base, series: { A: { granularity: '1h', candles: [{ ...candle, c: '1e1' }] } } }, ['series.A.candles[0].c']],
    ['zero price', { ...base, series: { A: { granularity: '1d', points: [{ t: candle.t, price: '0' }] } } }, ['series.A.points[0].price']],
    ['low above open', { ...base, series: { A: { granularity: '1h', candles: [{ ...candle, l: '10.5' }] } } }, ['series.A.candles[0].l']],
    ['high below close', { ...base, series: { A: { granularity: '1h', candles: [{ ...candle, h: '9.5' }] } } }, ['series.A.candles[0].h']],
    ['time without Z', { ...base, series: { A: { granularity: '1h', candles: [{ ...candle, t: '2020-01-01T00:00:00' }] } } }, ['series.A.candles[0].t']],
    ['impossible date', { ...base, series: { A: { granularity: '1h', candles: [{ ...candle, t: '2021-02-30T00:00:00Z' }] } } }, ['series.A.candles[0].t']],
    [
      'overlapping candles',
      { ...base, series: { A: { granularity: '1h', candles: [candle, { ...candle, t: '2020-01-01T00:30:00Z' }] } } },
      ['series.A.candles[1].t'],
    ],
    ['unknown candle field', { ...base, series: { A: { granularity: '1h', candles: [{ ...candle, v: '100' }] } } }, ['series.A.candles[0].v']],
  ])('%s', (_name, json, fields) => {
    expect(fieldsOf(json)).toEqual(fields);
  });
});

describe('playing a crisis through the oracle', () => {
  it('every tick of every bundled scenario is a valid update; LUNA’s collapse trips its breaker', () => {
    for (const name of BUNDLED_SCENARIOS) {
      const loaded = loadScenarioOrThrow(name);
      const assets = loaded.series.map((s) => s.asset);
      const oracle = new Oracle(oracleConfig({ defaults: { maxAgeMs: 2 * 24 * HOUR, windowMs: 60 * MINUTE } }, assets));
      const unhealthy = new Set<string>();
      for (const t of scenarioTicks(loaded)) {
        const result = oracle.submit(tickUpdate(t, 'playback'), t.timestampMs);
        expect(result.status, `${name} ${t.asset} ${new Date(t.timestampMs).toISOString()}`).toBe('accepted');
        if (result.status === 'accepted' && !result.healthy) unhealthy.add(t.asset);
      }
      if (name === 'luna-2022') expect(unhealthy.has('LUNA')).toBe(true);
    }
  });
});
