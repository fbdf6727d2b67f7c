/**
 * The four maintenance-ratio thresholds the monitor decides against, and an account's exact
 * position relative to them (its zone mask), by cross-multiplication: no division, no rounding.
 *
 *   bit 0  LIQUIDATABLE   ratio < 1               (maintenance health < 0)
 *   bit 1  LIQUIDATION_BAND ratio < 1 + band      (a liquidatable alert stands until the ratio is back above this)
 *   bit 2  WARNING        ratio < warningRatio    (the margin call of DESIGN.md)
 *   bit 3  WARNING_BAND   ratio < warningRatio + band (a warning stands until the ratio is back above this)
 *
 * "ratio < t" is `assets × WAD < t × liabilities`; with no liabilities the ratio is unbounded
 * and no bit is set. Bits 0 and 2 are exactly the core's `liquidatable` and `warning`.
 */
import type { RiskConfig } from '../core/config.ts';
import { WAD } from '../core/fixed.ts';
import type { LevelHealth } from '../core/health.ts';

export const LIQUIDATABLE = 1;
export const LIQUIDATION_BAND = 2;
export const WARNING = 4;
export const WARNING_BAND = 8;
export const THRESHOLD_COUNT = 4;
/** A mask no exact evaluation has produced yet (new account, unpriced asset, new configuration). */
export const MASK_UNKNOWN = 0xff;

/** Default hysteresis band: 0.02 of maintenance ratio (1e18 = 1.0). */
export const DEFAULT_BAND_WAD = WAD / 50n;

/** The thresholds in bit order, as wads. */
export type ThresholdsWad = readonly [bigint, bigint, bigint, bigint];

export function thresholdsFor(config: RiskConfig, bandWad: bigint): ThresholdsWad {
  if (bandWad < 0n) throw new RangeError('monitor: the hysteresis band must not be negative');
  return [WAD, WAD + bandWad, config.warningRatioWad, config.warningRatioWad + bandWad];
}

/** Zone mask of a maintenance level: bit k set ⇔ ratio below threshold k. */
export function exactMask(maintenance: LevelHealth, thresholds: ThresholdsWad): number {
  const { assetsUsd, liabilitiesUsd } = maintenance;
  if (liabilitiesUsd <= 0n) return 0;
  const scaledAssets = assetsUsd * WAD;
  let mask = 0;
  for (let bit = 0; bit < THRESHOLD_COUNT; bit++) {
    if (scaledAssets < thresholds[bit]! * liabilitiesUsd) mask |= 1 << bit;
  }
  return mask;
}

/** The two sides of a maintenance level, as ordering needs them. */
export interface Sides {
  readonly maintenanceAssetsUsd: bigint;
  readonly maintenanceLiabilitiesUsd: bigint;
}

/**
 * How far under water: the lower maintenance ratio first, compared as
 * assetsA × liabilitiesB vs assetsB × liabilitiesA (no division). No liabilities (an unbounded
 * ratio) comes last. Equal ratios: 0.
 */
export function compareUnderwater(a: Sides, b: Sides): number {
  const aUnbounded = a.maintenanceLiabilitiesUsd <= 0n;
  const bUnbounded = b.maintenanceLiabilitiesUsd <= 0n;
  if (aUnbounded || bUnbounded) return aUnbounded === bUnbounded ? 0 : aUnbounded ? 1 : -1;
  const left = a.maintenanceAssetsUsd * b.maintenanceLiabilitiesUsd;
  const right = b.maintenanceAssetsUsd * a.maintenanceLiabilitiesUsd;
  return left < right ? -1 : left > right ? 1 : 0;
}
