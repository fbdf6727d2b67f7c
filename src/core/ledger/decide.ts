/**
 * decide(state, command): the events a command produces, or why it is refused. Never
 * changes the state. Each rule is a flat run of guards in the order listed in docs/SPEC.md;
 * after the last guard the command is accepted and its events are built.
 *
 * Margin: a risk-increasing change needs initial health ≥ 0 after it; a risk-reducing one is
 * always accepted. The health after is computed by applying to the account view the same
 * transitions (account.ts) that evolve applies to the stored state.
 */
import { adjustBalance, applyFill, balanceOf, type Account } from '../account.ts';
import { parseRiskConfig } from '../config.ts';
import { abs, max, min, mulDivDown, WAD } from '../fixed.ts';
import { evaluateAccount, type AccountHealth } from '../health.ts';
import { err, ok, type Result } from '../result.ts';
import type {
  AccrueInterestCommand,
  Command,
  ConfigCommand,
  DepositCommand,
  FundingCommand,
  PriceCommand,
  TradeCommand,
  TransferCommand,
  WithdrawCommand,
} from './commands.ts';
import type { AccountSettled, LedgerEvent } from './events.ts';
import { exposedAssets } from '../liquidation-price.ts';
import { sortedEntries } from '../order.ts';
import { accrue } from './interest.ts';
import { decideBid, decideResetAuction } from './auction.ts';
import { decideLiquidate } from './liquidate.ts';
import type { Rejection } from './rejections.ts';
import {
  accountView,
  assetStateOf,
  currentAmount,
  isSystemAccount,
  marketStateOf,
  pendingFunding,
  SYSTEM,
  type AccountRecord,
  type LedgerState,
} from './state.ts';

export type Decision = Result<readonly LedgerEvent[], Rejection>;

export function decide(state: LedgerState, command: Command): Decision {
  switch (command.kind) {
    case 'deposit':
      return decideDeposit(state, command);
    case 'withdraw':
      return decideWithdraw(state, command);
    case 'transfer':
      return decideTransfer(state, command);
    case 'trade':
      return decideTrade(state, command);
    case 'price':
      return decidePrice(state, command);
    case 'accrueInterest':
      return decideAccrueInterest(state, command);
    case 'funding':
      return decideFunding(state, command);
    case 'config':
      return decideConfig(state, command);
    case 'liquidate':
      return decideLiquidate(state, command);
    case 'bid':
      return decideBid(state, command);
    case 'resetAuction':
      return decideResetAuction(state, command);
  }
}

/** System accounts that take deposits: capital for the insurance fund and the backstop liquidator. */
const FUNDABLE_SYSTEM_ACCOUNTS: ReadonlySet<string> = new Set([SYSTEM.insurance, SYSTEM.backstop]);

function decideDeposit(state: LedgerState, command: DepositCommand): Decision {
  if (command.amount <= 0n) return invalid('amount', 'must be greater than zero');
  if (isSystemAccount(command.account) && !FUNDABLE_SYSTEM_ACCOUNTS.has(command.account)) {
    return err({ code: 'SYSTEM_ACCOUNT', account: command.account });
  }
  const asset = state.config.assets.get(command.asset);
  if (asset === undefined) return err({ code: 'UNKNOWN_ASSET', asset: command.asset });
  const record = state.accounts.get(command.account);
  const before = record === undefined ? 0n : balanceOf(accountView(state, record), command.asset);
  const after = before + command.amount;
  if (after > 0n && asset.collateral === undefined) return err({ code: 'ASSET_NOT_COLLATERAL', asset: asset.id });
  const capped = checkCaps(state, command.asset, [{ before, after }]);
  if (capped !== null) return err(capped);

  const events: LedgerEvent[] = [];
  if (record === undefined) {
    events.push({ type: 'AccountOpened', account: command.account, owner: command.owner ?? command.account });
  } else {
    pushSettlement(events, state, record);
  }
  events.push({ type: 'CollateralDeposited', account: command.account, asset: command.asset, amount: command.amount });
  return ok(events);
}

function decideWithdraw(state: LedgerState, command: WithdrawCommand): Decision {
  if (command.amount <= 0n) return invalid('amount', 'must be greater than zero');
  if (state.halted !== null) return err({ code: 'LEDGER_HALTED', reason: state.halted });
  const record = userAccount(state, command.account);
  if (!record.ok) return record;
  const moved = checkOutflow(state, record.value, command.asset, command.amount);
  if (!moved.ok) return moved;

  const events: LedgerEvent[] = [];
  pushSettlement(events, state, record.value);
  events.push({
    type: 'CollateralWithdrawn',
    account: command.account,
    asset: command.asset,
    amount: command.amount,
    borrowed: moved.value.borrowed,
  });
  return ok(events);
}

