/**
 * Deleveraging rank: which positions give way first when a bankrupt account's deficit is
 * beyond the insurance fund. Ranked by profit and leverage, as the venues that do it well
 * do: score = (unrealised PnL / entry notional) × (notional / equity). The most profitable,
 * most leveraged position goes first; a position at a loss, or held by an account with no
 * equity, ranks after every profitable one. Ties go by account id, so the order is total.
 * The ledger keeps each side of each market ranked (ledger/indexes.ts).
 */
import type { Account } from '../account.ts';
import type { RiskConfig } from '../config.ts';
import { abs, divDown, divUp, WAD } from '../fixed.ts';
import type { PriceBook } from '../prices.ts';
import { equityAtMid } from './plan.ts';

export interface RankEntry {
  readonly account: string;
  readonly size: bigint;
  readonly unrealizedPnlUsd: bigint;
  /** pnl / entry notional × notional / equity, wad; null when the account has no equity. */
  readonly scoreWad: bigint | null;
}

/** The account's position on `side` of the market (longs when `side` > 0) as ranked; null when it holds none there. */
export function rankEntry(
  account: Account,
  marketId: string,
  side: 1n | -1n,
  prices: PriceBook,
  config: RiskConfig,
): RankEntry | null {
  const market = config.markets.get(marketId);
  const base = market && config.assets.get(market.base);
  const price = market && prices.get(market.base);
  const position = account.perps.get(marketId);
  if (base === undefined || price === undefined || position === undefined) return null;
  if (position.size === 0n || (position.size > 0n) !== (side > 0n)) return null;
  const unrealizedPnlUsd = divDown(position.size * (price.priceWad - position.entryPriceWad), base.unit);
  const notionalUsd = divUp(abs(position.size) * price.priceWad, base.unit);
  const entryNotionalUsd = divUp(abs(position.size) * position.entryPriceWad, base.unit);
  const equityUsd = equityAtMid(account, prices, config);
  const scoreWad =
    equityUsd <= 0n || entryNotionalUsd === 0n ? null : divDown(unrealizedPnlUsd * notionalUsd * WAD, entryNotionalUsd * equityUsd);
  return { account: account.id, size: position.size, unrealizedPnlUsd, scoreWad };
}

/** Negative when `a` is deleveraged before `b`. */
export function compareRank(a: RankEntry, b: RankEntry): number {
  const aProfitable = a.scoreWad !== null && a.unrealizedPnlUsd > 0n;
  const bProfitable = b.scoreWad !== null && b.unrealizedPnlUsd > 0n;
  if (aProfitable !== bProfitable) return aProfitable ? -1 : 1;
  if (a.scoreWad !== null && b.scoreWad !== null && a.scoreWad !== b.scoreWad) return a.scoreWad > b.scoreWad ? -1 : 1;
  if ((a.scoreWad === null) !== (b.scoreWad === null)) return a.scoreWad === null ? 1 : -1;
  return a.account < b.account ? -1 : a.account > b.account ? 1 : 0;
}
