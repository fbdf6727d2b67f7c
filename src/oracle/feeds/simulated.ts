/**
 * A seeded simulated price feed for the demo and the stress simulator: geometric Brownian
 * motion with jumps (Merton), per-asset volatility, and optional correlation through one
 * common factor.
 *
 * Per step of dt years, for asset i:
 *   log S ← log S + (μ − σ²/2) dt + σ √dt zᵢ + J
 *   zᵢ = √ρ · F + √(1 − ρ) · εᵢ       F, εᵢ ~ N(0, 1), F shared by every asset
 *   J  ~ N(jumpMeanLog, jumpStdLog²) with probability 1 − e^(−λ dt), else 0
 * and each source then prints S × e^(noise × η), η ~ N(0, 1), so several sources disagree a
 * little, as real venues do.
 *
 * Floats: this is a model of a market, not money: the path is simulated in float64 and
 * each price leaves as a canonical decimal string of `significantDigits` significant digits
 * (at most 18 fractional digits, at least one wei). Everything downstream of the string is
 * bigint. The random numbers come from our own generator (xoshiro128**, seeded by
 * splitmix32; normals by Box–Muller), so a seed gives the same path on every run and every
 * platform Node runs on; every draw is made whether or not it is used (a jump that does not
 * happen still consumes its draws), so changing one parameter does not reshuffle the rest.
 */
import { formatDecimal, parseDecimal, WAD_DECIMALS } from '../../core/fixed.ts';
import type { PriceUpdate } from '../oracle.ts';

export interface SimulatedAssetOptions {
  readonly asset: string;
  /** Starting price, canonical decimal string > 0. */
  readonly initialPrice: string;
  /** σ, annualised (0.8 = 80% a year). */
  readonly volatilityPerYear: number;
  /** μ, annualised; default 0. */
  readonly driftPerYear?: number;
  /** λ, expected jumps per year; default 0 (no jumps). */
  readonly jumpsPerYear?: number;
  /** Mean of a jump's log size (−0.2 ≈ a 18% drop); default 0. */
  readonly jumpMeanLog?: number;
  /** Standard deviation of a jump's log size; default 0. */
  readonly jumpStdLog?: number;
  /** Each update's confidence as a fraction of its price; default: no confidence field. */
  readonly confidenceRatio?: number;
}

export interface SimulatedFeedOptions {
  readonly seed: number;
  /** Time of the first step's prices (the initial prices), ms since the epoch. */
  readonly startMs: number;
  readonly stepMs: number;
  readonly assets: readonly SimulatedAssetOptions[];
  /** ρ in [0, 1]: each asset's loading on the common factor; default 0 (independent). */
  readonly correlation?: number;
  /** Source ids; each prints every asset every step. Default ["simulated"]. */
  readonly sources?: readonly string[];
  /** Per-source log noise around the simulated price; default 0. */
  readonly sourceNoise?: number;
  /** Significant digits of each printed price; default 10. */
  readonly significantDigits?: number;
}

const MS_PER_YEAR = 365.25 * 24 * 3600 * 1000;

// ---------------------------------------------------------------------------------------
// Random numbers.

/** splitmix32: expands one 32-bit seed into well-mixed state words. */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** xoshiro128** (Blackman and Vigna): uniform 32-bit words. */
export class Xoshiro128 {
  #s: Uint32Array;
  #spareNormal: number | undefined;

  constructor(seed: number) {
    const next = splitmix32(seed);
    this.#s = Uint32Array.of(next(), next(), next(), next());
  }

  nextUint32(): number {
    const s = this.#s;
    let [s0, s1, s2, s3] = [s[0]!, s[1]!, s[2]!, s[3]!];
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    s.set([s0, s1, s2, s3]);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4_294_967_296;
  }

