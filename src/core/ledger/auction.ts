/**
 * decide for `bid` and `resetAuction`: the guards of a Dutch auction sale (liquidation/auction.ts).
 */
import { adjustBalance } from '../account.ts';
import { auctionPrice, staleness, startPrice, take } from '../liquidation/auction.ts';
import { err, ok } from '../result.ts';
import type { BidCommand, ResetAuctionCommand } from './commands.ts';
import { checkMargin, checkTime, invalid, pushSettlement, userAccount, type Decision } from './decide.ts';
import type { LedgerEvent } from './events.ts';
import { accountView, type LedgerState } from './state.ts';

export function decideBid(state: LedgerState, command: BidCommand): Decision {
  const time = checkTime(command.nowMs);
  if (time !== null) return time;
  if (command.amount < 0n) return invalid('amount', 'must not be negative');
  if (command.maxPriceWad <= 0n) return invalid('maxPrice', 'must be greater than zero');
  if (command.amount === 0n) return err({ code: 'ZERO_BID', auctionId: command.auctionId });
  const auction = state.auctions.get(command.auctionId);
  if (auction === undefined) return err({ code: 'UNKNOWN_AUCTION', auctionId: command.auctionId });
  const taker = userAccount(state, command.taker);
  if (!taker.ok) return taker;
  const owner = state.accounts.get(auction.account)?.owner;
  if (command.taker === auction.account || taker.value.owner === owner) {
    return err({ code: 'SELF_LIQUIDATION', account: auction.account, liquidator: command.taker });
  }
  const config = state.config.assets.get(auction.collateralAsset)?.auction;
  const collateralPrice = state.prices.get(auction.collateralAsset);
  const debtPrice = state.prices.get(auction.debtAsset);
  if (collateralPrice === undefined) return err({ code: 'PRICE_UNAVAILABLE', asset: auction.collateralAsset });
  if (debtPrice === undefined) return err({ code: 'PRICE_UNAVAILABLE', asset: auction.debtAsset });
  if (config === undefined) return err({ code: 'UNKNOWN_AUCTION', auctionId: command.auctionId });
  const stale = staleness(config, auction, command.nowMs, collateralPrice.priceWad);
  if (stale !== null) return err({ code: 'AUCTION_STALE', auctionId: auction.id, reason: stale });
  const priceWad = auctionPrice(config, auction, command.nowMs);
  if (priceWad > command.maxPriceWad) return err({ code: 'AUCTION_PRICE_ABOVE_LIMIT', auctionId: auction.id, priceWad });
  const sale = take(auction, command.amount, {
    auctionPriceWad: priceWad,
    debtPriceWad: debtPrice.priceWad,
    collateralUnit: state.config.assets.get(auction.collateralAsset)?.unit ?? 1n,
    debtUnit: state.config.assets.get(auction.debtAsset)?.unit ?? 1n,
  });
  if (sale === null) return err({ code: 'ZERO_BID', auctionId: auction.id });
  const before = accountView(state, taker.value);
  const after = adjustBalance(adjustBalance(before, auction.debtAsset, -sale.cost), auction.collateralAsset, sale.amount);
  const margin = checkMargin(state, before, after, 'increasing');
  if (margin !== null) return err(margin);

  const events: LedgerEvent[] = [];
  pushSettlement(events, state, taker.value);
  const account = state.accounts.get(auction.account);
  if (account !== undefined) pushSettlement(events, state, account);
  events.push({
    type: 'AuctionTaken',
    auctionId: auction.id,
    account: auction.account,
    taker: command.taker,
    collateralAsset: auction.collateralAsset,
    debtAsset: auction.debtAsset,
    amount: sale.amount,
    priceWad,
    cost: sale.cost,
    repaid: sale.repaid,
    toInsurance: sale.toInsurance,
  });
  const lotLeft = auction.lot - sale.amount;
  if (lotLeft === 0n || auction.tab - sale.cost === 0n) {
    events.push({
      type: 'AuctionEnded',
      auctionId: auction.id,
      account: auction.account,
      collateralAsset: auction.collateralAsset,
      returned: lotLeft,
    });
  }
  return ok(events);
}

export function decideResetAuction(state: LedgerState, command: ResetAuctionCommand): Decision {
  const time = checkTime(command.nowMs);
  if (time !== null) return time;
  const auction = state.auctions.get(command.auctionId);
  if (auction === undefined) return err({ code: 'UNKNOWN_AUCTION', auctionId: command.auctionId });
  const config = state.config.assets.get(auction.collateralAsset)?.auction;
  const price = state.prices.get(auction.collateralAsset);
  if (price === undefined) return err({ code: 'PRICE_UNAVAILABLE', asset: auction.collateralAsset });
  if (config === undefined) return err({ code: 'UNKNOWN_AUCTION', auctionId: command.auctionId });
  const reason = staleness(config, auction, command.nowMs, price.priceWad);
  if (reason === null) return err({ code: 'AUCTION_NOT_STALE', auctionId: auction.id });
  return ok([
    {
      type: 'AuctionReset',
      auctionId: auction.id,
      reason,
      startPriceWad: startPrice(config, price.priceWad),
      startMs: command.nowMs,
    },
  ]);
}
