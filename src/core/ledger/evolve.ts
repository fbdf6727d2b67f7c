/**
 * evolve(state, event): applies one event to the ledger's state, in place (see state.ts for
 * why). Every balance change goes through `credit` in pairs whose sum is zero, and every
 * position change through `setPosition`, so `assetNet` and `marketNet` stay at zero unless
 * the ledger itself is wrong. Inconsistencies between an event and the state are bugs and
 * throw: decide never emits an event that evolve cannot apply.
 */
import { applyFill, type Account } from '../account.ts';
import { parseRiskConfig } from '../config.ts';
import { divDown, max, WAD } from '../fixed.ts';
import type { Auction } from '../liquidation/auction.ts';
import { movementsOf } from '../liquidation/steps.ts';
import type { LedgerEvent, LiquidationCompleted, LiquidationStepEventType, TradeFilled } from './events.ts';
import {
  assetStateOf,
  emptyRecord,
  initialAssetState,
  initialMarketState,
  isSystemAccount,
  openLiquidationWindow,
  liquidationParties,
  marketStateOf,
  SYSTEM,
  type AccountRecord,
  type LedgerState,
  type StoredPosition,
} from './state.ts';

export function evolve(state: LedgerState, event: LedgerEvent): void {
  switch (event.type) {
    case 'ConfigUpdated': {
      const parsed = parseRiskConfig(event.config);
      if (!parsed.ok) throw new Error('evolve: ConfigUpdated carries an invalid configuration');
      state.config = parsed.value;
      state.configJson = event.config;
      state.indexes.pricesChanged();
      for (const asset of parsed.value.assets.keys()) if (!state.assets.has(asset)) state.assets.set(asset, initialAssetState());
      for (const market of parsed.value.markets.keys()) if (!state.markets.has(market)) state.markets.set(market, initialMarketState());
      return;
    }
    case 'PriceUpdated':
      state.prices.set(event.asset, {
        priceWad: event.priceWad,
        confidenceWad: event.confidenceWad,
        ...(event.stablePriceWad !== undefined && { stablePriceWad: event.stablePriceWad }),
        ...(event.markPriceWad !== undefined && { markPriceWad: event.markPriceWad }),
      });
      if (event.healthy) state.unhealthyPrices.delete(event.asset);
      else state.unhealthyPrices.set(event.asset, event.reasons);
      state.indexes.pricesChanged();
      return;
    case 'AccountOpened':
      if (state.accounts.has(event.account)) throw new Error(`evolve: account ${event.account} exists`);
      replaceRecord(state, undefined, emptyRecord(event.account, event.owner));
      return;
    case 'AccountSettled':
      for (const item of event.interest) {
        credit(state, event.account, item.asset, item.amount, item.indexWad);
        credit(state, SYSTEM.interest, item.asset, -item.amount);
      }
      for (const item of event.reserve) {
        credit(state, SYSTEM.interest, item.asset, -item.amount);
        credit(state, SYSTEM.fees, item.asset, item.amount);
      }
      for (const item of event.funding) {
        credit(state, event.account, state.config.quote, item.amount);
        credit(state, SYSTEM.settlement, state.config.quote, -item.amount);
        const record = recordOf(state, event.account);
        const position = record.perps.get(item.market);
        if (position === undefined) throw new Error(`evolve: no position in ${item.market} to settle`);
        setPosition(state, event.account, { ...position, fundingIndexWad: item.indexWad });
      }
      return;
    case 'CollateralDeposited':
      credit(state, event.account, event.asset, event.amount);
      credit(state, SYSTEM.custody, event.asset, -event.amount);
      return;
    case 'CollateralWithdrawn':
      credit(state, event.account, event.asset, -event.amount);
      credit(state, SYSTEM.custody, event.asset, event.amount);
      return;
    case 'Transferred':
      credit(state, event.from, event.asset, -event.amount);
      credit(state, event.to, event.asset, event.amount);
      return;
    case 'TradeFilled':
      applyTradeSide(state, event, 'buyer');
      applyTradeSide(state, event, 'seller');
      return;
    case 'InterestAccrued':
      state.assets.set(event.asset, {
        ...assetStateOf(state, event.asset),
        borrowIndexWad: event.borrowIndexWad,
        supplyIndexWad: event.supplyIndexWad,
        accruedAtMs: event.nowMs,
      });
      return;
    case 'FundingUpdated':
      state.markets.set(event.market, { ...marketStateOf(state, event.market), fundingIndexWad: event.fundingIndexWad });
      return;
    case 'PositionLiquidated':
    case 'CollateralSeized':
    case 'InsuranceCovered':
    case 'PositionDeleveraged':
    case 'BadDebtSocialized':
    case 'AuctionStarted':
      applyLiquidationStep(state, event);
      return;
    case 'AuctionTaken': {
      const auction = auctionOf(state, event.auctionId);
      credit(state, event.taker, event.debtAsset, -event.cost);
      credit(state, event.account, event.debtAsset, event.repaid);
      credit(state, SYSTEM.insurance, event.debtAsset, event.toInsurance);
      credit(state, SYSTEM.auction, event.collateralAsset, -event.amount);
      credit(state, event.taker, event.collateralAsset, event.amount);
      state.auctions.set(auction.id, { ...auction, lot: auction.lot - event.amount, tab: auction.tab - event.cost });
      return;
    }
    case 'AuctionReset':
      state.auctions.set(event.auctionId, {
        ...auctionOf(state, event.auctionId),
        startPriceWad: event.startPriceWad,
        startMs: event.startMs,
      });
      return;
    case 'AuctionEnded':
      credit(state, SYSTEM.auction, event.collateralAsset, -event.returned);
      credit(state, event.account, event.collateralAsset, event.returned);
      state.auctions.delete(event.auctionId);
      return;
    case 'LiquidationCompleted':
      recordLiquidationWindows(state, event);
      return;
  }
}