function decideTransfer(state: LedgerState, command: TransferCommand): Decision {
  if (command.amount <= 0n) return invalid('amount', 'must be greater than zero');
  if (command.from === command.to) return invalid('to', 'must differ from "from"');
  if (state.halted !== null) return err({ code: 'LEDGER_HALTED', reason: state.halted });
  const from = userAccount(state, command.from);
  if (!from.ok) return from;
  const to = userAccount(state, command.to);
  if (!to.ok) return to;
  if (from.value.owner !== to.value.owner) return err({ code: 'NOT_SAME_OWNER', from: command.from, to: command.to });
  const asset = state.config.assets.get(command.asset);
  if (asset === undefined) return err({ code: 'UNKNOWN_ASSET', asset: command.asset });
  const toBefore = balanceOf(accountView(state, to.value), command.asset);
  if (toBefore + command.amount > 0n && asset.collateral === undefined) {
    return err({ code: 'ASSET_NOT_COLLATERAL', asset: asset.id });
  }
  const moved = checkOutflow(state, from.value, command.asset, command.amount, [
    { before: toBefore, after: toBefore + command.amount },
  ]);
  if (!moved.ok) return moved;

  const events: LedgerEvent[] = [];
  pushSettlement(events, state, from.value);
  pushSettlement(events, state, to.value);
  events.push({ type: 'Transferred', from: command.from, to: command.to, asset: command.asset, amount: command.amount });
  return ok(events);
}

function decideTrade(state: LedgerState, command: TradeCommand): Decision {
  if (command.size <= 0n) return invalid('size', 'must be greater than zero');
  if (command.priceWad <= 0n) return invalid('price', 'must be greater than zero');
  if (!isFeeRate(command.buyerFeeRateWad)) return invalid('buyerFeeRate', 'must be in [0, 1)');
  if (!isFeeRate(command.sellerFeeRateWad)) return invalid('sellerFeeRate', 'must be in [0, 1)');
  if (command.buyer === command.seller) return err({ code: 'SELF_TRADE', account: command.buyer });
  const market = state.config.markets.get(command.market);
  const base = market && state.config.assets.get(market.base);
  const quote = state.config.assets.get(state.config.quote);
  if (market === undefined || base === undefined || quote === undefined) {
    return err({ code: 'UNKNOWN_MARKET', market: command.market });
  }
  const buyer = userAccount(state, command.buyer);
  if (!buyer.ok) return buyer;
  const seller = userAccount(state, command.seller);
  if (!seller.ok) return seller;

  const sides = [
    { record: buyer.value, size: command.size, feeRateWad: command.buyerFeeRateWad },
    { record: seller.value, size: -command.size, feeRateWad: command.sellerFeeRateWad },
  ].map((side) => {
    const before = accountView(state, side.record);
    const outcome = applyFill(before, market, base, quote, { size: side.size, priceWad: command.priceWad, feeRateWad: side.feeRateWad });
    const position = before.perps.get(market.id)?.size ?? 0n;
    const reducing = position !== 0n && (position > 0n) !== (side.size > 0n) && abs(side.size) <= abs(position);
    return { before, outcome, reducing };
  });
  if (state.halted !== null && sides.some((side) => !side.reducing)) return err({ code: 'LEDGER_HALTED', reason: state.halted });
  // A loss or fee past the quote balance is a borrow of the quote asset: within its cap for a
  // side that takes on risk; a reducing side is never held in a position by the cap.
  const quoteOutflows = sides.flatMap(({ before, outcome, reducing }) => {
    if (reducing) return [];
    const balance = balanceOf(before, quote.id);
    return [{ before: balance, after: min(balanceOf(outcome.account, quote.id), balance) }];
  });
  const capped = checkCaps(state, quote.id, quoteOutflows);
  if (capped !== null) return err(capped);
  const outcomes = [];
  for (const { before, outcome, reducing } of sides) {
    const margin = checkMargin(state, before, outcome.account, reducing ? 'reducing' : 'increasing');
    if (margin !== null) return err(margin);
    outcomes.push(outcome);
  }
  const [buyerOutcome, sellerOutcome] = outcomes as [(typeof outcomes)[0], (typeof outcomes)[0]];

  const events: LedgerEvent[] = [];
  pushSettlement(events, state, buyer.value);
  pushSettlement(events, state, seller.value);
  events.push({
    type: 'TradeFilled',
    market: market.id,
    priceWad: command.priceWad,
    size: command.size,
    buyer: command.buyer,
    seller: command.seller,
    buyerFee: buyerOutcome.fee,
    sellerFee: sellerOutcome.fee,
    buyerFeeRateWad: command.buyerFeeRateWad,
    sellerFeeRateWad: command.sellerFeeRateWad,
    buyerRealizedPnl: buyerOutcome.realizedPnl,
    sellerRealizedPnl: sellerOutcome.realizedPnl,
  });
  return ok(events);
}

