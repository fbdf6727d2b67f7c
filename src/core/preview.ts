/**
 * What-if previews: an account's health after a hypothetical action, computed by applying
 * the same transitions the ledger applies (account.ts) and the same valuation (health.ts).
 */
import { adjustBalance, applyFill, type Account } from './account.ts';
import type { RiskConfig } from './config.ts';
import { evaluateAccount, type AccountHealth, type ValuationError } from './health.ts';
import { withPrice, type PriceBook } from './prices.ts';
import { err, ok, type Result } from './result.ts';

export type WhatIf =
  | { readonly kind: 'deposit'; readonly asset: string; readonly amount: bigint }
  /** Past the balance, a withdrawal is a borrow: one transition serves both. */
  | { readonly kind: 'withdraw' | 'borrow'; readonly asset: string; readonly amount: bigint }
  | {
      readonly kind: 'fill';
      readonly market: string;
      readonly size: bigint;
      readonly priceWad: bigint;
      readonly feeRateWad: bigint;
    }
  | { readonly kind: 'price'; readonly asset: string; readonly priceWad: bigint };

export interface Scenario {
  readonly account: Account;
  readonly prices: PriceBook;
}

export interface Preview {
  readonly before: AccountHealth;
  readonly after: AccountHealth;
  readonly scenario: Scenario;
}

export type PreviewError = ValuationError | { readonly code: 'UNKNOWN_MARKET'; readonly market: string };

/** The account and prices after `action`; nothing outside the returned values changes. */
export function applyWhatIf(
  scenario: Scenario,
  action: WhatIf,
  config: RiskConfig,
): Result<Scenario, PreviewError> {
  switch (action.kind) {
    case 'deposit':
      return ok({ ...scenario, account: adjustBalance(scenario.account, action.asset, action.amount) });
    case 'withdraw':
    case 'borrow':
      return ok({ ...scenario, account: adjustBalance(scenario.account, action.asset, -action.amount) });
    case 'fill': {
      const market = config.markets.get(action.market);
      const base = market && config.assets.get(market.base);
      const quote = config.assets.get(config.quote);
      if (market === undefined || base === undefined || quote === undefined) {
        return err({ code: 'UNKNOWN_MARKET', market: action.market });
      }
      const outcome = applyFill(scenario.account, market, base, quote, action);
      return ok({ ...scenario, account: outcome.account });
    }
    case 'price':
      return ok({ ...scenario, prices: withPrice(scenario.prices, action.asset, action.priceWad) });
  }
}

/** Health now and after the actions, applied in order. */
export function previewWhatIf(
  scenario: Scenario,
  actions: readonly WhatIf[],
  config: RiskConfig,
): Result<Preview, PreviewError> {
  const before = evaluateAccount(scenario.account, scenario.prices, config);
  if (!before.ok) return before;
  let next = scenario;
  for (const action of actions) {
    const applied = applyWhatIf(next, action, config);
    if (!applied.ok) return applied;
    next = applied.value;
  }
  const after = evaluateAccount(next.account, next.prices, config);
  if (!after.ok) return after;
  return ok({ before: before.value, after: after.value, scenario: next });
}