function applyTradeSide(state: LedgerState, event: TradeFilled, side: 'buyer' | 'seller'): void {
  const outcome = fillRecord(
    state,
    side === 'buyer' ? event.buyer : event.seller,
    event.market,
    side === 'buyer' ? event.size : -event.size,
    event.priceWad,
    side === 'buyer' ? event.buyerFeeRateWad : event.sellerFeeRateWad,
  );
  const expectedFee = side === 'buyer' ? event.buyerFee : event.sellerFee;
  const expectedPnl = side === 'buyer' ? event.buyerRealizedPnl : event.sellerRealizedPnl;
  if (outcome.fee !== expectedFee || outcome.realizedPnl !== expectedPnl) {
    throw new Error(`evolve: TradeFilled ${side} fee or PnL disagrees with the fill`);
  }
}

/**
 * Applies a fill to a stored account through the same `applyFill` the deciders use: the
 * position changes, realised PnL comes from the settlement account, the fee goes to the fee
 * pool. The position must be settled for funding (decide settles it first).
 */
function fillRecord(
  state: LedgerState,
  accountId: string,
  marketId: string,
  size: bigint,
  priceWad: bigint,
  feeRateWad: bigint,
): { fee: bigint; realizedPnl: bigint } {
  const market = state.config.markets.get(marketId);
  const base = market && state.config.assets.get(market.base);
  const quote = state.config.assets.get(state.config.quote);
  if (market === undefined || base === undefined || quote === undefined) throw new Error('evolve: fill on unknown market');
  const record = recordOf(state, accountId);
  const positionOnly: Account = { id: accountId, balances: new Map(), perps: record.perps };
  const outcome = applyFill(positionOnly, market, base, quote, { size, priceWad, feeRateWad });
  const after = outcome.account.perps.get(market.id);
  const fundingIndexWad = marketStateOf(state, market.id).fundingIndexWad;
  setPosition(
    state,
    accountId,
    after === undefined
      ? { market: market.id, size: 0n, entryPriceWad: 0n, fundingIndexWad }
      : { ...after, fundingIndexWad },
  );
  credit(state, accountId, quote.id, outcome.realizedPnl - outcome.fee);
  credit(state, SYSTEM.settlement, quote.id, -outcome.realizedPnl);
  credit(state, SYSTEM.fees, quote.id, outcome.fee);
  return outcome;
}

/** A liquidation step: the movements `movementsOf` describes, applied to stored balances. */
function applyLiquidationStep(state: LedgerState, event: LiquidationStepEventType): void {
  const movements = movementsOf(event.step, liquidationParties(event.account, event.liquidator), state.config);
  for (const fill of movements.fills) fillRecord(state, fill.account, fill.market, fill.size, fill.priceWad, 0n);
  for (const transfer of movements.transfers) {
    credit(state, transfer.from, transfer.asset, -transfer.amount);
    credit(state, transfer.to, transfer.asset, transfer.amount);
  }
  if (event.type === 'BadDebtSocialized') cutSupplyIndex(state, event.step.asset, event.step.amount);
  if (event.type === 'AuctionStarted') {
    state.auctions.set(event.auctionId, {
      id: event.auctionId,
      account: event.account,
      collateralAsset: event.step.collateralAsset,
      debtAsset: event.step.debtAsset,
      lot: event.step.lot,
      tab: event.step.tab,
      penaltyWad: event.step.penaltyWad,
      startPriceWad: event.step.startPriceWad,
      startMs: event.startMs,
    });
    state.nextAuctionId += 1;
  }
}

