/**
 * Fixed-point decimals on bigint.
 *
 * Two kinds of numbers cross the engine:
 * - amounts, in an asset's base units (10^decimals base units = 1 whole unit);
 * - wads: prices, USD values, weights and ratios with 18 decimals (WAD = 1.0).
 *
 * Every operation that drops digits names its rounding. Rounding goes against the
 * account: the caller picks `Down` for what the account owns or receives and `Up` for
 * what it owes.
 */
import { err, ok, type Result } from './result.ts';

/** 1e18 = 1.0 for prices, USD values, weights, fractions and ratios. */
export const WAD_DECIMALS = 18;
export const WAD = 10n ** 18n;

/** Canonical decimal grammar of every boundary (API, CLI, files). */
const CANONICAL_DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** Longest decimal string accepted; longer strings are a mistake or an attack, not a value. */
const DECIMAL_LENGTH_MAX = 80;

const powersOfTen: bigint[] = [];
/** 10^exponent as bigint, cached for the small exponents asset decimals use. */
export function pow10(exponent: number): bigint {
  let cached = powersOfTen[exponent];
  if (cached === undefined) {
    if (!Number.isInteger(exponent) || exponent < 0) throw new RangeError(`pow10: bad exponent ${exponent}`);
    cached = 10n ** BigInt(exponent);
    powersOfTen[exponent] = cached;
  }
  return cached;
}

export interface DecimalIssue {
  readonly code: 'INVALID_DECIMAL' | 'TOO_MANY_DECIMALS';
  readonly message: string;
}

/**
 * Parses a canonical decimal string into an integer scaled by 10^scale.
 * Rejects anything outside the grammar and any fractional digit the scale cannot hold:
 * silently rounding an input would change the caller's number.
 */
export function parseDecimal(text: unknown, scale: number): Result<bigint, DecimalIssue> {
  if (typeof text !== 'string') {
    return err({ code: 'INVALID_DECIMAL', message: `must be a decimal string, got ${describe(text)}` });
  }
  if (text.length > DECIMAL_LENGTH_MAX || !CANONICAL_DECIMAL.test(text)) {
    return err({ code: 'INVALID_DECIMAL', message: `${describe(text)} is not a canonical decimal string` });
  }
  const negative = text.startsWith('-');
  const digits = negative ? text.slice(1) : text;
  const dot = digits.indexOf('.');
  const whole = dot === -1 ? digits : digits.slice(0, dot);
  const fraction = dot === -1 ? '' : digits.slice(dot + 1);
  if (fraction.length > scale) {
    return err({
      code: 'TOO_MANY_DECIMALS',
      message: `${describe(text)} has ${fraction.length} fractional digits, at most ${scale} allowed`,
    });
  }
  const magnitude = BigInt(whole) * pow10(scale) + BigInt(fraction.padEnd(scale, '0') || '0');
  return ok(negative ? -magnitude : magnitude);
}

/**
 * Formats an integer scaled by 10^scale as a canonical decimal string.
 * `fixed` keeps all `scale` fractional digits; otherwise trailing zeros are dropped.
 */
export function formatDecimal(value: bigint, scale: number, fixed = false): string {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const unit = pow10(scale);
  const whole = (magnitude / unit).toString();
  let fraction = scale === 0 ? '' : (magnitude % unit).toString().padStart(scale, '0');
  if (!fixed) fraction = fraction.replace(/0+$/, '');
  const text = fraction === '' ? whole : `${whole}.${fraction}`;
  return negative ? `-${text}` : text;
}

/** A wad (18 decimals) as a canonical string, all 18 digits kept. */
export function formatWad(value: bigint): string {
  return formatDecimal(value, WAD_DECIMALS, true);
}

/** floor(a × b / denominator): for what the account owns or receives. */
export function mulDivDown(a: bigint, b: bigint, denominator: bigint): bigint {
  return divDown(a * b, denominator);
}

/** ceil(a × b / denominator): for what the account owes. */
export function mulDivUp(a: bigint, b: bigint, denominator: bigint): bigint {
  return divUp(a * b, denominator);
}

/** floor(numerator / denominator), towards −∞ for either sign (bigint `/` truncates towards 0). */
export function divDown(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('divDown: denominator must be positive');
  if (numerator >= 0n) return numerator / denominator;
  const quotient = numerator / denominator;
  return quotient * denominator === numerator ? quotient : quotient - 1n;
}

