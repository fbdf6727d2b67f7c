import { describe, expect, it } from 'vitest';
import {
  deviatesMoreThan,
  guardCanonicalConfidence,
  guardCanonicalPrice,
  guardConfidenceRatio,
  guardDeviationPerUpdate,
  guardDeviationPerWindow,
  guardFresh,
  guardIncreasing,
  guardKnownAsset,
  guardKnownSource,
  guardNonNegativeConfidence,
  guardNotInFuture,
  guardPositivePrice,
  guardQuorum,
  guardTimestampValid,
  ORACLE_REASON_CODES,
  type OracleReasonCode,
} from './guards.ts';
import type { Oracle, PriceUpdate } from './oracle.ts';
import { ed25519Publisher, signEd25519 } from './signatures.ts';
import { MINUTE, oracle, SECOND, submitOk, T0, testKey, update, wad } from './testing.ts';

/** Codes the tables below exercise; the last test checks that they cover the whole list. */
const exercised = new Set<OracleReasonCode>();

describe('ORACLE_REASON_CODES', () => {
  it('lists each code once', () => {
    expect(new Set(ORACLE_REASON_CODES).size).toBe(ORACLE_REASON_CODES.length);
  });

  it('keeps its published order (append only: callers key on these)', () => {
    expect(ORACLE_REASON_CODES).toMatchInlineSnapshot(`
      [
        "UNKNOWN_ASSET",
        "UNKNOWN_SOURCE",
        "PRICE_NOT_CANONICAL",
        "PRICE_NON_POSITIVE",
        "CONFIDENCE_NOT_CANONICAL",
        "CONFIDENCE_NEGATIVE",
        "TIMESTAMP_INVALID",
        "TIMESTAMP_IN_FUTURE",
        "STALE",
        "SIGNATURE_UNKNOWN_PUBLISHER",
        "SIGNATURE_INVALID",
        "SIGNATURE_REPLAYED",
        "SIGNATURE_THRESHOLD_NOT_MET",
        "TIMESTAMP_NOT_INCREASING",
        "CONFIDENCE_TOO_WIDE",
        "QUORUM_NOT_MET",
        "DEVIATION_PER_UPDATE",
        "DEVIATION_PER_WINDOW",
        "NO_PRICE",
      ]
    `);
  });
});

// ---------------------------------------------------------------------------------------
// Each guard alone, at and around its boundary.

