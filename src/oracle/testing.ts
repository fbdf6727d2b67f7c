/**
 * Test support for the oracle's tests (not exported by the package): configurations read
 * through the real parser, a fixed clock origin, and deterministic publisher keys.
 */
import { parseDecimal, WAD_DECIMALS } from '../core/fixed.ts';
import { formatIssues } from '../core/input.ts';
import { parseOracleConfig, type OracleConfig } from './config.ts';
import { Oracle, type GuardedPrice, type PriceUpdate, type SubmitResult } from './oracle.ts';

/** 2023-11-14T22:13:20Z: an arbitrary, round origin for test clocks. */
export const T0 = 1_700_000_000_000;
export const SECOND = 1_000;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;

export function wad(text: string): bigint {
  const parsed = parseDecimal(text, WAD_DECIMALS);
  if (!parsed.ok) throw new Error(`fixture: ${parsed.error.message}`);
  return parsed.value;
}

export function oracleConfig(json: unknown, assets: readonly string[] = ['ETH', 'USDC']): OracleConfig {
  const parsed = parseOracleConfig(json, assets);
  if (!parsed.ok) throw new Error(`fixture: invalid oracle config:\n${formatIssues(parsed.error)}`);
  return parsed.value;
}

export function oracle(json: unknown, assets: readonly string[] = ['ETH', 'USDC']): Oracle {
  return new Oracle(oracleConfig(json, assets));
}

/** An update with the usual fields; `overrides` may set any field to anything, as a hostile caller would. */
export function update(overrides: Partial<Record<keyof PriceUpdate, unknown>> = {}): PriceUpdate {
  return { source: 'a', asset: 'ETH', price: '3000', timestampMs: T0, ...overrides } as PriceUpdate;
}

/** Submits and insists the update was taken (whatever its aggregate did). */
export function submitOk(target: Oracle, value: PriceUpdate, nowMs = value.timestampMs): SubmitResult & { status: 'accepted' } {
  const result = target.submit(value, nowMs);
  if (result.status !== 'accepted') throw new Error(`fixture: update rejected: ${JSON.stringify(result.reasons)}`);
  return result;
}

export function guardedOk(target: Oracle, asset: string, nowMs: number): GuardedPrice {
  const result = target.guarded(asset, nowMs);
  if (!result.ok) throw new Error(`fixture: no guarded price: ${result.error.code}`);
  return result.value;
}

/** A 32-byte secret key filled with one byte: deterministic keys for tests, never for use. */
export function testKey(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}
