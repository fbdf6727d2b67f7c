import type { LevelHealth } from '../health.ts';
import type {
  AuctionStep,
  DeleverageStep,
  InsuranceStep,
  PerpStep,
  StepRule,
  SocializeStep,
  SwapStep,
} from '../liquidation/steps.ts';

/**
 * Events: what happened, the only thing the log stores. `evolve` applies them; replaying
 * them from empty rebuilds the state. Each carries what an auditor needs to follow it
 * without recomputing (amounts settled, fees, realised PnL, indexes reached).
 */

export interface ConfigUpdated {
  readonly type: 'ConfigUpdated';
  readonly config: unknown;
}

export interface PriceUpdated {
  readonly type: 'PriceUpdated';
  readonly asset: string;
  readonly priceWad: bigint;
  readonly confidenceWad: bigint;
  readonly stablePriceWad?: bigint;
  readonly markPriceWad?: bigint;
  readonly healthy: boolean;
  readonly reasons: readonly string[];
}

export interface AccountOpened {
  readonly type: 'AccountOpened';
  readonly account: string;
  readonly owner: string;
}

/** Pending interest and funding turned into settled balances (double entry with system accounts). */
export interface AccountSettled {
  readonly type: 'AccountSettled';
  readonly account: string;
  /** Per asset: interest credited (+, lender) or charged (−, borrower), base units; index reached. */
  readonly interest: readonly { readonly asset: string; readonly amount: bigint; readonly indexWad: bigint }[];
  /** Per market: funding received (+) or paid (−), quote base units; index reached. */
  readonly funding: readonly { readonly market: string; readonly amount: bigint; readonly indexWad: bigint }[];
  /** Share of the borrowers' interest that went to the fee pool, per asset. */
  readonly reserve: readonly { readonly asset: string; readonly amount: bigint }[];
}

export interface CollateralDeposited {
  readonly type: 'CollateralDeposited';
  readonly account: string;
  readonly asset: string;
  readonly amount: bigint;
}

export interface CollateralWithdrawn {
  readonly type: 'CollateralWithdrawn';
  readonly account: string;
  readonly asset: string;
  readonly amount: bigint;
  /** Part of the amount that was borrowed (beyond the balance). */
  readonly borrowed: bigint;
}

export interface Transferred {
  readonly type: 'Transferred';
  readonly from: string;
  readonly to: string;
  readonly asset: string;
  readonly amount: bigint;
}

export interface TradeFilled {
  readonly type: 'TradeFilled';
  readonly market: string;
  readonly priceWad: bigint;
  readonly size: bigint;
  readonly buyer: string;
  readonly seller: string;
  /** Fees charged, quote base units. */
  readonly buyerFee: bigint;
  readonly sellerFee: bigint;
  readonly buyerFeeRateWad: bigint;
  readonly sellerFeeRateWad: bigint;
  /** PnL realised by the reducing part of each side, quote base units. */
  readonly buyerRealizedPnl: bigint;
  readonly sellerRealizedPnl: bigint;
}

export interface InterestAccrued {
  readonly type: 'InterestAccrued';
  readonly asset: string;
  readonly nowMs: number;
  readonly utilizationWad: bigint;
  readonly borrowRateWad: bigint;
  readonly supplyRateWad: bigint;
  readonly borrowIndexWad: bigint;
  readonly supplyIndexWad: bigint;
}

export interface FundingUpdated {
  readonly type: 'FundingUpdated';
  readonly market: string;
  readonly rateWad: bigint;
  readonly markPriceWad: bigint;
  readonly fundingIndexWad: bigint;
}

/** One step of a liquidation; its movements are `movementsOf(step)` (liquidation/steps.ts). */
interface LiquidationStepEvent<Type extends string, Step> {
  readonly type: Type;
  readonly account: string;
  readonly liquidator: string;
  readonly step: Step;
}