function decidePrice(state: LedgerState, command: PriceCommand): Decision {
  if (command.priceWad <= 0n) return invalid('price', 'must be greater than zero');
  if (command.confidenceWad < 0n) return invalid('confidence', 'must not be negative');
  if (!state.config.assets.has(command.asset)) return err({ code: 'UNKNOWN_ASSET', asset: command.asset });
  if (command.stablePriceWad !== undefined && command.stablePriceWad <= 0n) {
    return invalid('stablePrice', 'must be greater than zero');
  }
  if (command.markPriceWad !== undefined && command.markPriceWad <= 0n) return invalid('markPrice', 'must be greater than zero');
  return ok([
    {
      type: 'PriceUpdated',
      asset: command.asset,
      priceWad: command.priceWad,
      confidenceWad: command.confidenceWad,
      ...(command.stablePriceWad !== undefined && { stablePriceWad: command.stablePriceWad }),
      ...(command.markPriceWad !== undefined && { markPriceWad: command.markPriceWad }),
      healthy: command.healthy ?? true,
      reasons: command.healthy === false ? (command.reasons ?? []) : [],
    },
  ]);
}

function decideAccrueInterest(state: LedgerState, command: AccrueInterestCommand): Decision {
  const time = checkTime(command.nowMs);
  if (time !== null) return time;
  const events: LedgerEvent[] = [];
  for (const [id, asset] of state.config.assets) {
    const current = assetStateOf(state, id);
    if (current.accruedAtMs !== null && command.nowMs < current.accruedAtMs) {
      return err({ code: 'TIME_WENT_BACKWARDS', asset: id, nowMs: command.nowMs, lastMs: current.accruedAtMs });
    }
    // The first accrual only starts the clock: there is no earlier time to accrue from. An
    // accrual with no time elapsed still writes its event, so its key is in the log.
    const elapsedMs = current.accruedAtMs === null ? 0 : command.nowMs - current.accruedAtMs;
    events.push({ type: 'InterestAccrued', asset: id, nowMs: command.nowMs, ...accrue(asset.interest, current, elapsedMs) });
  }
  return ok(events);
}

function decideFunding(state: LedgerState, command: FundingCommand): Decision {
  if (abs(command.rateWad) >= WAD) return invalid('rate', 'must be in (−1, 1)');
  const market = state.config.markets.get(command.market);
  if (market === undefined) return err({ code: 'UNKNOWN_MARKET', market: command.market });
  const price = state.prices.get(market.base);
  if (price === undefined) return err({ code: 'PRICE_UNAVAILABLE', asset: market.base });
  // The index is what a long pays per whole base unit; its rounding is neutral because both
  // sides settle against the same index, each rounded against itself at settlement.
  const paidPerUnitWad = mulDivDown(command.rateWad, price.priceWad, WAD);
  return ok([
    {
      type: 'FundingUpdated',
      market: market.id,
      rateWad: command.rateWad,
      markPriceWad: price.priceWad,
      fundingIndexWad: marketStateOf(state, market.id).fundingIndexWad + paidPerUnitWad,
    },
  ]);
}

function decideConfig(state: LedgerState, command: ConfigCommand): Decision {
  const parsed = parseRiskConfig(command.config);
  if (!parsed.ok) {
    const first = parsed.error[0];
    return err({ code: 'INVALID_CONFIG', field: first?.field ?? '', message: first?.message ?? 'invalid' });
  }
  const next = parsed.value;
  if (next.quote !== state.config.quote) {
    return err({ code: 'CONFIG_INCOMPATIBLE', field: 'quote', message: 'the quote asset cannot change' });
  }
  for (const [id, asset] of state.config.assets) {
    const replacement = next.assets.get(id);
    if (replacement === undefined || replacement.decimals !== asset.decimals) {
      return err({ code: 'CONFIG_INCOMPATIBLE', field: `assets[${id}]`, message: 'assets cannot be removed or change decimals' });
    }
  }
  for (const [id, market] of state.config.markets) {
    if (next.markets.get(id)?.base !== market.base) {
      return err({ code: 'CONFIG_INCOMPATIBLE', field: `markets[${id}]`, message: 'markets cannot be removed or change base' });
    }
  }
  return ok([{ type: 'ConfigUpdated', config: command.config }]);
}

