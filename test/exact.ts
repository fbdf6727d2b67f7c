/**
 * An independent reference for the risk model of DESIGN.md in exact arithmetic: values are
 * fractions of bigints, and the size-scaled margin requirement, which involves a square
 * root, is kept as a coefficient times the root of an integer. Comparisons against these
 * values are exact (cross-multiplication and squaring), never approximations.
 *
 * All values are USD wads (1e18 = 1 USD), like the engine's.
 */
import type { Account, PerpPosition } from '../src/core/account.ts';
import type { Level, RiskConfig } from '../src/core/config.ts';
import { WAD } from '../src/core/fixed.ts';
import type { PriceBook } from '../src/core/prices.ts';

/** numerator / denominator, denominator > 0. */
export interface Fraction {
  readonly n: bigint;
  readonly d: bigint;
}

export const ZERO: Fraction = { n: 0n, d: 1n };

export function fraction(n: bigint, d = 1n): Fraction {
  if (d === 0n) throw new RangeError('fraction: zero denominator');
  return d < 0n ? { n: -n, d: -d } : { n, d };
}

export function add(a: Fraction, b: Fraction): Fraction {
  return a.d === b.d ? { n: a.n + b.n, d: a.d } : { n: a.n * b.d + b.n * a.d, d: a.d * b.d };
}

export function sub(a: Fraction, b: Fraction): Fraction {
  return add(a, { n: -b.n, d: b.d });
}

export function mul(a: Fraction, b: Fraction): Fraction {
  return { n: a.n * b.n, d: a.d * b.d };
}

