/**
 * Oracle guards: each a small named function that returns the reason a price fails it, or
 * `undefined` when it passes. The oracle runs them as flat sequences (oracle.ts): first the
 * update guards, which decide whether one source's update is taken at all, then the
 * aggregate guards, which decide whether the asset's aggregate price may be trusted.
 *
 * Reason codes are stable: callers, dashboards and the error catalogue key on them.
 */
import { abs, parseDecimal, WAD, WAD_DECIMALS } from '../core/fixed.ts';
import { err, ok, type Result } from '../core/result.ts';

/**
 * Every reason code, in check order: the update guards as `submit` runs them, then the
 * aggregate guards, then the reasons only a status query reports. Append; never rename.
 */
export const ORACLE_REASON_CODES = [
  // Update guards: a failing update is rejected and changes nothing.
  'UNKNOWN_ASSET',
  'UNKNOWN_SOURCE',
  'PRICE_NOT_CANONICAL',
  'PRICE_NON_POSITIVE',
  'CONFIDENCE_NOT_CANONICAL',
  'CONFIDENCE_NEGATIVE',
  'TIMESTAMP_INVALID',
  'TIMESTAMP_IN_FUTURE',
  'STALE',
  'SIGNATURE_UNKNOWN_PUBLISHER',
  'SIGNATURE_INVALID',
  'SIGNATURE_REPLAYED',
  'SIGNATURE_THRESHOLD_NOT_MET',
  'TIMESTAMP_NOT_INCREASING',
  'CONFIDENCE_TOO_WIDE',
  // Aggregate guards: a failing aggregate trips the asset's circuit breaker.
  // (STALE and CONFIDENCE_TOO_WIDE above also apply to the aggregate.)
  'QUORUM_NOT_MET',
  'DEVIATION_PER_UPDATE',
  'DEVIATION_PER_WINDOW',
  // Status only: the asset has never had an aggregate that passed every guard.
  'NO_PRICE',
] as const;

export type OracleReasonCode = (typeof ORACLE_REASON_CODES)[number];

/** Why a guard failed: a stable code and a sentence for people. */
export interface GuardFailure {
  readonly code: OracleReasonCode;
  readonly message: string;
}

function fail(code: OracleReasonCode, message: string): GuardFailure {
  return { code, message };
}

// ---------------------------------------------------------------------------------------
// Update guards.

export function guardKnownAsset(asset: string, knownAssets: ReadonlySet<string>): GuardFailure | undefined {
  if (knownAssets.has(asset)) return undefined;
  return fail('UNKNOWN_ASSET', `asset ${JSON.stringify(asset)} is not configured`);
}

export function guardKnownSource(source: string, allowedSources: readonly string[] | 'any'): GuardFailure | undefined {
  if (allowedSources === 'any' || allowedSources.includes(source)) return undefined;
  return fail('UNKNOWN_SOURCE', `source ${JSON.stringify(source)} is not configured for this asset`);
}

/**
 * A price must be a canonical decimal string with at most 18 fractional digits (a wad). The
 * sign is judged by the next guard, so "-5" is canonical here and non-positive there.
 */
export function guardCanonicalPrice(price: unknown): Result<bigint, GuardFailure> {
  const parsed = parseDecimal(price, WAD_DECIMALS);
  if (!parsed.ok) return err(fail('PRICE_NOT_CANONICAL', `price: ${parsed.error.message}`));
  return ok(parsed.value);
}

export function guardPositivePrice(priceWad: bigint): GuardFailure | undefined {
  if (priceWad > 0n) return undefined;
  return fail('PRICE_NON_POSITIVE', 'price must be greater than zero');
}

/** An absent confidence is zero: the source claims an exact price, and the aggregate's dispersion still widens it. */
export function guardCanonicalConfidence(confidence: unknown): Result<bigint, GuardFailure> {
  if (confidence === undefined) return ok(0n);
  const parsed = parseDecimal(confidence, WAD_DECIMALS);
  if (!parsed.ok) return err(fail('CONFIDENCE_NOT_CANONICAL', `confidence: ${parsed.error.message}`));
  return ok(parsed.value);
}

export function guardNonNegativeConfidence(confidenceWad: bigint): GuardFailure | undefined {
  if (confidenceWad >= 0n) return undefined;
  return fail('CONFIDENCE_NEGATIVE', 'confidence must not be negative');
}