  /** Standard normal by Box–Muller; the second variate of each pair is kept for the next call. */
  normal(): number {
    if (this.#spareNormal !== undefined) {
      const spare = this.#spareNormal;
      this.#spareNormal = undefined;
      return spare;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log(0) never happens
    const u2 = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    this.#spareNormal = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

// ---------------------------------------------------------------------------------------
// Prices as strings.

/**
 * A positive float as a canonical decimal string with `digits` significant digits (fewer
 * when 18 fractional digits cannot hold them), never below one wei.
 */
export function formatSignificant(value: number, digits: number): string {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`formatSignificant: ${value} is not a positive finite number`);
  const exponent = Math.floor(Math.log10(value));
  const scale = Math.min(WAD_DECIMALS, Math.max(0, digits - 1 - exponent));
  const scaled = BigInt(Math.round(value * 10 ** scale));
  return formatDecimal(scaled > 0n ? scaled : 1n, scale);
}

// ---------------------------------------------------------------------------------------
// The feed.

interface AssetPath {
  readonly options: SimulatedAssetOptions;
  logPrice: number;
}

export class SimulatedFeed {
  readonly #options: SimulatedFeedOptions;
  readonly #random: Xoshiro128;
  readonly #paths: AssetPath[];
  readonly #sources: readonly string[];
  #step = 0;

  constructor(options: SimulatedFeedOptions) {
    validateOptions(options);
    this.#options = options;
    this.#random = new Xoshiro128(options.seed);
    this.#sources = options.sources ?? ['simulated'];
    this.#paths = options.assets.map((asset) => ({ options: asset, logPrice: Math.log(Number.parseFloat(asset.initialPrice)) }));
  }

  /** Time of the prices the next `step()` returns. */
  get nowMs(): number {
    return this.#options.startMs + this.#step * this.#options.stepMs;
  }

  /**
   * The updates of the current time (the initial prices on the first call, one step of the
   * model on each later one), one per asset and source, then advances the clock.
   */
  step(): readonly PriceUpdate[] {
    if (this.#step > 0) this.#advance();
    const timestampMs = this.nowMs;
    const updates: PriceUpdate[] = [];
    const noise = this.#options.sourceNoise ?? 0;
    const digits = this.#options.significantDigits ?? 10;
    for (const path of this.#paths) {
      for (const source of this.#sources) {
        const eta = this.#random.normal();
        const value = Math.exp(path.logPrice + noise * eta);
        const ratio = path.options.confidenceRatio;
        updates.push({
          source,
          asset: path.options.asset,
          price: formatSignificant(value, digits),
          ...(ratio !== undefined && ratio > 0 && { confidence: formatSignificant(value * ratio, digits) }),
          timestampMs,
        });
      }
    }
    this.#step += 1;
    return updates;
  }

  /** One model step for every asset. */
  #advance(): void {
    const dtYears = this.#options.stepMs / MS_PER_YEAR;
    const rho = this.#options.correlation ?? 0;
    const common = this.#random.normal();
    for (const path of this.#paths) {
      const { volatilityPerYear: sigma, driftPerYear = 0, jumpsPerYear = 0, jumpMeanLog = 0, jumpStdLog = 0 } = path.options;
      const own = this.#random.normal();
      const jumpDraw = this.#random.uniform();
      const jumpSize = jumpMeanLog + jumpStdLog * this.#random.normal();
      const z = Math.sqrt(rho) * common + Math.sqrt(1 - rho) * own;
      const jumps = jumpDraw < 1 - Math.exp(-jumpsPerYear * dtYears);
      path.logPrice += (driftPerYear - (sigma * sigma) / 2) * dtYears + sigma * Math.sqrt(dtYears) * z + (jumps ? jumpSize : 0);
    }
  }
}

/** Options are the programmer's, not untrusted input: a bad one is a bug, thrown. */
function validateOptions(options: SimulatedFeedOptions): void {
  const problem = (message: string): never => {
    throw new RangeError(`SimulatedFeed: ${message}`);
  };
  if (!Number.isSafeInteger(options.seed)) problem('seed must be an integer');
  if (!Number.isSafeInteger(options.startMs) || options.startMs < 0) problem('startMs must be a non-negative integer');
  if (!Number.isSafeInteger(options.stepMs) || options.stepMs <= 0) problem('stepMs must be a positive integer');
  const rho = options.correlation ?? 0;
  if (!(rho >= 0 && rho <= 1)) problem('correlation must be in [0, 1]');
  if (options.sources !== undefined && options.sources.length === 0) problem('sources must not be empty');
  const digits = options.significantDigits ?? 10;
  if (!Number.isInteger(digits) || digits < 1 || digits > 15) problem('significantDigits must be 1 to 15');
  for (const asset of options.assets) {
    const parsed = parseDecimal(asset.initialPrice, WAD_DECIMALS);
    if (!parsed.ok || parsed.value <= 0n) problem(`${asset.asset}: initialPrice must be a positive canonical decimal`);
    if (!(asset.volatilityPerYear >= 0) || !Number.isFinite(asset.volatilityPerYear)) problem(`${asset.asset}: volatilityPerYear must be ≥ 0`);
    if (!((asset.jumpsPerYear ?? 0) >= 0)) problem(`${asset.asset}: jumpsPerYear must be ≥ 0`);
    if (!((asset.jumpStdLog ?? 0) >= 0)) problem(`${asset.asset}: jumpStdLog must be ≥ 0`);
  }
}
