/**
 * The ledger's state: accounts with settled balances and positions, per-asset interest
 * indexes, per-market funding indexes, the current guarded prices and the risk configuration.
 *
 * Balances are stored as settled amounts plus the index they were last settled at; interest
 * and funding accrue to them lazily. `accountView` gives the amounts the risk model sees
 * (settled + pending), and settlement (see settle.ts) turns pending into settled amounts by
 * double entry, so per asset all stored balances always sum to zero.
 *
 * `evolve` mutates the state it is given: the ledger owns that state, and copying every
 * account on every event would make the ledger O(accounts) per event. Account records
 * themselves are immutable and replaced whole, so a view taken earlier never changes.
 */
import type { Account, PerpPosition } from '../account.ts';
import type { RiskConfig } from '../config.ts';
import { divDown, divUp, WAD } from '../fixed.ts';
import type { Price } from '../prices.ts';
import type { Auction } from '../liquidation/auction.ts';
import type { Parties } from '../liquidation/steps.ts';
import { LedgerIndexes } from './indexes.ts';

/** System accounts: the other side of every movement that has no user on it. */
export const SYSTEM = {
  /** Outside world: deposits come from here, withdrawals go here. */
  custody: 'system:custody',
  insurance: 'system:insurance',
  fees: 'system:fees',
  backstop: 'system:backstop',
  /** Pays lenders their interest and receives borrowers'. */
  interest: 'system:interest',
  /** Counterparty of realised perp PnL and funding settlements. */
  settlement: 'system:settlement',
  /** Holds collateral under Dutch auction. */
  auction: 'system:auction',
} as const;
export const SYSTEM_ACCOUNTS: readonly string[] = Object.values(SYSTEM);
export const SYSTEM_PREFIX = 'system:';

export interface StoredBalance {
  /** Settled amount in base units; negative = borrowed. Never zero (zero balances are dropped). */
  readonly amount: bigint;
  /**
   * Supply index (amount > 0) or borrow index (amount < 0) at the last settlement. System
   * accounts neither earn nor pay interest: theirs is always 0.
   */
  readonly indexWad: bigint;
}

export interface StoredPosition extends PerpPosition {
  /** Cumulative funding index of the market at the last settlement. */
  readonly fundingIndexWad: bigint;
}

export interface AccountRecord {
  readonly id: string;
  /** Accounts of one owner may transfer between each other. */
  readonly owner: string;
  readonly balances: ReadonlyMap<string, StoredBalance>;
  readonly perps: ReadonlyMap<string, StoredPosition>;
}

export interface AssetState {
  readonly borrowIndexWad: bigint;
  readonly supplyIndexWad: bigint;
  /** Σ positive settled user balances, base units (utilisation and deposit caps). */
  readonly totalDeposits: bigint;
  /** Σ |negative| settled user balances, base units (utilisation and borrow caps). */
  readonly totalBorrows: bigint;
  /** Time of the last accrual, ms since the epoch; null before the first. */
  readonly accruedAtMs: number | null;
}

export interface MarketState {
  /** Cumulative funding paid by a long per whole base unit, USD wad (negative: longs received). */
  readonly fundingIndexWad: bigint;
  /** Σ of long sizes (= Σ of |short sizes|), base units. */
  readonly openInterest: bigint;
}

export interface LedgerState {
  config: RiskConfig;
  /** The configuration as it was given, for the log, snapshots and the state hash. */
  configJson: unknown;
  prices: Map<string, Price>;
  /** Assets whose latest price failed the oracle's guards, with the reasons. */
  unhealthyPrices: Map<string, readonly string[]>;
  accounts: Map<string, AccountRecord>;
  assets: Map<string, AssetState>;
  markets: Map<string, MarketState>;
  /** Net of all balance changes per asset since start: zero unless the ledger is broken. */
  assetNet: Map<string, bigint>;
  /** Net of all position changes per market since start: zero unless the ledger is broken. */
  marketNet: Map<string, bigint>;
  /** Dutch auctions in progress, by id. */
  auctions: Map<string, Auction>;
  /** Sequence for auction ids (deterministic on replay). */
  nextAuctionId: number;
  /** Liquidated notional per market or collateral asset in the current window (cascade control). */
  liquidationWindows: Map<string, LiquidationWindow>;
  /** Set when an invariant check fails: risk-increasing commands are refused until resolved. */
  halted: string | null;
  /** Derived from the rest, so neither hashed nor snapshotted (indexes.ts). */
  readonly indexes: LedgerIndexes;
}