/** Milliseconds since the Unix epoch as a non-negative safe integer; anything else cannot be ordered. */
export function guardTimestampValid(timestampMs: unknown): GuardFailure | undefined {
  if (typeof timestampMs === 'number' && Number.isSafeInteger(timestampMs) && timestampMs >= 0) return undefined;
  return fail('TIMESTAMP_INVALID', 'timestampMs must be a non-negative integer (milliseconds since the epoch)');
}

/** A timestamp ahead of our clock by more than the allowed skew would stay "fresh" for too long. */
export function guardNotInFuture(timestampMs: number, nowMs: number, maxFutureMs: number): GuardFailure | undefined {
  if (timestampMs <= nowMs + maxFutureMs) return undefined;
  return fail('TIMESTAMP_IN_FUTURE', `timestamp is ${timestampMs - nowMs} ms ahead of the clock (at most ${maxFutureMs} ms allowed)`);
}

/** A price older than the maximum age says nothing about the market now. */
export function guardFresh(timestampMs: number, nowMs: number, maxAgeMs: number): GuardFailure | undefined {
  if (nowMs - timestampMs <= maxAgeMs) return undefined;
  return fail('STALE', `price is ${nowMs - timestampMs} ms old (at most ${maxAgeMs} ms allowed)`);
}

/** Per source, timestamps strictly increase: an equal or older one is a duplicate, a replay or a reordering. */
export function guardIncreasing(timestampMs: number, lastTimestampMs: number | undefined): GuardFailure | undefined {
  if (lastTimestampMs === undefined || timestampMs > lastTimestampMs) return undefined;
  return fail('TIMESTAMP_NOT_INCREASING', `timestamp ${timestampMs} is not after the source's last ${lastTimestampMs}`);
}

/** confidence / price ≤ max ratio, by cross-multiplication (no division, no rounding). */
export function guardConfidenceRatio(
  priceWad: bigint,
  confidenceWad: bigint,
  maxConfidenceRatioWad: bigint,
): GuardFailure | undefined {
  if (confidenceWad * WAD <= maxConfidenceRatioWad * priceWad) return undefined;
  return fail('CONFIDENCE_TOO_WIDE', 'confidence is wider than the allowed fraction of the price');
}

// ---------------------------------------------------------------------------------------
// Aggregate guards.

export function guardQuorum(freshSources: number, quorum: number): GuardFailure | undefined {
  if (freshSources >= quorum) return undefined;
  return fail('QUORUM_NOT_MET', `${freshSources} fresh source(s), ${quorum} required`);
}

/** |price − reference| / reference > max, by cross-multiplication. */
export function deviatesMoreThan(priceWad: bigint, referenceWad: bigint, maxDeviationWad: bigint): boolean {
  return abs(priceWad - referenceWad) * WAD > maxDeviationWad * referenceWad;
}

/** Against the previous aggregate (accepted or not): see oracle.ts for why not the last accepted one. */
export function guardDeviationPerUpdate(
  priceWad: bigint,
  previousWad: bigint | undefined,
  maxDeviationWad: bigint,
): GuardFailure | undefined {
  if (previousWad === undefined || !deviatesMoreThan(priceWad, previousWad, maxDeviationWad)) return undefined;
  return fail('DEVIATION_PER_UPDATE', 'price moved more than the allowed fraction since the previous aggregate');
}

/**
 * Against every accepted price of the window. |p − r| / r over r in [low, high] is largest at
 * one of the two ends, so the window's lowest and highest prices stand for all of them.
 */
export function guardDeviationPerWindow(
  priceWad: bigint,
  windowRange: { readonly lowWad: bigint; readonly highWad: bigint } | undefined,
  maxDeviationWad: bigint,
): GuardFailure | undefined {
  if (windowRange === undefined) return undefined;
  const beyond =
    deviatesMoreThan(priceWad, windowRange.lowWad, maxDeviationWad) ||
    deviatesMoreThan(priceWad, windowRange.highWad, maxDeviationWad);
  if (!beyond) return undefined;
  return fail('DEVIATION_PER_WINDOW', 'price moved more than the allowed fraction within the window');
}
