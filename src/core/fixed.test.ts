import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  divDown,
  divDownPow10,
  divUp,
  divUpPow10,
  formatDecimal,
  formatWad,
  mulDivDown,
  mulDivUp,
  parseDecimal,
  sqrtDown,
  sqrtUp,
  WAD,
} from './fixed.ts';

/** The canonical grammar of DESIGN.md, written out again so the test does not trust the module's copy. */
const CANONICAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

const FORTY_DIGITS = '1234567890123456789012345678901234567890';

describe('parseDecimal: accepted strings', () => {
  it.each([
    // [text, scale, expected scaled integer]
    ['0', 18, 0n],
    ['-0', 0, 0n],
    ['-0.5', 18, -500_000_000_000_000_000n],
    ['0.5', 1, 5n],
    ['3000.12', 18, 3_000_120_000_000_000_000_000n],
    ['1', 6, 1_000_000n],
    ['1.000000', 6, 1_000_000n], // exactly the scale's six digits
    ['0.000001', 6, 1n], // one base unit of USDC
    ['-1000', 6, -1_000_000_000n],
    ['123', 0, 123n],
    ['1.5', 18, 1_500_000_000_000_000_000n],
    [FORTY_DIGITS, 0, 1234567890123456789012345678901234567890n],
    [`-${FORTY_DIGITS}`, 0, -1234567890123456789012345678901234567890n],
    // 40 digits at 18 decimals: 58 characters, within the 80-character limit
    [`${FORTY_DIGITS}.5`, 18, 1234567890123456789012345678901234567890_500_000_000_000_000_000n],
    // exactly 80 characters is the longest accepted string
    [`1${'0'.repeat(79)}`, 0, 10n ** 79n],
  ] as const)('%j at scale %i is %s', (text, scale, expected) => {
    const parsed = parseDecimal(text, scale);
    expect(parsed).toEqual({ ok: true, value: expected });
  });
});

describe('parseDecimal: rejected inputs', () => {
  it.each([
    ['1e5'],
    ['1E5'],
    ['1e-5'],
    ['1.5e3'],
    ['NaN'],
    ['Infinity'],
    ['-Infinity'],
    ['+1'],
    ['+0.5'],
    [''],
    ['-'],
    [' '],
    [' 1'],
    ['1 '],
    ['1\n'],
    ['\t1'],
    ['01'],
    ['00'],
    ['-01'],
    ['007.5'],
    ['1.'],
    ['-1.'],
    ['.5'],
    ['-.5'],
    ['1.2.3'],
    ['1,5'],
    ['1_000'],
    ['0x10'],
    ['--1'],
    ['- 1'],
    ['１'], // full-width digit one
    // 81 characters: longer than any value the engine accepts
    [`1${'0'.repeat(80)}`],
    [`-${'9'.repeat(80)}`],
  ])('%j is not canonical', (text) => {
    const parsed = parseDecimal(text, 18);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.code).toBe('INVALID_DECIMAL');
  });

  it.each([
    ['JSON number', 5],
    ['JSON float', 0.5],
    ['NaN number', Number.NaN],
    ['Infinity number', Number.POSITIVE_INFINITY],
    ['null', null],
    ['undefined', undefined],
    ['boolean', true],
    ['array', ['1']],
    ['object', { value: '1' }],
    ['bigint', 10n],
  ])('a %s is not a decimal string', (_name, value) => {
    const parsed = parseDecimal(value, 18);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.code).toBe('INVALID_DECIMAL');
  });

  it('says that a JSON number must be a string', () => {
    const parsed = parseDecimal(1000, 6);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.message).toMatch(/JSON number 1000/);
  });

  it.each([
    // [text, scale]: one more fractional digit than the scale holds
    ['1.0000001', 6], // USDC has 6 decimals
    ['0.0000001', 6],
    ['1.0000000', 6], // trailing zeros are digits too: the input is not silently rewritten
    ['0.5', 0],
    ['1.0', 0],
    [`0.${'1'.repeat(19)}`, 18],
  ] as const)('%j has too many fractional digits for scale %i', (text, scale) => {
    const parsed = parseDecimal(text, scale);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe('TOO_MANY_DECIMALS');
      expect(parsed.error.message).toContain(`at most ${scale}`);
    }
  });
});

