/**
 * Deleveraging rank: which positions give way first when a bankrupt account's deficit is
 * beyond the insurance fund. Ranked by profit and leverage, as the venues that do it well
 * do: score = (unrealised PnL / entry notional) × (notional / equity). The most profitable,
 * most leveraged position goes first; a position at a loss, or held by an account with no
 * equity, ranks after every profitable one. Ties go by account id, so the order is total.
 */
import type { Account } from '../account.ts';
import type { RiskConfig } from '../config.ts';
import { abs, divDown, divUp, WAD } from '../fixed.ts';
import type { PriceBook } from '../prices.ts';
import { equityAtMid } from './plan.ts';

export interface RankedPosition {
  readonly account: string;
  readonly size: bigint;
  readonly unrealizedPnlUsd: bigint;
  /** pnl / entry notional × notional / equity, wad; null when the account has no equity. */
  readonly scoreWad: bigint | null;
  /** 1 = deleveraged first. */
  readonly rank: number;
}

/** Positions on one side of a market (longs when `side` > 0), best-ranked first. */
export function deleveragingRanking(
  accounts: Iterable<Account>,
  marketId: string,
  side: 1n | -1n,
  prices: PriceBook,
  config: RiskConfig,
): readonly RankedPosition[] {
  const market = config.markets.get(marketId);
  const base = market && config.assets.get(market.base);
  const price = market && prices.get(market.base);
  if (base === undefined || price === undefined) return [];
  const entries: Omit<RankedPosition, 'rank'>[] = [];
  for (const account of accounts) {
    const position = account.perps.get(marketId);
    if (position === undefined || position.size === 0n || (position.size > 0n) !== (side > 0n)) continue;
    const unrealizedPnlUsd = divDown(position.size * (price.priceWad - position.entryPriceWad), base.unit);
    const notionalUsd = divUp(abs(position.size) * price.priceWad, base.unit);
    const entryNotionalUsd = divUp(abs(position.size) * position.entryPriceWad, base.unit);
    const equityUsd = equityAtMid(account, prices, config);
    const scoreWad =
      equityUsd <= 0n || entryNotionalUsd === 0n
        ? null
        : divDown(unrealizedPnlUsd * notionalUsd * WAD, entryNotionalUsd * equityUsd);
    entries.push({ account: account.id, size: position.size, unrealizedPnlUsd, scoreWad });
  }
  entries.sort(compareRank);
  return entries.map((entry, index) => ({ ...entry, rank: index + 1 }));
}

function compareRank(a: Omit<RankedPosition, 'rank'>, b: Omit<RankedPosition, 'rank'>): number {
  const aProfitable = a.scoreWad !== null && a.unrealizedPnlUsd > 0n;
  const bProfitable = b.scoreWad !== null && b.unrealizedPnlUsd > 0n;
  if (aProfitable !== bProfitable) return aProfitable ? -1 : 1;
  if (a.scoreWad !== null && b.scoreWad !== null && a.scoreWad !== b.scoreWad) return a.scoreWad > b.scoreWad ? -1 : 1;
  if ((a.scoreWad === null) !== (b.scoreWad === null)) return a.scoreWad === null ? 1 : -1;
  return a.account < b.account ? -1 : a.account > b.account ? 1 : 0;
}
