/**
 * Account state as the risk model sees it: balances per asset (negative = borrowed) and
 * perpetual positions, and the pure transitions that change them. The ledger applies
 * these same transitions when it executes a command, and previews apply them to a copy,
 * so a preview and the real outcome cannot disagree.
 */
import type { AssetConfig, MarketConfig } from './config.ts';
import { abs, divDown, divUp, mulDivUp, WAD } from './fixed.ts';

export interface PerpPosition {
  readonly market: string;
  /** Base units of the market's base asset; positive long, negative short, never zero. */
  readonly size: bigint;
  /** Average entry price in quote per whole base unit (wad). */
  readonly entryPriceWad: bigint;
}

export interface Account {
  readonly id: string;
  /** Base units per asset; negative = borrowed. Zero balances are not stored. */
  readonly balances: ReadonlyMap<string, bigint>;
  /** Open positions by market id. */
  readonly perps: ReadonlyMap<string, PerpPosition>;
}

export function emptyAccount(id: string): Account {
  return { id, balances: new Map(), perps: new Map() };
}

export function balanceOf(account: Account, asset: string): bigint {
  return account.balances.get(asset) ?? 0n;
}

/** The account with `delta` base units added to its balance of `asset` (negative delta: removed). */
export function adjustBalance(account: Account, asset: string, delta: bigint): Account {
  if (delta === 0n) return account;
  const balances = new Map(account.balances);
  const next = (balances.get(asset) ?? 0n) + delta;
  if (next === 0n) balances.delete(asset);
  else balances.set(asset, next);
  return { ...account, balances };
}

export interface Fill {
  /** Signed base units: positive buys, negative sells. */
  readonly size: bigint;
  readonly priceWad: bigint;
  /** Fee as a fraction of the fill's notional, charged in the quote asset; zero for none. */
  readonly feeRateWad: bigint;
}

export interface FillOutcome {
  readonly account: Account;
  /** PnL realised by the part of the fill that reduced the position, in quote base units. */
  readonly realizedPnl: bigint;
  /** Fee charged, in quote base units (rounded up). */
  readonly fee: bigint;
}

/**
 * Applies a trade fill to one side. The part that reduces the position realises its PnL
 * into the quote balance (rounded down: a gain is floored, a loss is rounded up in size);
 * the part that grows it moves the average entry price, rounded against the account
 * (up for longs, down for shorts). The fee is taken from the quote balance, rounded up.
 *
 * Perp prices are in the quote asset, and one unit of quote is one unit of PnL.
 */
export function applyFill(
  account: Account,
  market: MarketConfig,
  base: AssetConfig,
  quote: AssetConfig,
  fill: Fill,
): FillOutcome {
  if (fill.size === 0n) return { account, realizedPnl: 0n, fee: 0n };
  const position = account.perps.get(market.id);
  const size = position?.size ?? 0n;
  const entry = position?.entryPriceWad ?? 0n;
  const sameSide = size === 0n || (size > 0n) === (fill.size > 0n);

  const nextSize = size + fill.size;
  let nextEntry = entry;
  let realizedPnl = 0n;
  if (sameSide) {
    nextEntry = averageEntryPrice(size, entry, fill.size, fill.priceWad);
  } else {
    const closed = abs(fill.size) < abs(size) ? -fill.size : size;
    realizedPnl = divDown(closed * (fill.priceWad - entry) * quote.unit, base.unit * WAD);
    if (nextSize !== 0n && (nextSize > 0n) !== (size > 0n)) nextEntry = fill.priceWad;
  }
  const fee = mulDivUp(abs(fill.size) * fill.priceWad, fill.feeRateWad * quote.unit, base.unit * WAD * WAD);

  const perps = new Map(account.perps);
  if (nextSize === 0n) perps.delete(market.id);
  else perps.set(market.id, { market: market.id, size: nextSize, entryPriceWad: nextEntry });
  const withPosition: Account = { ...account, perps };
  return { account: adjustBalance(withPosition, quote.id, realizedPnl - fee), realizedPnl, fee };
}

/** Size-weighted average of two entries, rounded against the holder: up for longs, down for shorts. */
function averageEntryPrice(size: bigint, entryWad: bigint, added: bigint, priceWad: bigint): bigint {
  const total = abs(size) + abs(added);
  const cost = abs(size) * entryWad + abs(added) * priceWad;
  const long = size + added > 0n;
  return long ? divUp(cost, total) : divDown(cost, total);
}