describe('formatDecimal', () => {
  it.each([
    // [value, scale, fixed, text]
    [0n, 18, false, '0'],
    [0n, 18, true, '0.000000000000000000'],
    [0n, 0, true, '0'],
    [-500_000_000_000_000_000n, 18, false, '-0.5'],
    [1n, 6, false, '0.000001'],
    [-1n, 6, false, '-0.000001'],
    [1_000_000n, 6, false, '1'],
    [1_000_000n, 6, true, '1.000000'],
    [1230n, 2, false, '12.3'],
    [1230n, 2, true, '12.30'],
    [123n, 0, false, '123'],
    [-123n, 0, true, '-123'],
    [3_000_120_000_000_000_000_000n, 18, false, '3000.12'],
    [1234567890123456789012345678901234567890n, 0, false, FORTY_DIGITS],
  ] as const)('%s at scale %i (fixed %s) is %j', (value, scale, fixed, text) => {
    expect(formatDecimal(value, scale, fixed)).toBe(text);
  });

  it('formatWad keeps all 18 digits', () => {
    expect(formatWad(1n)).toBe('0.000000000000000001');
    expect(formatWad(-WAD)).toBe('-1.000000000000000000');
    expect(formatWad(WAD * 3600n + (WAD * 144n) / 1000n)).toBe('3600.144000000000000000');
  });
});

describe('divDown / divUp', () => {
  it.each([
    // [numerator, denominator, floor, ceil]
    [7n, 2n, 3n, 4n], // 3.5
    [-7n, 2n, -4n, -3n], // -3.5
    [8n, 2n, 4n, 4n],
    [-8n, 2n, -4n, -4n],
    [1n, 3n, 0n, 1n], // 0.333…
    [-1n, 3n, -1n, 0n], // -0.333…
    [2n, 3n, 0n, 1n],
    [-2n, 3n, -1n, 0n],
    [0n, 5n, 0n, 0n],
    [5n, 1n, 5n, 5n],
    [-5n, 1n, -5n, -5n],
    [10n ** 36n + 1n, 10n ** 18n, 10n ** 18n, 10n ** 18n + 1n],
    [-(10n ** 36n) - 1n, 10n ** 18n, -(10n ** 18n) - 1n, -(10n ** 18n)],
  ])('%s / %s: floor %s, ceil %s', (numerator, denominator, floor, ceil) => {
    expect(divDown(numerator, denominator)).toBe(floor);
    expect(divUp(numerator, denominator)).toBe(ceil);
  });

  it.each([
    // [numerator, exponent, ⌊n / 10^e⌋, ⌈n / 10^e⌉]: e = 0, one power of five (≤ 27), two, three
    [0n, 36, 0n, 0n],
    [7n, 0, 7n, 7n],
    [15n, 1, 1n, 2n],
    [10n ** 27n, 27, 1n, 1n],
    [10n ** 27n + 1n, 27, 1n, 2n],
    [10n ** 28n - 1n, 28, 0n, 1n],
    [10n ** 36n * 12345n + 1n, 36, 12345n, 12346n],
    [10n ** 54n * 3n, 54, 3n, 3n],
    [10n ** 54n * 3n - 1n, 54, 2n, 3n],
    [10n ** 60n + 10n ** 55n, 55, 100_001n, 100_001n],
  ])('%s / 10^%s: floor %s, ceil %s (divDownPow10, divUpPow10)', (numerator, exponent, floor, ceil) => {
    expect(divDownPow10(numerator, exponent)).toBe(floor);
    expect(divUpPow10(numerator, exponent)).toBe(ceil);
  });

  it('divDownPow10 and divUpPow10 reject a negative numerator', () => {
    expect(() => divDownPow10(-1n, 18)).toThrow(RangeError);
    expect(() => divUpPow10(-1n, 18)).toThrow(RangeError);
  });

  it.each([[0n], [-1n], [-3n]])('rejects denominator %s', (denominator) => {
    expect(() => divDown(7n, denominator)).toThrow(RangeError);
    expect(() => divUp(7n, denominator)).toThrow(RangeError);
    expect(() => mulDivDown(7n, 1n, denominator)).toThrow(RangeError);
    expect(() => mulDivUp(7n, 1n, denominator)).toThrow(RangeError);
  });
});

