/**
 * Commands: what callers ask of the ledger. Each carries an idempotency key; a retry with
 * the same key and payload returns the first outcome and changes nothing. Amounts are base
 * units of their asset, prices and rates wads. Time enters only through commands.
 */

interface Keyed {
  readonly idempotencyKey: string;
}

export interface DepositCommand extends Keyed {
  readonly kind: 'deposit';
  readonly account: string;
  readonly asset: string;
  readonly amount: bigint;
  /** Owner of a new account (default: the account id); ignored for existing accounts. */
  readonly owner?: string;
}

/** Past the balance, a withdrawal is a borrow, allowed only for borrowable assets within caps. */
export interface WithdrawCommand extends Keyed {
  readonly kind: 'withdraw';
  readonly account: string;
  readonly asset: string;
  readonly amount: bigint;
}

/** Moves an amount between two accounts of one owner; past the balance it borrows. */
export interface TransferCommand extends Keyed {
  readonly kind: 'transfer';
  readonly from: string;
  readonly to: string;
  readonly asset: string;
  readonly amount: bigint;
}

/** A matched trade: `buyer` buys `size` base units from `seller` at `priceWad`. */
export interface TradeCommand extends Keyed {
  readonly kind: 'trade';
  readonly market: string;
  readonly priceWad: bigint;
  readonly size: bigint;
  readonly buyer: string;
  readonly seller: string;
  /** Fee rates on notional, charged in the quote asset to the fee pool. */
  readonly buyerFeeRateWad: bigint;
  readonly sellerFeeRateWad: bigint;
}

/** A guarded price for one asset (from the oracle). */
export interface PriceCommand extends Keyed {
  readonly kind: 'price';
  readonly asset: string;
  readonly priceWad: bigint;
  readonly confidenceWad: bigint;
  /** Slow, growth-bounded price for initial margin; absent: spot. */
  readonly stablePriceWad?: bigint;
  /** Mark price for perps on this base; absent: spot. */
  readonly markPriceWad?: bigint;
  /**
   * False when the price fails the oracle's guards: no liquidation uses it and no
   * risk-increasing command of an account exposed to it is accepted. Absent: healthy.
   */
  readonly healthy?: boolean;
  /** Why it is unhealthy (oracle reason codes). */
  readonly reasons?: readonly string[];
}

/** Accrues interest on every asset up to `nowMs`. */
export interface AccrueInterestCommand extends Keyed {
  readonly kind: 'accrueInterest';
  readonly nowMs: number;
}

/**
 * Applies a funding rate to a market: longs pay `rateWad` × mark price per whole base unit
 * to shorts (a negative rate: shorts pay longs). Positions settle lazily.
 */
export interface FundingCommand extends Keyed {
  readonly kind: 'funding';
  readonly market: string;
  readonly rateWad: bigint;
}

/** Replaces the risk configuration (the raw `risk.json` value; validated by decide). */
export interface ConfigCommand extends Keyed {
  readonly kind: 'config';
  readonly config: unknown;
}

/**
 * Liquidates an account that is liquidatable at current prices. The engine sizes the
 * liquidation itself; `maxNotionalUsd` lets a keeper take less, never more.
 */
export interface LiquidateCommand extends Keyed {
  readonly kind: 'liquidate';
  readonly account: string;
  /** A user account acting as keeper, or the backstop (`system:backstop`). */
  readonly liquidator: string;
  /** Time of the liquidation, for the cascade window. */
  readonly nowMs: number;
  readonly maxNotionalUsd?: bigint;
}

/** Buys up to `amount` of an auction's lot at its current price, if that is at most `maxPriceWad`. */
export interface BidCommand extends Keyed {
  readonly kind: 'bid';
  readonly auctionId: string;
  readonly taker: string;
  readonly amount: bigint;
  readonly maxPriceWad: bigint;
  readonly nowMs: number;
}

/** Restarts a stale auction at oracle × start factor. */
export interface ResetAuctionCommand extends Keyed {
  readonly kind: 'resetAuction';
  readonly auctionId: string;
  readonly nowMs: number;
}

export type Command =
  | DepositCommand
  | WithdrawCommand
  | TransferCommand
  | TradeCommand
  | PriceCommand
  | AccrueInterestCommand
  | FundingCommand
  | ConfigCommand
  | LiquidateCommand
  | BidCommand
  | ResetAuctionCommand;

export type CommandKind = Command['kind'];