// ── Shared guards ────────────────────────────────────────────────────────────────────────

export function invalid(field: string, message: string): Decision {
  return err({ code: 'INVALID_COMMAND', field, message });
}

/** Time enters only through commands: a non-negative integer of ms since the epoch. */
export function checkTime(nowMs: number): Decision | null {
  return Number.isSafeInteger(nowMs) && nowMs >= 0 ? null : invalid('nowMs', 'must be a non-negative integer (ms since the epoch)');
}

function isFeeRate(rateWad: bigint): boolean {
  return rateWad >= 0n && rateWad < WAD;
}

export function userAccount(state: LedgerState, id: string): Result<AccountRecord, Rejection> {
  if (isSystemAccount(id)) return err({ code: 'SYSTEM_ACCOUNT', account: id });
  const record = state.accounts.get(id);
  return record === undefined ? err({ code: 'UNKNOWN_ACCOUNT', account: id }) : ok(record);
}

/**
 * Guards for an amount leaving an account (withdrawal, transfer): a known asset; past the
 * balance, a borrowable one within its cap; initial margin after. `others` are the balance
 * changes of other accounts in the same command, for the caps.
 */
function checkOutflow(
  state: LedgerState,
  record: AccountRecord,
  assetId: string,
  amount: bigint,
  others: readonly BalanceChange[] = [],
): Result<{ readonly borrowed: bigint }, Rejection> {
  const asset = state.config.assets.get(assetId);
  if (asset === undefined) return err({ code: 'UNKNOWN_ASSET', asset: assetId });
  const before = accountView(state, record);
  const balance = balanceOf(before, assetId);
  const borrowed = amount - max(balance, 0n) > 0n ? amount - max(balance, 0n) : 0n;
  if (borrowed > 0n && asset.liability === undefined) {
    return err({ code: 'NOT_BORROWABLE', asset: assetId, balance, amount });
  }
  const capped = checkCaps(state, assetId, [{ before: balance, after: balance - amount }, ...others]);
  if (capped !== null) return err(capped);
  const margin = checkMargin(state, before, adjustBalance(before, assetId, -amount), 'increasing');
  return margin === null ? ok({ borrowed }) : err(margin);
}

interface BalanceChange {
  readonly before: bigint;
  readonly after: bigint;
}

/** Deposit and borrow caps on the totals after the changes, checked only where a total grows. */
function checkCaps(state: LedgerState, assetId: string, changes: readonly BalanceChange[]): Rejection | null {
  const asset = state.config.assets.get(assetId);
  if (asset === undefined) return { code: 'UNKNOWN_ASSET', asset: assetId };
  let depositDelta = 0n;
  let borrowDelta = 0n;
  for (const change of changes) {
    depositDelta += max(change.after, 0n) - max(change.before, 0n);
    borrowDelta += max(-change.after, 0n) - max(-change.before, 0n);
  }
  const totals = assetStateOf(state, assetId);
  if (asset.depositCap !== undefined && depositDelta > 0n && totals.totalDeposits + depositDelta > asset.depositCap) {
    return { code: 'CAP_EXCEEDED', asset: assetId, cap: 'deposit', limit: asset.depositCap, total: totals.totalDeposits + depositDelta };
  }
  if (asset.borrowCap !== undefined && borrowDelta > 0n && totals.totalBorrows + borrowDelta > asset.borrowCap) {
    return { code: 'CAP_EXCEEDED', asset: assetId, cap: 'borrow', limit: asset.borrowCap, total: totals.totalBorrows + borrowDelta };
  }
  return null;
}

/**
 * The margin rule. Increasing: initial health ≥ 0 after. Reducing: accepted when initial
 * health ≥ 0 after, or when maintenance health does not fall (so a reduction at a ruinous
 * price cannot drain an account under cover of "reducing").
 */
