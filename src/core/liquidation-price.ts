/**
 * Liquidation prices: for each asset an account is exposed to (a balance, or a perp on a
 * market with that base), the price at which maintenance health falls below zero with every
 * other price held.
 *
 * Health as a function of one asset's price p is concave: balances are linear in p (the
 * confidence moves in proportion, see `withPrice`), perp PnL is linear with a kink at the
 * entry where the positive-PnL weight makes the slope fall, and the size-scaled requirement
 * grows like −p^1.5. A concave function that is non-negative now crosses zero at most once
 * below the current price and once above it, so bisection on exact evaluations finds each
 * crossing, and the answer is computed by the very code that decides liquidation.
 */
import type { Account } from './account.ts';
import type { RiskConfig } from './config.ts';
import { evaluateAccount } from './health.ts';
import { withPrice, type PriceBook } from './prices.ts';

export interface LiquidationPrice {
  readonly asset: string;
  readonly currentPriceWad: bigint;
  /**
   * The crossing below the current price: the account is liquidatable at this price and not
   * one wei above it; `null` when no fall in this price alone liquidates it. (Health is
   * concave up to rounding, so for dust positions a wei-level flicker may exist elsewhere.)
   */
  readonly downWad: bigint | null;
  /** The crossing above the current price: liquidatable here, not one wei below; `null` if none. */
  readonly upWad: bigint | null;
}

/** Rises are searched up to this multiple of the current price; beyond it is not a price. */
const UP_SEARCH_FACTOR = 1n << 40n;

/**
 * Liquidation prices for every asset the account is exposed to, or `null` when the account
 * cannot be valued or is liquidatable already (there is no price to reach).
 */
export function liquidationPrices(
  account: Account,
  prices: PriceBook,
  config: RiskConfig,
): readonly LiquidationPrice[] | null {
  const now = evaluateAccount(account, prices, config);
  if (!now.ok || now.value.liquidatable) return null;
  const result: LiquidationPrice[] = [];
  const owesSomething = account.perps.size > 0 || [...account.balances.values()].some((amount) => amount < 0n);
  for (const asset of exposedAssets(account, config)) {
    const current = prices.get(asset);
    if (current === undefined) return null;
    const liquidatableAt = (priceWad: bigint): boolean => {
      const health = evaluateAccount(account, withPrice(prices, asset, priceWad), config);
      return health.ok && health.value.liquidatable;
    };
    // Without perps on it, an asset moves health one way only: a holding's value (and so
    // health) never falls as its price rises, a debt's never rises. So only one side can
    // cross, and an account that owes nothing cannot become liquidatable at all.
    const onPerps = [...account.perps.values()].some((position) => config.markets.get(position.market)?.base === asset);
    const balance = account.balances.get(asset) ?? 0n;
    const canFall = owesSomething && (onPerps || balance > 0n);
    const canRise = owesSomething && (onPerps || balance < 0n);
    result.push({
      asset,
      currentPriceWad: current.priceWad,
      downWad: canFall ? searchDown(current.priceWad, liquidatableAt) : null,
      upWad: canRise ? searchUp(current.priceWad, liquidatableAt) : null,
    });
  }
  return result;
}

/** Assets whose price moves the account's health, in a stable order. */
export function exposedAssets(account: Account, config: RiskConfig): readonly string[] {
  const assets = new Set<string>();
  for (const [asset, amount] of account.balances) if (amount !== 0n) assets.add(asset);
  for (const position of account.perps.values()) {
    const market = config.markets.get(position.market);
    if (market !== undefined && position.size !== 0n) assets.add(market.base);
  }
  return [...assets].sort();
}

/** Largest p in [1 wei, current) with liquidatableAt(p), given not liquidatable at current. */
function searchDown(currentWad: bigint, liquidatableAt: (priceWad: bigint) => boolean): bigint | null {
  if (currentWad <= 1n || !liquidatableAt(1n)) return null;
  let liquidated = 1n;
  let safe = currentWad;
  while (safe - liquidated > 1n) {
    const middle = (liquidated + safe) >> 1n;
    if (liquidatableAt(middle)) liquidated = middle;
    else safe = middle;
  }
  return liquidated;
}

/** Smallest p above current with liquidatableAt(p), searched by doubling then bisection. */
function searchUp(currentWad: bigint, liquidatableAt: (priceWad: bigint) => boolean): bigint | null {
  let safe = currentWad;
  let probe = currentWad * 2n;
  while (!liquidatableAt(probe)) {
    safe = probe;
    probe *= 2n;
    if (probe > currentWad * UP_SEARCH_FACTOR) return null;
  }
  let liquidated = probe;
  while (liquidated - safe > 1n) {
    const middle = (liquidated + safe) >> 1n;
    if (liquidatableAt(middle)) liquidated = middle;
    else safe = middle;
  }
  return liquidated;
}
