/**
 * Slow prices derived from the spot aggregate, both on bigint only:
 *
 * - the **stable price** (Mango v4's idea): follows spot, but moves by at most a configured
 *   fraction per hour. Initial margin values collateral at min(spot, stable) and debts at
 *   max(spot, stable), so a pump of minutes cannot be borrowed against and a crash of a
 *   debt asset cannot be used to borrow more either.
 * - the **mark price** for perps: an exponential moving average of spot with a half-life.
 *
 * Both treat spot as held constant between accepted aggregates: over [t_last, t] they move
 * towards the spot that held during that interval, never towards a price that arrived at its
 * end. A price gets weight only for the time it stood, so a single-tick spike moves neither,
 * and a price arriving after a quiet hour gets no credit for that hour.
 */
import { divDown, max, min, mulDivDown, mulDivUp, sqrtDown, WAD } from '../core/fixed.ts';

export const HOUR_MS = 3_600_000n;

/**
 * The stable price after `elapsedMs` of spot at `spotWad`: towards spot by at most a factor
 * f = 1 + growthPerHour × elapsed / 1 h, never past it. Rising it multiplies by f rounded
 * down, falling it divides by f rounded up, and f itself is rounded down: each rounding
 * keeps the move within the bound. Over several updates the factors compound, so over any
 * interval Δt the stable price moves by at most a factor e^(growthPerHour × Δt / 1 h).
 */
export function stepStablePrice(stableWad: bigint, spotWad: bigint, elapsedMs: number, growthPerHourWad: bigint): bigint {
  if (elapsedMs <= 0 || stableWad === spotWad) return stableWad;
  const factorWad = WAD + mulDivDown(growthPerHourWad, BigInt(elapsedMs), HOUR_MS);
  if (spotWad > stableWad) return min(spotWad, mulDivDown(stableWad, factorWad, WAD));
  return max(spotWad, mulDivUp(stableWad, WAD, factorWad));
}

// ---------------------------------------------------------------------------------------
// 2^(−elapsed / halfLife) on bigint.

/** Binary fixed point used inside the decay: 2^128 = 1.0. */
const Q_BITS = 128n;
const Q_ONE = 1n << Q_BITS;
/** Bits of the fractional exponent kept (a truncation of < 2^−64 of a half-life). */
const FRACTION_BITS = 64;

/** ROOTS[i] = 2^(−2^−(i+1)) in Q128, rounded down: 2^−½, 2^−¼, 2^−⅛, … by repeated square roots. */
const ROOTS: readonly bigint[] = (() => {
  const roots: bigint[] = [];
  let root = sqrtDown(Q_ONE * Q_ONE / 2n);
  for (let i = 0; i < FRACTION_BITS; i++) {
    roots.push(root);
    root = sqrtDown(root * Q_ONE);
  }
  return roots;
})();

/**
 * The EMA's weight on the old value after `elapsedMs`: 2^(−elapsed / halfLife) as a wad,
 * with no float. elapsed / halfLife = whole + fraction; 2^−whole is a shift, and 2^−fraction
 * is the product of 2^(−2^−i) over the set bits of the fraction's first 64 binary digits.
 * Computed in Q128 and rounded down to a wad: the result is within 1e-18 of the exact value.
 */
export function halfLifeDecayWad(elapsedMs: number, halfLifeMs: number): bigint {
  if (!Number.isSafeInteger(elapsedMs) || elapsedMs < 0) throw new RangeError(`halfLifeDecayWad: bad elapsed ${elapsedMs}`);
  if (!Number.isSafeInteger(halfLifeMs) || halfLifeMs <= 0) throw new RangeError(`halfLifeDecayWad: bad half-life ${halfLifeMs}`);
  const elapsed = BigInt(elapsedMs);
  const halfLife = BigInt(halfLifeMs);
  const whole = elapsed / halfLife;
  // 2^−60 < 1e-18: past 60 half-lives the weight is below one wei.
  if (whole >= 60n) return 0n;
  const fractionBits = ((elapsed % halfLife) << BigInt(FRACTION_BITS)) / halfLife;
  let value = Q_ONE;
  for (let i = 0; i < FRACTION_BITS; i++) {
    if ((fractionBits >> BigInt(FRACTION_BITS - 1 - i)) & 1n) value = (value * ROOTS[i]!) >> Q_BITS;
  }
  return ((value >> whole) * WAD) >> Q_BITS;
}

/**
 * The mark price after `elapsedMs` of spot at `spotWad`:
 * mark' = mark × w + spot × (1 − w), w = 2^(−elapsed / halfLife), rounded down once. A
 * rounded-down convex combination stays within [min(mark, spot), max(mark, spot)]; the mark
 * is neither the account's asset nor its debt, so down is a stated choice, not a side taken.
 */
export function stepMarkPrice(markWad: bigint, spotWad: bigint, elapsedMs: number, halfLifeMs: number): bigint {
  if (elapsedMs <= 0) return markWad;
  const weightWad = halfLifeDecayWad(elapsedMs, halfLifeMs);
  return divDown(markWad * weightWad + spotWad * (WAD - weightWad), WAD);
}
