/**
 * Named invariants of the ledger (docs/INVARIANTS.md gives each as a sentence). The cheap
 * checks run after every event in production; the full check walks the whole state and runs
 * after every step in the model-based tests.
 */
import { max } from '../fixed.ts';
import { LedgerIndexes } from './indexes.ts';
import { isSystemAccount, type LedgerState } from './state.ts';

export const INVARIANTS = {
  conservation: 'INV-1',
  positionsNetZero: 'INV-2',
  noCommandLiquidates: 'INV-3',
  retriesChangeNothing: 'INV-4',
  replayReachesSameHash: 'INV-5',
  roundingAgainstAccount: 'INV-6',
  totalsMatchBalances: 'INV-7',
  hashChain: 'INV-8',
  riskIncreasingNeedsInitialMargin: 'INV-9',
  indexesMatchAccounts: 'INV-10',
} as const;

export interface Violation {
  readonly invariant: string;
  readonly message: string;
}

/** O(assets + markets): the running nets of all balance and position changes are zero. */
export function checkNets(state: LedgerState): Violation | null {
  for (const [asset, net] of state.assetNet) {
    if (net !== 0n) return { invariant: INVARIANTS.conservation, message: `balances of ${asset} sum to ${net}, not 0` };
  }
  for (const [market, net] of state.marketNet) {
    if (net !== 0n) return { invariant: INVARIANTS.positionsNetZero, message: `positions in ${market} sum to ${net}, not 0` };
  }
  return null;
}

/** O(state): recomputes every sum from the accounts themselves. */
export function checkInvariants(state: LedgerState): Violation[] {
  const violations: Violation[] = [];
  const assetSums = new Map<string, bigint>();
  const deposits = new Map<string, bigint>();
  const borrows = new Map<string, bigint>();
  const positionSums = new Map<string, bigint>();
  const longs = new Map<string, bigint>();
  for (const record of state.accounts.values()) {
    for (const [asset, balance] of record.balances) {
      assetSums.set(asset, (assetSums.get(asset) ?? 0n) + balance.amount);
      if (isSystemAccount(record.id)) continue;
      deposits.set(asset, (deposits.get(asset) ?? 0n) + max(balance.amount, 0n));
      borrows.set(asset, (borrows.get(asset) ?? 0n) + max(-balance.amount, 0n));
    }
    for (const [market, position] of record.perps) {
      positionSums.set(market, (positionSums.get(market) ?? 0n) + position.size);
      longs.set(market, (longs.get(market) ?? 0n) + max(position.size, 0n));
    }
  }
  for (const [asset, sum] of assetSums) {
    if (sum !== 0n) violations.push({ invariant: INVARIANTS.conservation, message: `balances of ${asset} sum to ${sum}` });
  }
  for (const [market, sum] of positionSums) {
    if (sum !== 0n) violations.push({ invariant: INVARIANTS.positionsNetZero, message: `positions in ${market} sum to ${sum}` });
  }
  for (const [asset, totals] of state.assets) {
    if (totals.totalDeposits !== (deposits.get(asset) ?? 0n) || totals.totalBorrows !== (borrows.get(asset) ?? 0n)) {
      violations.push({ invariant: INVARIANTS.totalsMatchBalances, message: `totals of ${asset} differ from its balances` });
    }
  }
  for (const [market, totals] of state.markets) {
    if (totals.openInterest !== (longs.get(market) ?? 0n)) {
      violations.push({ invariant: INVARIANTS.totalsMatchBalances, message: `open interest of ${market} differs from its positions` });
    }
  }
  const nets = checkNets(state);
  if (nets !== null) violations.push(nets);
  violations.push(...checkIndexes(state));
  return violations;
}

/** The indexes kept event by event against indexes built afresh from a scan of every account. */
function checkIndexes(state: LedgerState): Violation[] {
  const violations: Violation[] = [];
  const scanned = LedgerIndexes.rebuild(state.accounts.values(), (id) => !isSystemAccount(id));
  const recordOf = (id: string) => state.accounts.get(id);
  for (const asset of state.config.assets.keys()) {
    const kept = state.indexes.lendersOf(asset);
    const fresh = scanned.lendersOf(asset);
    if (kept.scaledWad !== fresh.scaledWad || kept.count !== fresh.count) {
      violations.push({ invariant: INVARIANTS.indexesMatchAccounts, message: `lenders of ${asset} differ from their balances` });
    }
  }
  for (const market of state.config.markets.keys()) {
    for (const side of [1n, -1n] as const) {
      const kept = state.indexes.deleveragingQueue(market, side, recordOf, state.prices, state.config).entries;
      const fresh = scanned.deleveragingQueue(market, side, recordOf, state.prices, state.config).entries;
      const same = kept.length === fresh.length && kept.every((entry, index) => {
        const other = fresh[index];
        return other !== undefined && entry.account === other.account && entry.scoreWad === other.scoreWad && entry.size === other.size;
      });
      if (!same) violations.push({ invariant: INVARIANTS.indexesMatchAccounts, message: `deleveraging queue of ${market} (${side > 0n ? 'longs' : 'shorts'}) differs from a fresh ranking` });
    }
  }
  return violations;
}
