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
  | FundingUpdated;

export type EventType = LedgerEvent['type'];
