/**
 * Dutch auctions of seized collateral: the price starts above the oracle and falls with time
 * (time comes from commands), takers buy any part, proceeds repay the debt plus penalty
 * ("the tab"), and what is left of the lot returns to the account.
 *
 * Black Thursday (Maker, 12 March 2020) is why: a lot is never sold for nothing (a zero
 * bid is refused), never below the floor, and an auction whose price has run far below the
 * oracle, or that is too old, must be reset before anyone can buy from it.
 */
import type { AuctionConfig } from '../config.ts';
import { divDown, min, mulDivDown, mulDivUp, WAD } from '../fixed.ts';

export interface Auction {
  readonly id: string;
  readonly account: string;
  readonly collateralAsset: string;
  readonly debtAsset: string;
  /** Collateral still for sale, base units. */
  readonly lot: bigint;
  /** Debt still to raise, penalty included, base units of the debt asset. */
  readonly tab: bigint;
  readonly penaltyWad: bigint;
  readonly startPriceWad: bigint;
  readonly startMs: number;
}

/** Steps past which an exponential curve is taken to have reached zero. */
const EXPONENTIAL_STEPS_MAX = 10_000;

/** The asking price at `nowMs`, USD per whole unit of collateral, rounded down. */
export function auctionPrice(config: AuctionConfig, auction: Auction, nowMs: number): bigint {
  const elapsedMs = nowMs > auction.startMs ? nowMs - auction.startMs : 0;
  const curve = config.curve;
  if (curve.kind === 'linear') {
    const leftMs = curve.durationMs - elapsedMs;
    return leftMs <= 0 ? 0n : mulDivDown(auction.startPriceWad, BigInt(leftMs), BigInt(curve.durationMs));
  }
  const steps = divDown(BigInt(elapsedMs), BigInt(curve.stepMs));
  if (steps > BigInt(EXPONENTIAL_STEPS_MAX)) return 0n;
  let price = auction.startPriceWad;
  for (let step = 0n; step < steps && price > 0n; step += 1n) price = mulDivDown(price, curve.stepFactorWad, WAD);
  return price;
}

export function startPrice(config: AuctionConfig, oraclePriceWad: bigint): bigint {
  return mulDivDown(oraclePriceWad, config.startFactorWad, WAD);
}

/** Why an auction must be reset before it can sell, or null when it may sell. */
export function staleness(
  config: AuctionConfig,
  auction: Auction,
  nowMs: number,
  oraclePriceWad: bigint,
): 'TOO_OLD' | 'TOO_FAR_BELOW_ORACLE' | null {
  if (nowMs - auction.startMs > config.resetAfterMs) return 'TOO_OLD';
  const price = auctionPrice(config, auction, nowMs);
  if (price * WAD < oraclePriceWad * config.resetBelowFactorWad) return 'TOO_FAR_BELOW_ORACLE';
  if (price * WAD < oraclePriceWad * config.floorFactorWad) return 'TOO_FAR_BELOW_ORACLE';
  return null;
}

export interface Take {
  /** Collateral the taker receives, base units. */
  readonly amount: bigint;
  /** What the taker pays, debt-asset base units (rounded down: the account's proceeds). */
  readonly cost: bigint;
  /** Part of the cost that repays the account's debt. */
  readonly repaid: bigint;
  /** Part of the cost that is the penalty, to the insurance fund. */
  readonly toInsurance: bigint;
}

export interface TakePrices {
  readonly auctionPriceWad: bigint;
  readonly debtPriceWad: bigint;
  readonly collateralUnit: bigint;
  readonly debtUnit: bigint;
}

/**
 * What a taker asking for `wanted` receives and pays: at most the lot, and no more than
 * raises the tab. Null when that comes to nothing (a zero bid is never accepted).
 */
export function take(auction: Auction, wanted: bigint, prices: TakePrices): Take | null {
  const costOf = (amount: bigint): bigint =>
    mulDivDown(amount * prices.auctionPriceWad, prices.debtUnit, prices.collateralUnit * prices.debtPriceWad);
  let amount = min(wanted, auction.lot);
  if (costOf(amount) > auction.tab) {
    // The part of the lot that raises the tab at this price. Rounded up, so that the tab is
    // raised in full and the auction ends: the taker gains at most one base unit of collateral.
    amount = min(
      mulDivUp(auction.tab * prices.debtPriceWad, prices.collateralUnit, prices.auctionPriceWad * prices.debtUnit),
      auction.lot,
    );
  }
  const cost = min(costOf(amount), auction.tab);
  if (amount <= 0n || cost <= 0n) return null;
  const repaid = mulDivDown(cost, WAD, WAD + auction.penaltyWad);
  return { amount, cost, repaid, toInsurance: cost - repaid };
}
