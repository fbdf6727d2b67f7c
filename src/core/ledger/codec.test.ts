/** The one codec between values with bigints and canonical JSON text (hashes depend on its bytes). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical } from './codec.ts';

describe('encodeCanonical', () => {
  it('writes object keys sorted, Maps as sorted entries and bigints as {"$n": …}, whatever the insertion order', () => {
    const a = encodeCanonical({ b: 1n, a: new Map([['y', 2], ['x', 3]]), c: [true, null, 'z'] });
    const b = encodeCanonical({ c: [true, null, 'z'], a: new Map([['x', 3], ['y', 2]]), b: 1n });
    expect(a).toBe('{"a":[["x",3],["y",2]],"b":{"$n":"1"},"c":[true,null,"z"]}');
    expect(b).toBe(a);
  });

  it('leaves out undefined object members', () => {
    expect(encodeCanonical({ a: undefined, b: 2 })).toBe('{"b":2}');
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