export function checkMargin(
  state: LedgerState,
  before: Account,
  after: Account,
  kind: 'increasing' | 'reducing',
): Rejection | null {
  if (kind === 'increasing') {
    const unhealthy = unhealthyExposure(state, after);
    if (unhealthy !== null) return unhealthy;
  }
  const healthAfter = evaluate(state, after);
  if (!healthAfter.ok) return healthAfter.error;
  if (healthAfter.value.initial.healthUsd >= 0n) return null;
  const healthBefore = evaluate(state, before);
  if (!healthBefore.ok) return healthBefore.error;
  if (kind === 'reducing' && healthAfter.value.maintenance.healthUsd >= healthBefore.value.maintenance.healthUsd) {
    return null;
  }
  return {
    code: 'INSUFFICIENT_MARGIN',
    account: before.id,
    healthBefore: healthBefore.value.initial,
    healthAfter: healthAfter.value.initial,
  };
}

/** The first asset the account is exposed to whose price fails the oracle's guards, as a rejection. */
export function unhealthyExposure(state: LedgerState, account: Account): Rejection | null {
  if (state.unhealthyPrices.size === 0) return null;
  for (const asset of exposedAssets(account, state.config)) {
    const reasons = state.unhealthyPrices.get(asset);
    if (reasons !== undefined) return { code: 'PRICE_UNHEALTHY', asset, reasons };
  }
  return null;
}

export function evaluate(state: LedgerState, account: Account): Result<AccountHealth, Rejection> {
  const health = evaluateAccount(account, state.prices, state.config);
  if (health.ok) return health;
  const problem = health.error;
  if (problem.code === 'UNKNOWN_MARKET') return err({ code: 'UNKNOWN_MARKET', market: problem.market });
  if (problem.code === 'UNKNOWN_ASSET') return err({ code: 'UNKNOWN_ASSET', asset: problem.asset });
  return err({ code: 'PRICE_UNAVAILABLE', asset: problem.asset });
}

/** Emits the settlement of an account's pending interest and funding, if anything is pending. */
export function pushSettlement(events: LedgerEvent[], state: LedgerState, record: AccountRecord): void {
  const settlement = settlementOf(state, record);
  if (settlement !== null) events.push(settlement);
}

/** Pending interest and funding of an account as one AccountSettled event; null if none. */
export function settlementOf(state: LedgerState, record: AccountRecord): AccountSettled | null {
  if (!hasPending(state, record)) return null;
  const interest: { asset: string; amount: bigint; indexWad: bigint }[] = [];
  const reserve: { asset: string; amount: bigint }[] = [];
  // Sorted, so that a ledger restored from a snapshot (whose maps come back sorted) emits
  // exactly the events the live ledger would.
  for (const [assetId, balance] of isSystemAccount(record.id) ? [] : sortedEntries(record.balances)) {
    const assetState = assetStateOf(state, assetId);
    const indexWad = balance.amount > 0n ? assetState.supplyIndexWad : assetState.borrowIndexWad;
    if (indexWad === balance.indexWad) continue;
    const amount = currentAmount(balance, assetState) - balance.amount;
    interest.push({ asset: assetId, amount, indexWad });
    const reserveFactorWad = state.config.assets.get(assetId)?.interest.reserveFactorWad ?? 0n;
    // The protocol's share of what a borrower paid, rounded down (the rest pays lenders).
    const reserveAmount = balance.amount < 0n && amount < 0n ? mulDivDown(-amount, reserveFactorWad, WAD) : 0n;
    if (reserveAmount > 0n) reserve.push({ asset: assetId, amount: reserveAmount });
  }
  const funding: { market: string; amount: bigint; indexWad: bigint }[] = [];
  for (const [, position] of sortedEntries(record.perps)) {
    const indexWad = marketStateOf(state, position.market).fundingIndexWad;
    if (indexWad === position.fundingIndexWad) continue;
    funding.push({ market: position.market, amount: pendingFunding(state, position), indexWad });
  }
  if (interest.length === 0 && funding.length === 0) return null;
  return { type: 'AccountSettled', account: record.id, interest, funding, reserve };
}

/** Whether any balance or position of the account stands at an index that has moved since. */
function hasPending(state: LedgerState, record: AccountRecord): boolean {
  if (!isSystemAccount(record.id)) {
    for (const [assetId, balance] of record.balances) {
      const assetState = assetStateOf(state, assetId);
      if (balance.indexWad !== (balance.amount > 0n ? assetState.supplyIndexWad : assetState.borrowIndexWad)) return true;
    }
  }
  for (const position of record.perps.values()) {
    if (position.fundingIndexWad !== marketStateOf(state, position.market).fundingIndexWad) return true;
  }
  return false;
}

