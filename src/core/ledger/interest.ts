/**
 * Interest: a utilisation-based rate with a kink, accrued by index so that an accrual is
 * O(1) per asset whatever the number of accounts.
 *
 * Rounding: utilisation and the lenders' rate round down, the borrowers' rate rounds up;
 * the borrow index grows rounded up, the supply index rounded down. Lenders therefore never
 * earn more than borrowers pay, and the difference (reserve plus rounding) stays with the
 * protocol.
 */
import type { InterestModel } from '../config.ts';
import { divDown, min, mulDivDown, mulDivUp, WAD } from '../fixed.ts';
import type { AssetState } from './state.ts';

/** 365 days: rates are annual, simple within one accrual, compounded across accruals. */
export const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** borrows / deposits, rounded down, capped at 1; zero without deposits. */
export function utilization(totalBorrows: bigint, totalDeposits: bigint): bigint {
  if (totalDeposits <= 0n) return 0n;
  return min(divDown(totalBorrows * WAD, totalDeposits), WAD);
}

/** Annual borrow rate at utilisation U (rounded up). */
export function borrowRate(model: InterestModel, utilizationWad: bigint): bigint {
  const optimal = model.optimalUtilizationWad;
  const below = mulDivUp(model.slopeBelowWad, min(utilizationWad, optimal), optimal);
  const excess = utilizationWad > optimal ? utilizationWad - optimal : 0n;
  const above = excess === 0n ? 0n : mulDivUp(model.slopeAboveWad, excess, WAD - optimal);
  return model.baseRateWad + below + above;
}

/** Annual rate lenders earn: borrowRate × U × (1 − reserveFactor), rounded down. */
export function supplyRate(model: InterestModel, borrowRateWad: bigint, utilizationWad: bigint): bigint {
  return mulDivDown(borrowRateWad * utilizationWad, WAD - model.reserveFactorWad, WAD * WAD);
}

export interface Accrual {
  readonly utilizationWad: bigint;
  readonly borrowRateWad: bigint;
  readonly supplyRateWad: bigint;
  readonly borrowIndexWad: bigint;
  readonly supplyIndexWad: bigint;
}

/** Indexes after `elapsedMs` at the current utilisation. */
export function accrue(model: InterestModel, asset: AssetState, elapsedMs: number): Accrual {
  const utilizationWad = utilization(asset.totalBorrows, asset.totalDeposits);
  const borrowRateWad = borrowRate(model, utilizationWad);
  const supplyRateWad = supplyRate(model, borrowRateWad, utilizationWad);
  const elapsed = BigInt(elapsedMs);
  const year = BigInt(YEAR_MS);
  const borrowGrowthWad = mulDivUp(borrowRateWad, elapsed, year);
  const supplyGrowthWad = mulDivDown(supplyRateWad, elapsed, year);
  return {
    utilizationWad,
    borrowRateWad,
    supplyRateWad,
    borrowIndexWad: mulDivUp(asset.borrowIndexWad, WAD + borrowGrowthWad, WAD),
    supplyIndexWad: mulDivDown(asset.supplyIndexWad, WAD + supplyGrowthWad, WAD),
  };
}
