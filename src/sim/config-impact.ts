/**
 * What a proposed risk configuration does to a book the moment it applies: every user account
 * valued exactly (core `evaluateAccount`) under the current and the proposed configuration at
 * the ledger's current prices. Used by `collateral preflight` and by the service's
 * configuration route, which refuses a change that makes accounts newly liquidatable unless
 * forced. O(accounts).
 */
import type { RiskConfig } from '../core/config.ts';
import { evaluateAccount } from '../core/health.ts';
import { accountView, isSystemAccount, type LedgerState } from '../core/ledger/state.ts';

export interface ConfigImpact {
  readonly accounts: number;
  readonly current: { readonly warning: number; readonly liquidatable: number };
  readonly proposed: { readonly warning: number; readonly liquidatable: number };
  /** Accounts liquidatable under the proposed configuration and not under the current one. */
  readonly newlyLiquidatable: readonly string[];
  /** Accounts in warning (and not liquidatable) under the proposed configuration only. */
  readonly newlyWarning: readonly string[];
  /** Accounts that could not be valued (a price missing, an asset the proposal drops). */
  readonly unvalued: number;
}

/** Every user account valued under both configurations at the ledger's current prices. */
export function configImpact(state: LedgerState, proposed: RiskConfig): ConfigImpact {
  let accounts = 0;
  let unvalued = 0;
  const current = { warning: 0, liquidatable: 0 };
  const next = { warning: 0, liquidatable: 0 };
  const newlyLiquidatable: string[] = [];
  const newlyWarning: string[] = [];
  for (const record of state.accounts.values()) {
    if (isSystemAccount(record.id)) continue;
    accounts += 1;
    const view = accountView(state, record);
    const before = evaluateAccount(view, state.prices, state.config);
    const after = evaluateAccount(view, state.prices, proposed);
    if (!before.ok || !after.ok) {
      unvalued += 1;
      continue;
    }
    if (before.value.liquidatable) current.liquidatable += 1;
    else if (before.value.warning) current.warning += 1;
    if (after.value.liquidatable) next.liquidatable += 1;
    else if (after.value.warning) next.warning += 1;
    if (after.value.liquidatable && !before.value.liquidatable) newlyLiquidatable.push(record.id);
    else if (!after.value.liquidatable && after.value.warning && !before.value.warning && !before.value.liquidatable) {
      newlyWarning.push(record.id);
    }
  }
  return { accounts, current, proposed: next, newlyLiquidatable, newlyWarning, unvalued };
}