describe('guards one by one', () => {
  it.each([
    ['known asset', guardKnownAsset('ETH', new Set(['ETH'])), undefined],
    ['unknown asset', guardKnownAsset('DOGE', new Set(['ETH'])), 'UNKNOWN_ASSET'],
    ['listed source', guardKnownSource('a', ['a', 'b']), undefined],
    ['unlisted source', guardKnownSource('c', ['a', 'b']), 'UNKNOWN_SOURCE'],
    ['any source for a single-source asset', guardKnownSource('whoever', 'any'), undefined],
    ['positive price', guardPositivePrice(1n), undefined],
    ['zero price', guardPositivePrice(0n), 'PRICE_NON_POSITIVE'],
    ['negative price', guardPositivePrice(-1n), 'PRICE_NON_POSITIVE'],
    ['zero confidence', guardNonNegativeConfidence(0n), undefined],
    ['negative confidence', guardNonNegativeConfidence(-1n), 'CONFIDENCE_NEGATIVE'],
    ['integer timestamp', guardTimestampValid(T0), undefined],
    ['epoch zero', guardTimestampValid(0), undefined],
    ['fractional timestamp', guardTimestampValid(1.5), 'TIMESTAMP_INVALID'],
    ['negative timestamp', guardTimestampValid(-1), 'TIMESTAMP_INVALID'],
    ['NaN timestamp', guardTimestampValid(Number.NaN), 'TIMESTAMP_INVALID'],
    ['string timestamp', guardTimestampValid(String(T0)), 'TIMESTAMP_INVALID'],
    ['unsafe integer timestamp', guardTimestampValid(2 ** 53), 'TIMESTAMP_INVALID'],
    ['ahead by exactly the skew', guardNotInFuture(T0 + 2_000, T0, 2_000), undefined],
    ['ahead by the skew + 1 ms', guardNotInFuture(T0 + 2_001, T0, 2_000), 'TIMESTAMP_IN_FUTURE'],
    ['exactly max age old', guardFresh(T0 - MINUTE, T0, MINUTE), undefined],
    ['max age + 1 ms old', guardFresh(T0 - MINUTE - 1, T0, MINUTE), 'STALE'],
    ['first timestamp of a source', guardIncreasing(T0, undefined), undefined],
    ['later timestamp', guardIncreasing(T0 + 1, T0), undefined],
    ['equal timestamp', guardIncreasing(T0, T0), 'TIMESTAMP_NOT_INCREASING'],
    ['earlier timestamp', guardIncreasing(T0 - 1, T0), 'TIMESTAMP_NOT_INCREASING'],
    ['confidence exactly 2% of price', guardConfidenceRatio(wad('100'), wad('2'), wad('0.02')), undefined],
    ['confidence 2% + 1 wei', guardConfidenceRatio(wad('100'), wad('2') + 1n, wad('0.02')), 'CONFIDENCE_TOO_WIDE'],
    ['quorum met exactly', guardQuorum(2, 2), undefined],
    ['quorum missed', guardQuorum(1, 2), 'QUORUM_NOT_MET'],
    ['first aggregate (no previous)', guardDeviationPerUpdate(wad('100'), undefined, wad('0.1')), undefined],
    ['up exactly 10%', guardDeviationPerUpdate(wad('110'), wad('100'), wad('0.1')), undefined],
    ['up 10% + 1 wei', guardDeviationPerUpdate(wad('110') + 1n, wad('100'), wad('0.1')), 'DEVIATION_PER_UPDATE'],
    ['down exactly 10%', guardDeviationPerUpdate(wad('90'), wad('100'), wad('0.1')), undefined],
    ['down 10% + 1 wei', guardDeviationPerUpdate(wad('90') - 1n, wad('100'), wad('0.1')), 'DEVIATION_PER_UPDATE'],
    ['empty window', guardDeviationPerWindow(wad('1000'), undefined, wad('0.25')), undefined],
    ['inside the window range', guardDeviationPerWindow(wad('110'), { lowWad: wad('100'), highWad: wad('120') }, wad('0.25')), undefined],
    ['25% above the window low', guardDeviationPerWindow(wad('125'), { lowWad: wad('100'), highWad: wad('120') }, wad('0.25')), undefined],
    ['past 25% above the window low', guardDeviationPerWindow(wad('125') + 1n, { lowWad: wad('100'), highWad: wad('120') }, wad('0.25')), 'DEVIATION_PER_WINDOW'],
    ['past 25% below the window high', guardDeviationPerWindow(wad('89.99'), { lowWad: wad('100'), highWad: wad('120') }, wad('0.25')), 'DEVIATION_PER_WINDOW'],
  ])('%s', (_name, failure, expected) => {
    expect(failure?.code).toBe(expected);
    if (failure !== undefined) {
      exercised.add(failure.code);
      expect(failure.message.length).toBeGreaterThan(0);
    }
  });

  it.each([
    ['3000', wad('3000')],
    ['3000.12', wad('3000.12')],
    ['0.000000000000000001', 1n],
    ['-5', -wad('5')], // canonical; the sign is the next guard's business
  ])('canonical price %j parses to its wad', (text, expected) => {
    expect(guardCanonicalPrice(text)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['exponent notation', '3e3'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['leading +', '+3000'],
    ['empty string', ''],
    ['leading zero', '03000'],
    ['trailing dot', '3000.'],
    ['leading dot', '.5'],
    ['whitespace', ' 3000'],
    ['thousands separator', '3,000'],
    ['hex', '0x10'],
    ['19 fractional digits', '1.0000000000000000001'],
    ['81 characters', `1${'0'.repeat(80)}`],
    ['a JSON number', 3000],
    ['null', null],
    ['absent', undefined],
  ])('PRICE_NOT_CANONICAL: %s', (_name, text) => {
    const result = guardCanonicalPrice(text);
    expect(result.ok ? undefined : result.error.code).toBe('PRICE_NOT_CANONICAL');
  });

  it('an absent confidence is zero; a present one must be canonical', () => {
    expect(guardCanonicalConfidence(undefined)).toEqual({ ok: true, value: 0n });
    expect(guardCanonicalConfidence('0.5')).toEqual({ ok: true, value: wad('0.5') });
    for (const bad of ['1e-3', 0.5, 'abc', '']) {
      const result = guardCanonicalConfidence(bad);
      expect(result.ok ? undefined : result.error.code).toBe('CONFIDENCE_NOT_CANONICAL');
    }
  });

  it('deviation is measured relative to the reference, by cross-multiplication', () => {
    expect(deviatesMoreThan(wad('1.5'), wad('1'), wad('0.5'))).toBe(false);
    expect(deviatesMoreThan(wad('1.5'), wad('1'), wad('0.499999999999999999'))).toBe(true);
    // the reference, not the new price, is the denominator: 100 → 50 is −50%, 50 → 100 is +100%
    expect(deviatesMoreThan(wad('50'), wad('100'), wad('0.5'))).toBe(false);
    expect(deviatesMoreThan(wad('100'), wad('50'), wad('0.5'))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------
// Every rejection of `submit`, through the oracle.

const ED_KEY = testKey(7);
const ATTESTED = {
  assets: [
    {
      id: 'ETH',
      sources: ['a', 'b'],
      quorum: 1,
      publishers: { ed25519: [ed25519Publisher(ED_KEY)], threshold: 1 },
    },
  ],
};
const LISTED = { assets: [{ id: 'ETH', sources: ['a', 'b', 'c'], quorum: 1 }] };
const signed = (price: string, timestampMs: number, key = ED_KEY) => [
  signEd25519({ asset: 'ETH', priceWad: wad(price), confidenceWad: 0n, timestampMs }, key),
];

interface RejectionRow {
  readonly config: unknown;
  /** Updates taken before the one under test. */
  readonly before?: readonly PriceUpdate[];
  readonly update: PriceUpdate;
  readonly nowMs?: number;
}

const REJECTIONS: readonly (readonly [string, OracleReasonCode, RejectionRow])[] = [
  ['an asset not in the risk configuration', 'UNKNOWN_ASSET', { config: LISTED, update: update({ asset: 'DOGE' }) }],
  ['an asset that is not a string', 'UNKNOWN_ASSET', { config: LISTED, update: update({ asset: 42 }) }],
  ['a source not listed for the asset', 'UNKNOWN_SOURCE', { config: LISTED, update: update({ source: 'mallory' }) }],
  ['a source that is not an id', 'UNKNOWN_SOURCE', { config: undefined, update: update({ source: 'a b' }) }],
  ['a source that is not a string', 'UNKNOWN_SOURCE', { config: undefined, update: update({ source: null }) }],
  ['exponent notation', 'PRICE_NOT_CANONICAL', { config: LISTED, update: update({ price: '3e3' }) }],
  ['NaN', 'PRICE_NOT_CANONICAL', { config: LISTED, update: update({ price: 'NaN' }) }],
  ['Infinity', 'PRICE_NOT_CANONICAL', { config: LISTED, update: update({ price: 'Infinity' }) }],
  ['a JSON number', 'PRICE_NOT_CANONICAL', { config: LISTED, update: update({ price: 3000 }) }],
  ['1e400 spelled out past 80 characters', 'PRICE_NOT_CANONICAL', { config: LISTED, update: update({ price: `1${'0'.repeat(400)}` }) }],
  ['more than 18 decimals', 'PRICE_NOT_CANONICAL', { config: LISTED, update: update({ price: '3000.0000000000000000001' }) }],
  ['zero', 'PRICE_NON_POSITIVE', { config: LISTED, update: update({ price: '0' }) }],
  ['minus zero', 'PRICE_NON_POSITIVE', { config: LISTED, update: update({ price: '-0' }) }],
  ['negative', 'PRICE_NON_POSITIVE', { config: LISTED, update: update({ price: '-3000' }) }],
  ['confidence in exponent notation', 'CONFIDENCE_NOT_CANONICAL', { config: LISTED, update: update({ confidence: '5e-1' }) }],
  ['confidence as a JSON number', 'CONFIDENCE_NOT_CANONICAL', { config: LISTED, update: update({ confidence: 0.5 }) }],
  ['negative confidence', 'CONFIDENCE_NEGATIVE', { config: LISTED, update: update({ confidence: '-0.5' }) }],
  ['fractional timestamp', 'TIMESTAMP_INVALID', { config: LISTED, update: update({ timestampMs: T0 + 0.5 }), nowMs: T0 }],
  ['timestamp as a string', 'TIMESTAMP_INVALID', { config: LISTED, update: update({ timestampMs: String(T0) }), nowMs: T0 }],
  ['timestamp 2 s + 1 ms ahead', 'TIMESTAMP_IN_FUTURE', { config: LISTED, update: update({ timestampMs: T0 + 2_001 }), nowMs: T0 }],
  ['timestamp older than max age on arrival', 'STALE', { config: LISTED, update: update({ timestampMs: T0 - MINUTE - 1 }), nowMs: T0 }],
  ['signatures on an asset without publishers', 'SIGNATURE_UNKNOWN_PUBLISHER', { config: LISTED, update: update({ signatures: signed('3000', T0) }) }],
  ['a signature by an unconfigured key', 'SIGNATURE_UNKNOWN_PUBLISHER', { config: ATTESTED, update: update({ signatures: signed('3000', T0, testKey(8)) }) }],
  ['a tampered price', 'SIGNATURE_INVALID', { config: ATTESTED, update: update({ price: '3001', signatures: signed('3000', T0) }) }],
  [
    'a replayed attestation, relayed by another source',
    'SIGNATURE_REPLAYED',
    {
      config: ATTESTED,
      before: [update({ source: 'a', signatures: signed('3000', T0) })],
      update: update({ source: 'b', signatures: signed('3000', T0) }),
    },
  ],
  ['no signature where one is required', 'SIGNATURE_THRESHOLD_NOT_MET', { config: ATTESTED, update: update() }],
  [
    'the same timestamp from the same source',
    'TIMESTAMP_NOT_INCREASING',
    { config: LISTED, before: [update({ price: '3000' })], update: update({ price: '3001' }) },
  ],
  [
    'an older timestamp from the same source',
    'TIMESTAMP_NOT_INCREASING',
    { config: LISTED, before: [update({ timestampMs: T0 })], update: update({ timestampMs: T0 - SECOND }), nowMs: T0 },
  ],
  [
    'an older timestamp from another source of a single-source asset (one feed)',
    'TIMESTAMP_NOT_INCREASING',
    { config: undefined, before: [update({ source: 'x', timestampMs: T0 })], update: update({ source: 'y', timestampMs: T0 - 1 }), nowMs: T0 },
  ],
  ['confidence over 2% of the price', 'CONFIDENCE_TOO_WIDE', { config: LISTED, update: update({ price: '100', confidence: '2.01' }) }],
];

function run(row: RejectionRow): { target: Oracle; nowMs: number } {
  const target = oracle(row.config);
  const nowMs = row.nowMs ?? row.update.timestampMs;
  for (const earlier of row.before ?? []) submitOk(target, earlier, nowMs);
  return { target, nowMs };
}

describe('submit: each update guard rejects with its reason and changes nothing', () => {
  it.each(REJECTIONS)('%s → %s', (_name, code, row) => {
    const { target, nowMs } = run(row);
    const before = JSON.stringify(target.status(nowMs), bigintJson);
    const result = target.submit(row.update, nowMs);
    expect(result.status).toBe('rejected');
    if (result.status !== 'rejected') return;
    expect(result.reasons.map((reason) => reason.code)).toEqual([code]);
    expect(JSON.stringify(target.status(nowMs), bigintJson)).toBe(before);
    exercised.add(code);
  });

  it('the boundary values themselves are accepted', () => {
    const target = oracle(LISTED);
    submitOk(target, update({ source: 'a', timestampMs: T0 + 2_000 }), T0); // exactly the skew ahead
    submitOk(target, update({ source: 'b', timestampMs: T0 - MINUTE }), T0); // exactly max age old
    submitOk(target, update({ source: 'c', price: '100', confidence: '2' }), T0); // exactly 2%
  });

  it('a rejected update does not trip the breaker (a malformed update cannot halt an asset)', () => {
    const target = oracle(LISTED);
    submitOk(target, update({ price: '3000' }));
    for (const bad of ['0', '-1', '3e3', 'NaN']) target.submit(update({ price: bad, timestampMs: T0 + 1 }), T0 + 1);
    expect(target.guarded('ETH', T0 + 1)).toMatchObject({ ok: true, value: { healthy: true, reasons: [] } });
  });
});

// ---------------------------------------------------------------------------------------
// Every aggregate guard, through the oracle: the update is taken, the aggregate refused.

interface AggregateRow {
  readonly config: unknown;
  readonly updates: readonly PriceUpdate[];
}

const SINGLE = { defaults: { maxDeviationPerUpdate: '0.1', maxDeviationPerWindow: '0.25', windowMs: 300_000 } };
const at = (price: string, seconds: number, source = 'a') => update({ source, price, timestampMs: T0 + seconds * SECOND });

const AGGREGATE_REJECTIONS: readonly (readonly [string, readonly OracleReasonCode[], AggregateRow])[] = [
  [
    'one fresh source of three, quorum two',
    ['QUORUM_NOT_MET'],
    { config: { assets: [{ id: 'ETH', sources: ['a', 'b', 'c'], quorum: 2 }] }, updates: [at('3000', 0)] },
  ],
  [
    'two sources 10% apart: their dispersion is wider than 2% of the price',
    ['CONFIDENCE_TOO_WIDE'],
    { config: { assets: [{ id: 'ETH', sources: ['a', 'b'], quorum: 2 }] }, updates: [at('100', 0, 'a'), at('110', 1, 'b')] },
  ],
  ['11% in one update', ['DEVIATION_PER_UPDATE'], { config: SINGLE, updates: [at('100', 0), at('111', 10)] }],
  [
    '9% steps adding up to 28% within five minutes',
    ['DEVIATION_PER_WINDOW'],
    { config: SINGLE, updates: [at('100', 0), at('109', 10), at('118', 20), at('128', 30)] },
  ],
  [
    'a jump failing both deviation guards at once',
    ['DEVIATION_PER_UPDATE', 'DEVIATION_PER_WINDOW'],
    { config: SINGLE, updates: [at('100', 0), at('200', 10)] },
  ],
];

describe('submit: each aggregate guard refuses the aggregate with its reason', () => {
  it.each(AGGREGATE_REJECTIONS)('%s → %j', (_name, codes, row) => {
    const target = oracle(row.config);
    const last = row.updates.at(-1)!;
    const earlier = row.updates.slice(0, -1);
    for (const value of earlier) submitOk(target, value);
    const priced = target.guarded('ETH', last.timestampMs).ok;
    const result = submitOk(target, last);
    expect(result.aggregate.status).toBe('rejected');
    if (result.aggregate.status !== 'rejected') return;
    expect(result.aggregate.reasons.map((reason) => reason.code)).toEqual(codes);
    codes.forEach((code) => exercised.add(code));
    if (priced) {
      // a priced asset: the failing aggregate trips its breaker
      expect(result.healthy).toBe(false);
      expect(target.guarded('ETH', last.timestampMs)).toMatchObject({ ok: true, value: { healthy: false, reasons: codes } });
    } else {
      // an unpriced asset has no breaker to trip: it stays without a price
      expect(target.guarded('ETH', last.timestampMs)).toEqual({ ok: false, error: { code: 'NO_PRICE', asset: 'ETH' } });
    }
  });

  it('a frozen feed is STALE at query time, and NO_PRICE before any price', () => {
    const target = oracle(undefined);
    expect(target.status(T0).find((status) => status.asset === 'ETH')?.reasons).toEqual(['NO_PRICE']);
    exercised.add('NO_PRICE');
    submitOk(target, update());
    const frozen = target.guarded('ETH', T0 + MINUTE + 1);
    expect(frozen).toMatchObject({ ok: true, value: { healthy: false, reasons: ['STALE'] } });
    exercised.add('STALE');
  });
});

describe('coverage of the reason list', () => {
  it('the tables above exercise every reason code', () => {
    expect([...exercised].sort()).toEqual([...ORACLE_REASON_CODES].sort());
  });
});

function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}
