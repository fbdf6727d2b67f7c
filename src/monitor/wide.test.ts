import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitsWide, readWide, writeWide } from './wide.ts';

const LIMIT = 1n << 127n;

describe('wide: 128-bit signed integers in two 64-bit words', () => {
  it.each([0n, 1n, -1n, (1n << 64n) - 1n, 1n << 64n, -(1n << 64n), -(1n << 64n) - 1n, LIMIT - 1n, -LIMIT, 10n ** 30n, -(10n ** 36n)])(
    'round-trips %s',
    (value) => {
      const words = new BigUint64Array(4);
      writeWide(words, 2, value);
      expect(readWide(words, 2)).toBe(value);
      expect(words[0]).toBe(0n);
    },
  );

  it('round-trips every value that fits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -LIMIT, max: LIMIT - 1n }), (value) => {
        const words = new BigUint64Array(2);
        writeWide(words, 0, value);
        expect(readWide(words, 0)).toBe(value);
      }),
    );
  });

  it('says what does not fit', () => {
    expect(fitsWide(LIMIT - 1n)).toBe(true);
    expect(fitsWide(-LIMIT)).toBe(true);
    expect(fitsWide(LIMIT)).toBe(false);
    expect(fitsWide(-LIMIT - 1n)).toBe(false);
  });
});
