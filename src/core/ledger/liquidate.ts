/**
 * decide for `liquidate`: guards, then the pure plan (liquidation/plan.ts), then events: the
 * settlements of every account the plan touches, one event per step, and the explanation.
 * The plan is computed on account views; evolve applies the same step movements to stored
 * balances, so what the plan promised is what happens.
 */
import type { Account } from '../account.ts';
import { max, mulDivDown } from '../fixed.ts';
import { sortedEntries } from '../order.ts';
import { planLiquidation, type LiquidationPlan } from '../liquidation/plan.ts';
import type { LiquidationStep, Parties } from '../liquidation/steps.ts';
import { exposedAssets } from '../liquidation-price.ts';
import { err, ok } from '../result.ts';
import type { LiquidateCommand } from './commands.ts';
import { checkTime, evaluate, invalid, pushSettlement, unhealthyExposure, userAccount, type Decision } from './decide.ts';
import type { LedgerEvent } from './events.ts';
import type { RankedSide } from './indexes.ts';
import {
  accountView,
  assetStateOf,
  isSystemAccount,
  openLiquidationWindow,
  liquidationParties,
  SYSTEM,
  type AccountRecord,
  type LedgerState,
} from './state.ts';

export function decideLiquidate(state: LedgerState, command: LiquidateCommand): Decision {
  const time = checkTime(command.nowMs);
  if (time !== null) return time;
  if (command.maxNotionalUsd !== undefined && command.maxNotionalUsd <= 0n) {
    return invalid('maxNotionalUsd', 'must be greater than zero');
  }
  const target = userAccount(state, command.account);
  if (!target.ok) return target;
  const liquidatorRecord =
    command.liquidator === SYSTEM.backstop ? state.accounts.get(SYSTEM.backstop) : undefined;
  const liquidator = liquidatorRecord === undefined ? userAccount(state, command.liquidator) : ok(liquidatorRecord);
  if (!liquidator.ok) return liquidator;
  if (command.liquidator === command.account || liquidator.value.owner === target.value.owner) {
    return err({ code: 'SELF_LIQUIDATION', account: command.account, liquidator: command.liquidator });
  }

  for (const auction of state.auctions.values()) {
    if (auction.account === command.account) {
      return err({ code: 'AUCTION_IN_PROGRESS', account: command.account, auctionId: auction.id });
    }
  }
  const unhealthy = unhealthyExposure(state, accountView(state, target.value));
  if (unhealthy !== null) return err(unhealthy);
  const parties = liquidationParties(command.account, command.liquidator);
  const views = new Map<string, Account>();
  for (const id of [parties.account, parties.liquidator, parties.insurance, parties.lenders, parties.escrow]) {
    const record = state.accounts.get(id);
    if (record !== undefined) views.set(id, accountView(state, record));
  }
  const plan = planLiquidation({
    parties,
    views,
    prices: state.prices,
    config: state.config,
    deleverageCandidates: (market, size) => deleverageCandidates(state, market, size, parties),
    roomUsd: cascadeRoom(state, command.nowMs),
    ...(command.maxNotionalUsd !== undefined && { keeperLimitUsd: command.maxNotionalUsd }),
  });
  if (!plan.ok) {
    const problem = plan.error;
    switch (problem.code) {
      case 'NOT_LIQUIDATABLE':
        return err({ code: 'NOT_LIQUIDATABLE', account: command.account, maintenance: problem.maintenance });
      case 'LIQUIDATION_CAPPED':
      case 'LIQUIDATION_INEFFECTIVE':
        return err({ code: problem.code, account: command.account });
      case 'UNKNOWN_MARKET':
        return err({ code: 'UNKNOWN_MARKET', market: problem.market });
      case 'UNKNOWN_ASSET':
        return err({ code: 'UNKNOWN_ASSET', asset: problem.asset });
      case 'PRICE_UNAVAILABLE':
        return err({ code: 'PRICE_UNAVAILABLE', asset: problem.asset });
    }
  }
  const liquidatorMargin = checkLiquidatorMargin(state, plan.value, parties.liquidator);
  if (liquidatorMargin !== null) return err(liquidatorMargin);
  return ok(liquidationEvents(state, command, plan.value, parties));
}

/** A liquidator that takes anything over must meet initial margin afterwards. */
function checkLiquidatorMargin(state: LedgerState, plan: LiquidationPlan, liquidator: string) {
  const takesOver = plan.steps.some((step) => step.kind === 'perp' || (step.kind === 'swap' && step.seized > step.toInsurance));
  const view = plan.views.get(liquidator);
  if (!takesOver || view === undefined) return null;
  const health = evaluate(state, view);
  if (!health.ok) return health.error;
  if (health.value.initial.healthUsd >= 0n) return null;
  return { code: 'LIQUIDATOR_INSUFFICIENT_MARGIN' as const, liquidator, healthAfter: health.value.initial };
}