describe('mulDivDown / mulDivUp', () => {
  it.each([
    // [a, b, denominator, floor(a·b/d), ceil(a·b/d)]
    [7n, 3n, 2n, 10n, 11n], // 21/2 = 10.5
    [-7n, 3n, 2n, -11n, -10n], // -10.5
    [7n, -3n, 2n, -11n, -10n], // -10.5
    [-7n, -3n, 2n, 10n, 11n], // 10.5
    [6n, 3n, 2n, 9n, 9n], // exact
    [-6n, 3n, 2n, -9n, -9n], // exact
    [0n, 123n, 7n, 0n, 0n],
    // 1.5 whole ETH (18 decimals) × 0.85 (wad) / 1e18 = 1.275 ETH exactly
    [1_500_000_000_000_000_000n, 850_000_000_000_000_000n, WAD, 1_275_000_000_000_000_000n, 1_275_000_000_000_000_000n],
    // 1 wei × 0.5 = 0.5 wei: down 0, up 1
    [1n, WAD / 2n, WAD, 0n, 1n],
    [-1n, WAD / 2n, WAD, -1n, 0n],
  ])('%s × %s / %s: floor %s, ceil %s', (a, b, denominator, floor, ceil) => {
    expect(mulDivDown(a, b, denominator)).toBe(floor);
    expect(mulDivUp(a, b, denominator)).toBe(ceil);
  });
});

describe('sqrtDown / sqrtUp', () => {
  it.each([
    // [n, ⌊√n⌋, ⌈√n⌉]
    [0n, 0n, 0n],
    [1n, 1n, 1n],
    [2n, 1n, 2n],
    [3n, 1n, 2n],
    [4n, 2n, 2n],
    [5n, 2n, 3n],
    [8n, 2n, 3n],
    [9n, 3n, 3n],
    [10n, 3n, 4n],
    [99n, 9n, 10n],
    [100n, 10n, 10n],
    [101n, 10n, 11n],
    [10n ** 36n, 10n ** 18n, 10n ** 18n],
    [10n ** 36n - 1n, 10n ** 18n - 1n, 10n ** 18n],
    [10n ** 36n + 1n, 10n ** 18n, 10n ** 18n + 1n],
    [2n ** 128n - 1n, 2n ** 64n - 1n, 2n ** 64n],
    [2n ** 128n, 2n ** 64n, 2n ** 64n],
    // √(31500 × 1e36): the notional of 0.5 BTC at 63000, in wad, as health.ts scales it
    [31_500n * 10n ** 36n, 177_482_393_492_988_481_277n, 177_482_393_492_988_481_278n],
    // past 256 bits (bit lengths are found 256 bits at a time)
    [2n ** 2048n, 2n ** 1024n, 2n ** 1024n],
  ])('√%s: down %s, up %s', (n, down, up) => {
    expect(sqrtDown(n)).toBe(down);
    expect(sqrtUp(n)).toBe(up);
  });

  it('gives k − 1 at k² − 1, k at k² and at k² + 2k (the last n below (k + 1)²) for roots of 1 to 1100 bits', () => {
    for (let bits = 1n; bits <= 1100n; bits += 1n) {
      for (const k of [2n ** (bits - 1n), 2n ** bits - 1n, (2n ** bits * 7n) / 10n + 1n]) {
        expect(sqrtDown(k * k - 1n)).toBe(k - 1n);
        expect(sqrtDown(k * k)).toBe(k);
        expect(sqrtDown(k * k + 2n * k)).toBe(k);
        expect(sqrtUp(k * k + 1n)).toBe(k + 1n);
      }
    }
  });

  it('rejects negative input', () => {
    expect(() => sqrtDown(-1n)).toThrow(RangeError);
    expect(() => sqrtUp(-4n)).toThrow(RangeError);
  });
});

