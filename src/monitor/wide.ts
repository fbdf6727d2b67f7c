/**
 * Exact bigints in shared memory: a signed integer in [−2^127, 2^127) as two 64-bit words
 * (high word two's complement, low word unsigned) of a BigUint64Array. Amounts of 36-decimal
 * assets above ~1.7e2 whole units do not fit; the caller marks such an account and values it
 * on the main thread instead.
 */

const LIMIT = 1n << 127n;

/** Whether `value` fits in 128 bits (signed). */
export function fitsWide(value: bigint): boolean {
  return value >= -LIMIT && value < LIMIT;
}

/** Writes `value` (which must fit) at words [at, at + 1]. */
export function writeWide(words: BigUint64Array, at: number, value: bigint): void {
  words[at] = BigInt.asUintN(64, value >> 64n);
  words[at + 1] = BigInt.asUintN(64, value);
}

export function readWide(words: BigUint64Array, at: number): bigint {
  const high = words[at]!;
  const low = words[at + 1]!;
  return high === 0n ? low : (BigInt.asIntN(64, high) << 64n) + low;
}
