/**
 * Rejections: domain outcomes of a refused command, with stable codes and the numbers
 * behind them. Every code is listed in docs/ERRORS.md.
 */
import type { LevelHealth } from '../health.ts';

export type Rejection =
  | { readonly code: 'INVALID_COMMAND'; readonly field: string; readonly message: string }
  | { readonly code: 'INVALID_CONFIG'; readonly field: string; readonly message: string }
  | { readonly code: 'CONFIG_INCOMPATIBLE'; readonly field: string; readonly message: string }
  | { readonly code: 'LEDGER_HALTED'; readonly reason: string }
  | { readonly code: 'IDEMPOTENCY_CONFLICT'; readonly idempotencyKey: string; readonly field: string }
  | { readonly code: 'UNKNOWN_ACCOUNT'; readonly account: string }
  | { readonly code: 'SYSTEM_ACCOUNT'; readonly account: string }
  | { readonly code: 'UNKNOWN_ASSET'; readonly asset: string }
  | { readonly code: 'UNKNOWN_MARKET'; readonly market: string }
  | { readonly code: 'NOT_SAME_OWNER'; readonly from: string; readonly to: string }
  | { readonly code: 'SELF_TRADE'; readonly account: string }
  | { readonly code: 'ASSET_NOT_COLLATERAL'; readonly asset: string }
  | { readonly code: 'NOT_BORROWABLE'; readonly asset: string; readonly balance: bigint; readonly amount: bigint }
  | {
      readonly code: 'CAP_EXCEEDED';
      readonly asset: string;
      readonly cap: 'deposit' | 'borrow';
      readonly limit: bigint;
      readonly total: bigint;
    }
  | { readonly code: 'PRICE_UNAVAILABLE'; readonly asset: string }
  | { readonly code: 'PRICE_UNHEALTHY'; readonly asset: string; readonly reasons: readonly string[] }
  | { readonly code: 'TIME_WENT_BACKWARDS'; readonly asset: string; readonly nowMs: number; readonly lastMs: number }
  | { readonly code: 'SELF_LIQUIDATION'; readonly account: string; readonly liquidator: string }
  | { readonly code: 'NOT_LIQUIDATABLE'; readonly account: string; readonly maintenance: LevelHealth }
  | { readonly code: 'LIQUIDATION_CAPPED'; readonly account: string }
  | { readonly code: 'LIQUIDATION_INEFFECTIVE'; readonly account: string }
  | { readonly code: 'AUCTION_IN_PROGRESS'; readonly account: string; readonly auctionId: string }
  | { readonly code: 'UNKNOWN_AUCTION'; readonly auctionId: string }
  | {
      readonly code: 'AUCTION_STALE';
      readonly auctionId: string;
      readonly reason: 'TOO_OLD' | 'TOO_FAR_BELOW_ORACLE';
    }
  | { readonly code: 'AUCTION_NOT_STALE'; readonly auctionId: string }
  | { readonly code: 'AUCTION_PRICE_ABOVE_LIMIT'; readonly auctionId: string; readonly priceWad: bigint }
  | { readonly code: 'ZERO_BID'; readonly auctionId: string }
  | {
      readonly code: 'LIQUIDATOR_INSUFFICIENT_MARGIN';
      readonly liquidator: string;
      readonly healthAfter: LevelHealth;
    }
  | {
      readonly code: 'INSUFFICIENT_MARGIN';
      readonly account: string;
      readonly healthBefore: LevelHealth;
      readonly healthAfter: LevelHealth;
    };

export type RejectionCode = Rejection['code'];

/**
 * Every rejection code in check order, as docs/ERRORS.md lists them. A record keyed by the
 * union, so a code added to `Rejection` and not here (or the reverse) does not compile.
 */
const CHECK_ORDER: Record<RejectionCode, true> = {
  INVALID_COMMAND: true,
  INVALID_CONFIG: true,
  CONFIG_INCOMPATIBLE: true,
  LEDGER_HALTED: true,
  IDEMPOTENCY_CONFLICT: true,
  UNKNOWN_ACCOUNT: true,
  SYSTEM_ACCOUNT: true,
  UNKNOWN_ASSET: true,
  UNKNOWN_MARKET: true,
  NOT_SAME_OWNER: true,
  SELF_TRADE: true,
  ASSET_NOT_COLLATERAL: true,
  NOT_BORROWABLE: true,
  CAP_EXCEEDED: true,
  PRICE_UNAVAILABLE: true,
  PRICE_UNHEALTHY: true,
  TIME_WENT_BACKWARDS: true,
  SELF_LIQUIDATION: true,
  NOT_LIQUIDATABLE: true,
  LIQUIDATION_CAPPED: true,
  LIQUIDATION_INEFFECTIVE: true,
  AUCTION_IN_PROGRESS: true,
  UNKNOWN_AUCTION: true,
  AUCTION_STALE: true,
  AUCTION_NOT_STALE: true,
  AUCTION_PRICE_ABOVE_LIMIT: true,
  ZERO_BID: true,
  LIQUIDATOR_INSUFFICIENT_MARGIN: true,
  INSUFFICIENT_MARGIN: true,
};

export const REJECTION_CODES = Object.keys(CHECK_ORDER) as readonly RejectionCode[];
