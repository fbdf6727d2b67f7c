/**
 * Indexes the ledger keeps beside its state so that no command scans every account: who holds
 * a position in each market, each asset's lenders in aggregate, and the deleveraging queue of
 * each side of each market. They are derived from the account records and prices alone, so
 * they are neither hashed nor snapshotted: `rebuild` makes them again from a loaded state, and
 * evolve keeps them current through `recordReplaced` and `pricesChanged`.
 */
import type { Account } from '../account.ts';
import { divDown, WAD } from '../fixed.ts';
import { compareRank, rankEntry, type RankEntry } from '../liquidation/rank.ts';
import type { PriceBook } from '../prices.ts';
import type { RiskConfig } from '../config.ts';
import type { AccountRecord, StoredBalance } from './state.ts';

/** Every lender of one asset together. */
export interface Lenders {
  /**
   * Σ of each lender's balance brought back to a supply index of 1, in base units × WAD, each
   * rounded down: times the current supply index it is a lower bound of what they hold now.
   */
  readonly scaledWad: bigint;
  readonly count: bigint;
}

const NO_LENDERS: Lenders = { scaledWad: 0n, count: 0n };

/** A balance's share of `Lenders.scaledWad`: zero for a debt. */
function scaledDeposit(balance: StoredBalance | undefined): bigint {
  return balance === undefined || balance.amount <= 0n ? 0n : divDown(balance.amount * WAD * WAD, balance.indexWad);
}

/** One side of a market, best-ranked first. */
export interface RankedSide {
  readonly entries: readonly RankEntry[];
  /** 1 = deleveraged first; null when the account holds no position on this side. */
  rankOf(account: string): number | null;
}

/**
 * One side of one market's deleveraging queue, ranked on settled balances and positions at the
 * current prices (rank.ts). Pending interest and funding are left out of the rank: they change
 * with every accrual and would force a re-rank of the whole side each time. Rebuilt when any
 * price or the configuration changes; between, only the accounts whose records changed move.
 */
class DeleveragingQueue implements RankedSide {
  entries: RankEntry[] = [];
  readonly byAccount = new Map<string, RankEntry>();
  readonly dirty = new Set<string>();
  builtAt = -1;

  constructor(
    readonly market: string,
    readonly side: 1n | -1n,
  ) {}

  remove(entry: RankEntry): void {
    const index = this.positionOf(entry);
    if (this.entries[index] !== entry) throw new Error(`deleveraging queue: ${entry.account} is not where its rank puts it`);
    this.entries.splice(index, 1);
    this.byAccount.delete(entry.account);
  }

  insert(entry: RankEntry): void {
    this.entries.splice(this.positionOf(entry), 0, entry);
    this.byAccount.set(entry.account, entry);
  }

  rankOf(account: string): number | null {
    const entry = this.byAccount.get(account);
    return entry === undefined ? null : this.positionOf(entry) + 1;
  }

  /** Where `entry` stands or would stand: the first entry not ranked before it. */
  positionOf(entry: RankEntry): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareRank(this.entries[middle] as RankEntry, entry) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

export class LedgerIndexes {
  /** User accounts holding a position, per market. */
  private readonly holders = new Map<string, Set<string>>();
  private readonly lenders = new Map<string, Lenders>();
  private readonly queues = new Map<string, DeleveragingQueue>();
  private pricesVersion = 0;

  /** The indexes of a state loaded whole (a snapshot): every user record indexed once. */
  static rebuild(records: Iterable<AccountRecord>, isUser: (id: string) => boolean): LedgerIndexes {
    const indexes = new LedgerIndexes();
    for (const record of records) if (isUser(record.id)) indexes.recordReplaced(undefined, record);
    return indexes;
  }

  lendersOf(asset: string): Lenders {
    return this.lenders.get(asset) ?? NO_LENDERS;
  }

  /** A price or the configuration changed: every rank may have moved. */
  pricesChanged(): void {
    this.pricesVersion += 1;
  }

  /** A user account's record was replaced (`before` undefined when it is new). */
  recordReplaced(before: AccountRecord | undefined, after: AccountRecord): void {
    this.indexLenders(before, after);
    this.indexHolders(before, after);
    for (const queue of this.queues.values()) {
      if (before?.perps.has(queue.market) === true || after.perps.has(queue.market)) queue.dirty.add(after.id);
    }
  }

  /**
   * The side `side` of `market`, best-ranked first, at the current prices. `recordOf` reads the
   * ledger's current records; the result is valid until the next event.
   */
  deleveragingQueue(
    market: string,
    side: 1n | -1n,
    recordOf: (id: string) => AccountRecord | undefined,
    prices: PriceBook,
    config: RiskConfig,
  ): RankedSide {
    const key = `${market}\u0000${side}`;
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = new DeleveragingQueue(market, side);
      this.queues.set(key, queue);
    }
    const entryOf = (id: string): RankEntry | null => {
      const record = recordOf(id);
      return record === undefined ? null : rankEntry(settledAccount(record), market, side, prices, config);
    };
    if (queue.builtAt !== this.pricesVersion) {
      const entries: RankEntry[] = [];
      for (const id of this.holders.get(market) ?? []) {
        const entry = entryOf(id);
        if (entry !== null) entries.push(entry);
      }
      entries.sort(compareRank);
      queue.entries = entries;
      queue.byAccount.clear();
      for (const entry of entries) queue.byAccount.set(entry.account, entry);
      queue.builtAt = this.pricesVersion;
    } else {
      for (const id of queue.dirty) {
        const old = queue.byAccount.get(id);
        if (old !== undefined) queue.remove(old);
        const entry = entryOf(id);
        if (entry !== null) queue.insert(entry);
      }
    }
    queue.dirty.clear();
    return queue;
  }

  private indexLenders(before: AccountRecord | undefined, after: AccountRecord): void {
    if (before?.balances === after.balances) return;
    for (const [asset, now] of after.balances) {
      const old = before?.balances.get(asset);
      if (old !== now) this.moveLender(asset, old, now);
    }
    for (const [asset, old] of before?.balances ?? []) if (!after.balances.has(asset)) this.moveLender(asset, old, undefined);
  }

  private moveLender(asset: string, old: StoredBalance | undefined, now: StoredBalance | undefined): void {
    const lenders = this.lendersOf(asset);
    const wasLender = old !== undefined && old.amount > 0n;
    const isLender = now !== undefined && now.amount > 0n;
    if (!wasLender && !isLender) return;
    this.lenders.set(asset, {
      scaledWad: lenders.scaledWad - scaledDeposit(old) + scaledDeposit(now),
      count: lenders.count + (isLender ? 1n : 0n) - (wasLender ? 1n : 0n),
    });
  }

  private indexHolders(before: AccountRecord | undefined, after: AccountRecord): void {
    if (before?.perps === after.perps) return;
    for (const market of before?.perps.keys() ?? []) if (!after.perps.has(market)) this.holders.get(market)?.delete(after.id);
    for (const market of after.perps.keys()) {
      let set = this.holders.get(market);
      if (set === undefined) {
        set = new Set();
        this.holders.set(market, set);
      }
      set.add(after.id);
    }
  }
}

/** The account as its settled record stands, without pending interest or funding. */
function settledAccount(record: AccountRecord): Account {
  const balances = new Map<string, bigint>();
  for (const [asset, balance] of record.balances) balances.set(asset, balance.amount);
  return { id: record.id, balances, perps: record.perps };
}