export type PositionLiquidated = LiquidationStepEvent<'PositionLiquidated', PerpStep>;
export type CollateralSeized = LiquidationStepEvent<'CollateralSeized', SwapStep>;
export type InsuranceCovered = LiquidationStepEvent<'InsuranceCovered', InsuranceStep>;
export type PositionDeleveraged = LiquidationStepEvent<'PositionDeleveraged', DeleverageStep>;
/** The asset's supply index is cut (in evolve, from the deposits at that moment): every lender's balance shrinks in proportion. */
export type BadDebtSocialized = LiquidationStepEvent<'BadDebtSocialized', SocializeStep>;

export interface AuctionStarted extends LiquidationStepEvent<'AuctionStarted', AuctionStep> {
  readonly auctionId: string;
  readonly startMs: number;
}

export type LiquidationStepEventType =
  | PositionLiquidated
  | CollateralSeized
  | InsuranceCovered
  | PositionDeleveraged
  | BadDebtSocialized
  | AuctionStarted;

const LIQUIDATION_STEP_TYPES: ReadonlySet<LedgerEvent['type']> = new Set<LiquidationStepEventType['type']>([
  'PositionLiquidated',
  'CollateralSeized',
  'InsuranceCovered',
  'PositionDeleveraged',
  'BadDebtSocialized',
  'AuctionStarted',
]);

/** One step of a liquidation (the events a LiquidationCompleted closes). */
export function isLiquidationStep(event: LedgerEvent): event is LiquidationStepEventType {
  return LIQUIDATION_STEP_TYPES.has(event.type);
}

/** A taker bought part of a lot: it paid `cost` of the debt asset, `repaid` of it to the account's debt. */
export interface AuctionTaken {
  readonly type: 'AuctionTaken';
  readonly auctionId: string;
  readonly account: string;
  readonly taker: string;
  readonly collateralAsset: string;
  readonly debtAsset: string;
  readonly amount: bigint;
  readonly priceWad: bigint;
  readonly cost: bigint;
  readonly repaid: bigint;
  readonly toInsurance: bigint;
}

export interface AuctionReset {
  readonly type: 'AuctionReset';
  readonly auctionId: string;
  readonly reason: 'TOO_OLD' | 'TOO_FAR_BELOW_ORACLE';
  readonly startPriceWad: bigint;
  readonly startMs: number;
}

/** The tab was raised or the lot sold out: what is left of the lot goes back to the account. */
export interface AuctionEnded {
  readonly type: 'AuctionEnded';
  readonly auctionId: string;
  readonly account: string;
  readonly collateralAsset: string;
  readonly returned: bigint;
}

/** The explanation of a whole liquidation: what the engine saw, aimed for and reached. */
export interface LiquidationCompleted {
  readonly type: 'LiquidationCompleted';
  readonly account: string;
  readonly liquidator: string;
  readonly nowMs: number;
  readonly target: { readonly kind: 'initial' } | { readonly kind: 'maintenanceRatio'; readonly ratioWad: bigint };
  readonly bankrupt: boolean;
  readonly targetReached: boolean;
  /** Guarded prices used, for every asset of the account. */
  readonly prices: readonly { readonly asset: string; readonly priceWad: bigint; readonly confidenceWad: bigint }[];
  readonly healthBefore: { readonly initial: LevelHealth; readonly maintenance: LevelHealth };
  readonly healthAfter: { readonly initial: LevelHealth; readonly maintenance: LevelHealth };
  /** Notional taken per market or collateral asset (cascade windows). */
  readonly notional: readonly { readonly key: string; readonly usd: bigint }[];
  /** Markets or assets a limit kept the liquidation from touching, and which limit. */
  readonly untouched: readonly { readonly key: string; readonly rule: StepRule }[];
  readonly penaltiesUsd: bigint;
  readonly badDebtUsd: bigint;
}

export type LedgerEvent =
  | ConfigUpdated
  | PriceUpdated
  | AccountOpened
  | AccountSettled
  | CollateralDeposited
  | CollateralWithdrawn
  | Transferred
  | TradeFilled
  | InterestAccrued
  | FundingUpdated
  | LiquidationStepEventType
  | LiquidationCompleted
  | AuctionTaken
  | AuctionReset
  | AuctionEnded;

export type EventType = LedgerEvent['type'];