/** Sign of a − b. */
export function compare(a: Fraction, b: Fraction): -1 | 0 | 1 {
  const left = a.n * b.d;
  const right = b.n * a.d;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** ⌊a⌋. */
export function floor(a: Fraction): bigint {
  const q = a.n / a.d;
  return a.n < 0n && q * a.d !== a.n ? q - 1n : q;
}

/** coefficient × √radicand, coefficient ≥ 0, radicand ≥ 0. */
export interface Root {
  readonly coefficient: Fraction;
  readonly radicand: bigint;
}

/** rational + Σ roots: a real number the reference can compare exactly. */
export interface Exact {
  readonly rational: Fraction;
  readonly roots: readonly Root[];
}

export function exact(rational: Fraction, roots: readonly Root[] = []): Exact {
  return { rational, roots };
}

export function addExact(a: Exact, b: Exact): Exact {
  return { rational: add(a.rational, b.rational), roots: [...a.roots, ...b.roots] };
}

/** x ≥ Σ coefficient_i × √radicand_i, for up to two roots, exactly (by squaring). */
function atLeastRoots(x: Fraction, roots: readonly Root[]): boolean {
  if (roots.length === 0) return x.n >= 0n;
  if (x.n < 0n) return false; // the right-hand side is ≥ 0
  const square = (f: Fraction): Fraction => mul(f, f);
  const [first, second, ...rest] = roots;
  if (rest.length > 0) throw new Error('exact: more than two roots');
  if (second === undefined) {
    // x ≥ c√m ⇔ x² ≥ c²·m (both sides ≥ 0)
    return compare(square(x), mul(square(first!.coefficient), fraction(first!.radicand))) >= 0;
  }
  // x ≥ a√p + b√q ⇔ x² ≥ a²p + b²q + 2ab√(pq) ⇔ x² − a²p − b²q ≥ 2ab√(pq)
  const a = first!.coefficient;
  const b = second.coefficient;
  const rest2 = sub(
    sub(square(x), mul(square(a), fraction(first!.radicand))),
    mul(square(b), fraction(second.radicand)),
  );
  return atLeastRoots(rest2, [{ coefficient: mul(fraction(2n), mul(a, b)), radicand: first!.radicand * second.radicand }]);
}

/** value ≥ e, exactly. */
export function atLeast(value: bigint, e: Exact): boolean {
  return atLeastRoots(sub(fraction(value), e.rational), e.roots);
}

/** value ≤ e for a rational e. */
export function atMost(value: bigint, e: Exact): boolean {
  if (e.roots.length > 0) throw new Error('exact: atMost is only defined for rationals here');
  return compare(fraction(value), e.rational) <= 0;
}

export interface ExactSides {
  readonly assets: Exact;
  readonly liabilities: Exact;
}

export interface ExactContribution {
  readonly key: string;
  readonly initial: ExactSides;
  readonly maintenance: ExactSides;
}

const LEVELS: readonly Level[] = ['initial', 'maintenance'];
const pick = (weights: { readonly initialWad: bigint; readonly maintenanceWad: bigint }, level: Level): bigint =>
  level === 'initial' ? weights.initialWad : weights.maintenanceWad;

/**
 * The exact value of each non-zero balance (key = asset id) and position (key = market id),
 * straight from DESIGN.md. Throws when the account cannot be valued (the caller only asks
 * for complete inputs).
 */
export function exactContributions(account: Account, prices: PriceBook, config: RiskConfig): ExactContribution[] {
  const result: ExactContribution[] = [];
  for (const [asset, amount] of account.balances) {
    if (amount === 0n) continue;
    const assetConfig = config.assets.get(asset);
    const price = prices.get(asset);
    if (assetConfig === undefined || price === undefined) throw new Error(`exact: cannot value ${asset}`);
    const scale = assetConfig.unit * WAD; // base units → whole units, and the weight's wad
    const sides = (level: Level): ExactSides => {
      if (amount > 0n) {
        const low = price.priceWad > price.confidenceWad ? price.priceWad - price.confidenceWad : 0n;
        const weight = assetConfig.collateral === undefined ? 0n : pick(assetConfig.collateral, level);
        return { assets: exact(fraction(amount * low * weight, scale)), liabilities: exact(ZERO) };
      }
      const high = price.priceWad + price.confidenceWad;
      const weight = assetConfig.liability === undefined ? WAD : pick(assetConfig.liability, level);
      return { assets: exact(ZERO), liabilities: exact(fraction(-amount * high * weight, scale)) };
    };
    result.push({ key: asset, initial: sides('initial'), maintenance: sides('maintenance') });
  }
  for (const position of account.perps.values()) {
    if (position.size === 0n) continue;
    result.push(exactPerp(position, prices, config));
  }
  return result;
}

/** size × (mark − entry) as an exact USD wad. */
export function exactPnl(position: PerpPosition, prices: PriceBook, config: RiskConfig): Fraction {
  const { markWad, unit } = perpInputs(position, prices, config);
  return fraction(position.size * (markWad - position.entryPriceWad), unit);
}

function perpInputs(position: PerpPosition, prices: PriceBook, config: RiskConfig) {
  const market = config.markets.get(position.market);
  const base = market && config.assets.get(market.base);
  const price = market && prices.get(market.base);
  if (market === undefined || base === undefined || price === undefined) {
    throw new Error(`exact: cannot value ${position.market}`);
  }
  return { market, markWad: price.priceWad, unit: base.unit };
}

function exactPerp(position: PerpPosition, prices: PriceBook, config: RiskConfig): ExactContribution {
  const { market, markWad, unit } = perpInputs(position, prices, config);
  const pnl = exactPnl(position, prices, config);
  const size = position.size < 0n ? -position.size : position.size;
  // notional N = A / B whole USD, with A = |size| × mark and B = unit × WAD
  const A = size * markWad;
  const B = unit * WAD;
  const f = market.sizeScalingFactorWad;
  const requirement = (level: Level): Exact => {
    const base = pick(market.marginFraction, level);
    // requirement (USD wad) = N × WAD × max(base / WAD, (f / WAD) × √N) = max(A·base / B, f·A·√(A·B) / B²)
    // the base fraction binds ⇔ base ≥ f × √(A / B) ⇔ base² × B ≥ f² × A
    if (f === 0n || base * base * B >= f * f * A) return exact(fraction(A * base, B));
    return exact(ZERO, [{ coefficient: fraction(f * A, B * B), radicand: A * B }]);
  };
  const sides = (level: Level): ExactSides => {
    if (pnl.n >= 0n) {
      const weighted = mul(pnl, fraction(pick(market.positivePnlWeight, level), WAD));
      return { assets: exact(weighted), liabilities: requirement(level) };
    }
    return { assets: exact(ZERO), liabilities: addExact(exact(fraction(-pnl.n, pnl.d)), requirement(level)) };
  };
  return { key: market.id, initial: sides('initial'), maintenance: sides('maintenance') };
}

/** Σ over contributions at one level. */
export function exactTotals(contributions: readonly ExactContribution[], level: Level): ExactSides {
  let assets = exact(ZERO);
  let liabilities = exact(ZERO);
  for (const contribution of contributions) {
    assets = addExact(assets, contribution[level].assets);
    liabilities = addExact(liabilities, contribution[level].liabilities);
  }
  return { assets, liabilities };
}

export { LEVELS };