/**
 * Writes `amount` off against the asset's lenders: the supply index falls by amount / deposits,
 * deposits taken as every lender's current balance at this moment (pending interest included,
 * the liquidation's own movements included), from the ledger's running sum of lenders
 * (indexes.ts), which is never above what they hold. Rounded against the lenders, so the pool
 * that advanced the write-off is made whole when they settle. Never below one wei.
 */
function cutSupplyIndex(state: LedgerState, asset: string, amount: bigint): void {
  const assetState = assetStateOf(state, asset);
  const lenders = state.indexes.lendersOf(asset);
  const deposits = divDown(lenders.scaledWad * assetState.supplyIndexWad, WAD * WAD);
  if (deposits <= 0n) return;
  // One base unit more per lender: each balance rounds down on its own, and the lenders
  // together must give up at least the whole write-off.
  const remaining = deposits > amount + lenders.count ? deposits - amount - lenders.count : 0n;
  state.assets.set(asset, { ...assetState, supplyIndexWad: max(divDown(assetState.supplyIndexWad * remaining, deposits), 1n) });
}

function auctionOf(state: LedgerState, id: string): Auction {
  const auction = state.auctions.get(id);
  if (auction === undefined) throw new Error(`evolve: unknown auction ${id}`);
  return auction;
}

function recordLiquidationWindows(state: LedgerState, event: LiquidationCompleted): void {
  for (const { key, usd } of event.notional) {
    const window = openLiquidationWindow(state, key, event.nowMs);
    state.liquidationWindows.set(key, window ? { ...window, usedUsd: window.usedUsd + usd } : { startMs: event.nowMs, usedUsd: usd });
  }
}

function recordOf(state: LedgerState, id: string): AccountRecord {
  const record = state.accounts.get(id);
  if (record === undefined) throw new Error(`evolve: unknown account ${id}`);
  return record;
}

/**
 * Adds `delta` to a settled balance. A user balance must already be settled to the current
 * index (decide emits AccountSettled first), unless `indexWad` says which index the new
 * amount stands at. System accounts neither earn nor pay interest.
 */
function credit(state: LedgerState, accountId: string, asset: string, delta: bigint, indexWad?: bigint): void {
  if (delta === 0n && indexWad === undefined) return;
  const record = recordOf(state, accountId);
  const stored = record.balances.get(asset);
  const before = stored?.amount ?? 0n;
  const after = before + delta;
  const balances = new Map(record.balances);
  if (after === 0n) {
    balances.delete(asset);
  } else if (isSystemAccount(accountId)) {
    balances.set(asset, { amount: after, indexWad: 0n });
  } else {
    const assetState = assetStateOf(state, asset);
    const currentIndex = after > 0n ? assetState.supplyIndexWad : assetState.borrowIndexWad;
    const keepsSide = stored !== undefined && (before > 0n) === (after > 0n);
    if (keepsSide && indexWad === undefined && stored.indexWad !== currentIndex) {
      throw new Error(`evolve: ${accountId} ${asset} changed before settlement`);
    }
    balances.set(asset, { amount: after, indexWad: indexWad ?? currentIndex });
  }
  replaceRecord(state, record, { ...record, balances });
  state.assetNet.set(asset, (state.assetNet.get(asset) ?? 0n) + delta);
  if (!isSystemAccount(accountId)) {
    const assetState = assetStateOf(state, asset);
    state.assets.set(asset, {
      ...assetState,
      totalDeposits: assetState.totalDeposits + max(after, 0n) - max(before, 0n),
      totalBorrows: assetState.totalBorrows + max(-after, 0n) - max(-before, 0n),
    });
  }
}

/** Every record change goes through here, so the derived indexes see it. */
function replaceRecord(state: LedgerState, before: AccountRecord | undefined, after: AccountRecord): void {
  state.accounts.set(after.id, after);
  if (!isSystemAccount(after.id)) state.indexes.recordReplaced(before, after);
}

function setPosition(state: LedgerState, accountId: string, position: StoredPosition): void {
  const record = recordOf(state, accountId);
  const before = record.perps.get(position.market)?.size ?? 0n;
  const perps = new Map(record.perps);
  if (position.size === 0n) perps.delete(position.market);
  else perps.set(position.market, position);
  replaceRecord(state, record, { ...record, perps });
  state.marketNet.set(position.market, (state.marketNet.get(position.market) ?? 0n) + position.size - before);
  const market = marketStateOf(state, position.market);
  state.markets.set(position.market, {
    ...market,
    openInterest: market.openInterest + max(position.size, 0n) - max(before, 0n),
  });
}
