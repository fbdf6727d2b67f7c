/**
 * The canonical encoder writes text directly; the stored logs' hashes were made by the first
 * encoder, which built a sorted copy and gave it to JSON.stringify. The reference below is
 * that encoder: every value must encode to the same bytes, or old logs would stop verifying.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical } from './codec.ts';

function reference(value: unknown): string {
  return JSON.stringify(toJsonValue(value));
}

function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return { $n: value.toString() };
  if (value instanceof Map) {
    return [...value.entries()]
      .sort(([a], [b]) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0))
      .map(([key, entry]) => [key, toJsonValue(entry)]);
  }
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(record).sort()) {
      if (record[key] !== undefined) sorted[key] = toJsonValue(record[key]);
    }
    return sorted;
  }
  return value;
}

// `__proto__` is left out: the reference, assigning it on a plain object, dropped it (it set
// the prototype); validated commands and configurations never carry it.
const key = fc.oneof(
  fc.string().filter((text) => text !== '__proto__'),
  fc.constantFrom('0', '1', '9', '10', '01', '007', '4294967294', '4294967295', '99999999999', '-1', '1.5', '$n', '__proto__x'),
  fc.nat().map(String),
);
const leaf = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.maxSafeInteger(),
  fc.constant(-0),
);
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object'), tie('map')),
  array: fc.array(tie('node'), { maxLength: 5 }),
  object: fc.dictionary(key, tie('node'), { maxKeys: 6 }),
  map: fc.array(fc.tuple(fc.string(), tie('node')), { maxLength: 4 }).map((entries) => new Map(entries)),
})).node;

describe('encodeCanonical', () => {
  it('writes the same bytes as the reference encoder for any value', () => {
    fc.assert(
      fc.property(value, (input) => {
        expect(encodeCanonical(input)).toBe(reference(input) ?? 'null');
      }),
      { numRuns: 2000 },
    );
  });

  it('orders array-index keys first, numerically, as a rebuilt object iterates them', () => {
    expect(encodeCanonical({ b: 1, '10': 2, '9': 3, a: 4, '01': 5, '4294967295': 6 })).toBe(
      '{"9":3,"10":2,"01":5,"4294967295":6,"a":4,"b":1}',
    );
  });

  it('round-trips bigints through decodeCanonical', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt()), (numbers) => {
        expect(decodeCanonical(encodeCanonical({ numbers }))).toEqual({ numbers });
      }),
    );
  });

  it('refuses a number that is not a safe integer', () => {
    expect(() => encodeCanonical({ x: 0.5 })).toThrow(/safe integers/);
    expect(() => encodeCanonical([Number.MAX_SAFE_INTEGER + 2])).toThrow(/safe integers/);
  });
});