describe('properties', () => {
  it('parse(format(x)) is x for every bigint and scale 0..36, and the text is canonical', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }),
        fc.integer({ min: 0, max: 36 }),
        fc.boolean(),
        (value, scale, fixed) => {
          const text = formatDecimal(value, scale, fixed);
          expect(text).toMatch(CANONICAL);
          expect(parseDecimal(text, scale)).toEqual({ ok: true, value });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('format(parse(s)) is s for canonical strings without trailing fractional zeros', () => {
    const digits = (min: number, max: number) =>
      fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));
    const canonical = fc
      .tuple(fc.boolean(), fc.constantFrom(...'123456789'), digits(0, 30), digits(0, 17), fc.constantFrom(...'123456789'))
      .map(([negative, lead, rest, fraction, last]) => `${negative ? '-' : ''}${lead}${rest}.${fraction}${last}`);
    fc.assert(
      fc.property(canonical, (text) => {
        const parsed = parseDecimal(text, 18);
        expect(parsed.ok).toBe(true);
        if (parsed.ok) expect(formatDecimal(parsed.value, 18)).toBe(text);
      }),
    );
  });

  it('divDown ≤ n/d ≤ divUp, and they differ by at most 1 (by exactly 1 unless d divides n)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
        fc.oneof(fc.bigInt({ min: 1n, max: 1000n }), fc.bigInt({ min: 1n, max: 2n ** 128n })),
        (numerator, denominator) => {
          const floor = divDown(numerator, denominator);
          const ceil = divUp(numerator, denominator);
          // floor ≤ n/d ⇔ floor·d ≤ n (d > 0), and floor is the largest such integer
          expect(floor * denominator <= numerator).toBe(true);
          expect((floor + 1n) * denominator > numerator).toBe(true);
          // n/d ≤ ceil ⇔ n ≤ ceil·d, and ceil is the smallest such integer
          expect(numerator <= ceil * denominator).toBe(true);
          expect(numerator > (ceil - 1n) * denominator).toBe(true);
          const exact = numerator % denominator === 0n;
          expect(ceil - floor).toBe(exact ? 0n : 1n);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('divDownPow10 / divUpPow10 agree with divDown / divUp by 10^e', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 300n }), fc.integer({ min: 0, max: 90 }), (numerator, exponent) => {
        const denominator = 10n ** BigInt(exponent);
        expect(divDownPow10(numerator, exponent)).toBe(divDown(numerator, denominator));
        expect(divUpPow10(numerator, exponent)).toBe(divUp(numerator, denominator));
      }),
      { numRuns: 2000 },
    );
  });

  it('mulDivDown ≤ a·b/d ≤ mulDivUp for either sign of a and b', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }),
        fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }),
        fc.bigInt({ min: 1n, max: 2n ** 80n }),
        (a, b, denominator) => {
          const down = mulDivDown(a, b, denominator);
          const up = mulDivUp(a, b, denominator);
          expect(down * denominator <= a * b).toBe(true);
          expect((down + 1n) * denominator > a * b).toBe(true);
          expect(a * b <= up * denominator).toBe(true);
          expect(up - down <= 1n).toBe(true);
        },
      ),
    );
  });

  it('sqrtDown(n)² ≤ n < (sqrtDown(n)+1)², and sqrtUp is the smallest root at or above √n', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.bigInt({ min: 0n, max: 10_000n }), fc.bigInt({ min: 0n, max: 2n ** 256n })),
        (n) => {
          const root = sqrtDown(n);
          expect(root * root <= n).toBe(true);
          expect(n < (root + 1n) * (root + 1n)).toBe(true);
          const rootUp = sqrtUp(n);
          expect(n <= rootUp * rootUp).toBe(true);
          if (n > 0n) expect((rootUp - 1n) * (rootUp - 1n) < n).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('sqrtDown of a perfect square k² is k', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 128n }), (k) => {
        expect(sqrtDown(k * k)).toBe(k);
        expect(sqrtUp(k * k)).toBe(k);
      }),
    );
  });
});