/** ceil(numerator / denominator), towards +∞ for either sign. */
export function divUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('divUp: denominator must be positive');
  if (numerator <= 0n) return numerator / denominator;
  return (numerator + denominator - 1n) / denominator;
}

/**
 * Dividing by 10^e in steps of at most 10^19, the largest power of ten below 2^64, is a
 * chain of divisions by one 64-bit bigint digit (⌊⌊n / a⌋ / b⌋ = ⌊n / (a × b)⌋ for n ≥ 0).
 * Those are several times cheaper than one division by the multi-digit 10^e, and the
 * valuation divides by 10^(18 + decimals) four times on every account.
 */
const POW10_DIGIT_MAX = 19; // 10^19 < 2^64 < 10^20

/** ⌊n / 10^exponent⌋ for n ≥ 0 (for what the account owns). */
export function divDownPow10(n: bigint, exponent: number): bigint {
  if (n < 0n) throw new RangeError('divDownPow10: numerator must not be negative');
  let quotient = n;
  let rest = exponent;
  for (; rest > POW10_DIGIT_MAX; rest -= POW10_DIGIT_MAX) quotient /= pow10(POW10_DIGIT_MAX);
  return rest === 0 ? quotient : quotient / pow10(rest);
}

/** ⌈n / 10^exponent⌉ for n ≥ 0 (for what the account owes): ⌊(n − 1) / d⌋ + 1 for n ≥ 1. */
export function divUpPow10(n: bigint, exponent: number): bigint {
  if (n <= 0n) return divDownPow10(n, exponent);
  return divDownPow10(n - 1n, exponent) + 1n;
}

/** ⌈√n⌉ for n ≥ 0, by Newton's method on bigint. */
export function sqrtUp(n: bigint): bigint {
  const root = sqrtDown(n);
  return root * root === n ? root : root + 1n;
}

/**
 * ⌊√n⌋ for n ≥ 0: Python's `math.isqrt` (Mark Dickinson's). It builds the root of the top
 * bits of n and doubles their number at each step, one Newton step apiece, so the last step
 * alone divides numbers of n's size; one correction at the end. With c = ⌊(bits − 1) / 2⌋,
 * the loop keeps (root − 1)² < n >> 2(c − d) < (root + 1)², and d reaches c.
 */
export function sqrtDown(n: bigint): bigint {
  if (n < 0n) throw new RangeError('sqrtDown: negative input');
  if (n < 2n) return n;
  const c = (bitLength(n) - 1) >> 1;
  let steps = 0;
  for (let rest = c; rest > 0; rest >>= 1) steps += 1;
  let root = 1n;
  let d = 0;
  for (let s = steps - 1; s >= 0; s--) {
    const e = d;
    d = c >> s;
    root = (root << BigInt(d - e - 1)) + (n >> BigInt(2 * c - e - d + 1)) / root; // both ≥ 0: the quotient is the floor
  }
  return root * root > n ? root - 1n : root;
}

/** 2^k for k ≤ 256: bit lengths by binary search over these, without building a string. */
const BIT_LENGTH_STEP = 256;
const powersOfTwo: readonly bigint[] = Array.from({ length: BIT_LENGTH_STEP + 1 }, (_, k) => 1n << BigInt(k));

/** The number of bits of n > 0: ⌊log2 n⌋ + 1. */
function bitLength(n: bigint): number {
  let bits = 0;
  let rest = n;
  for (; rest >= powersOfTwo[BIT_LENGTH_STEP]!; rest >>= BigInt(BIT_LENGTH_STEP)) bits += BIT_LENGTH_STEP;
  // 2^low ≤ rest < 2^high
  let low = 0;
  let high = BIT_LENGTH_STEP;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (rest >= powersOfTwo[middle]!) low = middle;
    else high = middle;
  }
  return bits + low + 1;
}

export function abs(value: bigint): bigint {
  return value < 0n ? -value : value;
}

export function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 50 ? `${value.slice(0, 47)}...` : value);
  if (typeof value === 'number') return `the JSON number ${String(value)} (amounts must be strings)`;
  if (value === null) return 'null';
  return `a value of type ${Array.isArray(value) ? 'array' : typeof value}`;
}
