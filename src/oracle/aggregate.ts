/**
 * Aggregation of an asset's sources into one price with a confidence.
 *
 *   price      = median of the fresh sources' prices
 *   spread     = ⌈1.4826 × MAD⌉, MAD = median |price_i − price|
 *   confidence = max(spread, median of the fresh sources' own confidences)
 *
 * The median ignores a minority of wrong sources however wrong they are (one of three
 * printing ETH 190% too high moves it not at all). MAD, the median absolute deviation, is the
 * dispersion estimate with the same property; 1.4826 makes it estimate the standard
 * deviation of normally distributed quotes. Taking the larger of the sources' disagreement
 * and their own stated uncertainty means agreeing-but-unsure sources and sure-but-disagreeing
 * sources both widen the interval.
 *
 * Rounding: a median of an even count averages the two middle values rounded down for the
 * price (neither side of the account is favoured by a price; down is simply stated) and up
 * for the confidence and MAD (a confidence only ever counts against the account, so wider).
 */
import { divDown, divUp, mulDivUp, WAD } from '../core/fixed.ts';

/** One source's latest accepted update. */
export interface SourceQuote {
  readonly source: string;
  readonly priceWad: bigint;
  readonly confidenceWad: bigint;
  readonly timestampMs: number;
}

export interface Aggregate {
  readonly priceWad: bigint;
  readonly confidenceWad: bigint;
  /** How many fresh sources it was made from. */
  readonly sourceCount: number;
}

/** 1.4826 (≈ 1 / Φ⁻¹(3/4)) as a wad: turns a MAD into a standard-deviation estimate. */
export const MAD_TO_SIGMA_WAD = 1_482_600_000_000_000_000n;

/** Quotes no older than `maxAgeMs` at `nowMs` (a quote from the future, within the skew allowed, is fresh). */
export function freshQuotes(quotes: Iterable<SourceQuote>, nowMs: number, maxAgeMs: number): SourceQuote[] {
  const fresh: SourceQuote[] = [];
  for (const quote of quotes) if (nowMs - quote.timestampMs <= maxAgeMs) fresh.push(quote);
  return fresh;
}

function sorted(values: readonly bigint[]): bigint[] {
  return [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Median; for an even count, the mean of the two middle values rounded down. */
export function medianDown(values: readonly bigint[]): bigint {
  return median(values, divDown);
}

/** Median; for an even count, the mean of the two middle values rounded up. */
export function medianUp(values: readonly bigint[]): bigint {
  return median(values, divUp);
}

function median(values: readonly bigint[], halve: (numerator: bigint, denominator: bigint) => bigint): bigint {
  if (values.length === 0) throw new RangeError('median of no values');
  const ordered = sorted(values);
  const middle = ordered.length >> 1;
  if (ordered.length % 2 === 1) return ordered[middle]!;
  return halve(ordered[middle - 1]! + ordered[middle]!, 2n);
}

/** ⌈1.4826 × median |price_i − median|⌉. Zero for one source, or for sources that agree. */
export function dispersionWad(prices: readonly bigint[], medianWad: bigint): bigint {
  const deviations = prices.map((price) => (price > medianWad ? price - medianWad : medianWad - price));
  return mulDivUp(medianUp(deviations), MAD_TO_SIGMA_WAD, WAD);
}

/** The aggregate of a non-empty set of quotes (the caller checks the quorum first). */
export function aggregateQuotes(quotes: readonly SourceQuote[]): Aggregate {
  const prices = quotes.map((quote) => quote.priceWad);
  const priceWad = medianDown(prices);
  const spreadWad = dispersionWad(prices, priceWad);
  const ownWad = medianUp(quotes.map((quote) => quote.confidenceWad));
  return { priceWad, confidenceWad: spreadWad > ownWad ? spreadWad : ownWad, sourceCount: quotes.length };
}