function liquidationEvents(
  state: LedgerState,
  command: LiquidateCommand,
  plan: LiquidationPlan,
  parties: Parties,
): LedgerEvent[] {
  const events: LedgerEvent[] = [];
  const touched = new Set([parties.account, parties.liquidator]);
  for (const step of plan.steps) if (step.kind === 'deleverage') touched.add(step.counterparty);
  for (const id of touched) {
    const record = state.accounts.get(id);
    if (record !== undefined) pushSettlement(events, state, record);
  }
  const base = { account: parties.account, liquidator: parties.liquidator };
  let penaltiesUsd = 0n;
  let badDebtUsd = 0n;
  for (const step of plan.steps) {
    events.push(stepEvent(state, base, step, command.nowMs));
    penaltiesUsd += penaltyUsd(state, step);
    if (step.kind === 'insurance' || step.kind === 'socialize') badDebtUsd += valueUsd(state, step.asset, step.amount);
  }
  const before = accountView(state, recordOf(state, parties.account));
  const after = plan.views.get(parties.account) ?? before;
  events.push({
    type: 'LiquidationCompleted',
    ...base,
    nowMs: command.nowMs,
    target: state.config.liquidation.target,
    bankrupt: plan.bankrupt,
    targetReached: plan.targetReached,
    prices: exposedAssetsOf(state, [before, after]).flatMap((asset) => {
        const price = state.prices.get(asset);
        return price === undefined ? [] : [{ asset, priceWad: price.priceWad, confidenceWad: price.confidenceWad }];
      }),
    healthBefore: { initial: plan.healthBefore.initial, maintenance: plan.healthBefore.maintenance },
    healthAfter: { initial: plan.healthAfter.initial, maintenance: plan.healthAfter.maintenance },
    notional: sortedEntries(plan.notionalByKey).map(([key, usd]) => ({ key, usd })),
    untouched: plan.untouched,
    penaltiesUsd,
    badDebtUsd,
  });
  return events;
}

function stepEvent(
  state: LedgerState,
  base: { account: string; liquidator: string },
  step: LiquidationStep,
  nowMs: number,
): LedgerEvent {
  switch (step.kind) {
    case 'perp':
      return { type: 'PositionLiquidated', ...base, step };
    case 'swap':
      return { type: 'CollateralSeized', ...base, step };
    case 'insurance':
      return { type: 'InsuranceCovered', ...base, step };
    case 'deleverage':
      return { type: 'PositionDeleveraged', ...base, step };
    case 'socialize':
      return { type: 'BadDebtSocialized', ...base, step };
    case 'auction':
      return { type: 'AuctionStarted', ...base, step, auctionId: `auction-${state.nextAuctionId}`, startMs: nowMs };
  }
}

function penaltyUsd(state: LedgerState, step: LiquidationStep): bigint {
  if (step.kind === 'perp') return valueUsd(state, state.config.quote, step.penalty);
  if (step.kind !== 'swap' || step.repaid === 0n) return 0n;
  const fair = step.valueUsd;
  const seizedUsd = valueUsd(state, step.collateralAsset, step.seized);
  return seizedUsd > fair ? seizedUsd - fair : 0n;
}

function valueUsd(state: LedgerState, asset: string, amount: bigint): bigint {
  const price = state.prices.get(asset)?.priceWad ?? 0n;
  const unit = state.config.assets.get(asset)?.unit ?? 1n;
  return mulDivDown(amount, price, unit);
}

/** Opposite positions outside the account and the liquidator, best-ranked first, viewed as they are needed. */
function* deleverageCandidates(state: LedgerState, market: string, size: bigint, parties: Parties): Generator<Account> {
  for (const entry of deleveragingQueue(state, market, size > 0n ? -1n : 1n).entries) {
    if (entry.account === parties.account || entry.account === parties.liquidator) continue;
    yield accountView(state, recordOf(state, entry.account));
  }
}

function deleveragingQueue(state: LedgerState, market: string, side: 1n | -1n): RankedSide {
  return state.indexes.deleveragingQueue(market, side, (id) => state.accounts.get(id), state.prices, state.config);
}

/** Room left in each capped window at `nowMs`; keys without a cap are absent. */
function cascadeRoom(state: LedgerState, nowMs: number): ReadonlyMap<string, bigint> {
  const cap = state.config.liquidation.notionalCapPerWindowUsd;
  const room = new Map<string, bigint>();
  if (cap === undefined) return room;
  const keys = [...state.config.markets.keys(), ...state.config.assets.keys()];
  for (const key of keys) room.set(key, max(cap - (openLiquidationWindow(state, key, nowMs)?.usedUsd ?? 0n), 0n));
  return room;
}

function recordOf(state: LedgerState, id: string): AccountRecord {
  const record = state.accounts.get(id);
  if (record === undefined) throw new Error(`liquidate: unknown account ${id}`);
  return record;
}

function exposedAssetsOf(state: LedgerState, accounts: readonly Account[]): string[] {
  const assets = new Set<string>();
  for (const account of accounts) for (const asset of exposedAssets(account, state.config)) assets.add(asset);
  return [...assets].sort();
}


/**
 * Where a position stands in the deleveraging queue of its side of the market: 1 goes first.
 * Null when the account holds no position there.
 */
export function deleveragingRankOf(
  state: LedgerState,
  accountId: string,
  market: string,
): { readonly rank: number; readonly of: number } | null {
  const position = state.accounts.get(accountId)?.perps.get(market);
  if (position === undefined) return null;
  const queue = deleveragingQueue(state, market, position.size > 0n ? 1n : -1n);
  const rank = queue.rankOf(accountId);
  return rank === null ? null : { rank, of: queue.entries.length };
}