export interface LiquidationWindow {
  readonly startMs: number;
  readonly usedUsd: bigint;
}

/** The cascade window of `key` still open at `nowMs`, if any. */
export function openLiquidationWindow(state: LedgerState, key: string, nowMs: number): LiquidationWindow | undefined {
  const window = state.liquidationWindows.get(key);
  return window !== undefined && nowMs - window.startMs < state.config.liquidation.windowMs ? window : undefined;
}

export function initialAssetState(): AssetState {
  return { borrowIndexWad: WAD, supplyIndexWad: WAD, totalDeposits: 0n, totalBorrows: 0n, accruedAtMs: null };
}

export function initialMarketState(): MarketState {
  return { fundingIndexWad: 0n, openInterest: 0n };
}

/** A ledger with the given configuration and the system accounts, nothing else. */
export function createLedgerState(config: RiskConfig, configJson: unknown): LedgerState {
  const state: LedgerState = {
    config,
    configJson,
    prices: new Map(),
    unhealthyPrices: new Map(),
    accounts: new Map(),
    assets: new Map(),
    markets: new Map(),
    assetNet: new Map(),
    marketNet: new Map(),
    liquidationWindows: new Map(),
    auctions: new Map(),
    nextAuctionId: 1,
    halted: null,
    indexes: new LedgerIndexes(),
  };
  for (const id of SYSTEM_ACCOUNTS) state.accounts.set(id, emptyRecord(id, id));
  for (const asset of config.assets.keys()) state.assets.set(asset, initialAssetState());
  for (const market of config.markets.keys()) state.markets.set(market, initialMarketState());
  return state;
}

export function emptyRecord(id: string, owner: string): AccountRecord {
  return { id, owner, balances: new Map(), perps: new Map() };
}

export function isSystemAccount(id: string): boolean {
  return id.startsWith(SYSTEM_PREFIX);
}

export function assetStateOf(state: LedgerState, asset: string): AssetState {
  return state.assets.get(asset) ?? initialAssetState();
}

export function marketStateOf(state: LedgerState, market: string): MarketState {
  return state.markets.get(market) ?? initialMarketState();
}

/**
 * A balance brought to the current index: deposits grow with the supply index (rounded
 * down), debts with the borrow index (rounded up).
 */
export function currentAmount(balance: StoredBalance, asset: AssetState): bigint {
  if (balance.amount > 0n) {
    return balance.indexWad === asset.supplyIndexWad
      ? balance.amount
      : divDown(balance.amount * asset.supplyIndexWad, balance.indexWad);
  }
  return balance.indexWad === asset.borrowIndexWad
    ? balance.amount
    : -divUp(-balance.amount * asset.borrowIndexWad, balance.indexWad);
}

/**
 * Funding a position has to settle, in quote base units as a change to the quote balance:
 * a payer's change rounds up in size, a receiver's rounds down.
 */
export function pendingFunding(state: LedgerState, position: StoredPosition): bigint {
  const delta = marketStateOf(state, position.market).fundingIndexWad - position.fundingIndexWad;
  if (delta === 0n) return 0n;
  const market = state.config.markets.get(position.market);
  const base = market && state.config.assets.get(market.base);
  const quote = state.config.assets.get(state.config.quote);
  if (base === undefined || quote === undefined) return 0n;
  return divDown(-position.size * delta * quote.unit, base.unit * WAD);
}

/** The account as the risk model sees it: settled amounts plus pending interest and funding. */
export function accountView(state: LedgerState, record: AccountRecord): Account {
  const balances = new Map<string, bigint>();
  const indexed = !isSystemAccount(record.id);
  for (const [asset, balance] of record.balances) {
    balances.set(asset, indexed ? currentAmount(balance, assetStateOf(state, asset)) : balance.amount);
  }
  let funding = 0n;
  for (const position of record.perps.values()) funding += pendingFunding(state, position);
  if (funding !== 0n) {
    const quote = state.config.quote;
    const next = (balances.get(quote) ?? 0n) + funding;
    if (next === 0n) balances.delete(quote);
    else balances.set(quote, next);
  }
  for (const [asset, amount] of balances) if (amount === 0n) balances.delete(asset);
  return { id: record.id, balances, perps: record.perps };
}

/** Who stands where in a liquidation of `account` by `liquidator`. */
export function liquidationParties(account: string, liquidator: string): Parties {
  return { account, liquidator, insurance: SYSTEM.insurance, lenders: SYSTEM.interest, escrow: SYSTEM.auction };
}
