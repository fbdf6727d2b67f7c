/**
 * The risk monitor: the warning and liquidatable sets of all accounts, kept current from the
 * ledger's events. An event re-evaluates the accounts it names; a price, funding or interest
 * event re-evaluates the accounts exposed to that asset (per-asset exposure sets); a
 * configuration change re-evaluates everyone. Every answer is the core's exact evaluation.
 */
import { evaluateAccount } from '../core/health.ts';
import type { LedgerEvent } from '../core/ledger/events.ts';
import type { Ledger, SealedEvent } from '../core/ledger/ledger.ts';
import { accountView, isSystemAccount } from '../core/ledger/state.ts';
import { exposedAssets } from '../core/liquidation-price.ts';

export interface AccountStatus {
  readonly account: string;
  readonly initialHealthUsd: bigint;
  readonly maintenanceHealthUsd: bigint;
  readonly maintenanceRatioWad: bigint | null;
  readonly warning: boolean;
  readonly liquidatable: boolean;
}

export type AlertKind = 'warning' | 'liquidatable' | 'recovered';

export interface Alert {
  readonly kind: AlertKind;
  readonly status: AccountStatus;
}

export class RiskMonitor {
  private readonly statuses = new Map<string, AccountStatus>();
  private readonly exposure = new Map<string, Set<string>>();
  private readonly assetsOf = new Map<string, readonly string[]>();

  constructor(private readonly ledger: Ledger) {}

  /** Re-evaluates every account (start-up, reconciliation). */
  sweep(): Alert[] {
    const alerts: Alert[] = [];
    for (const id of this.ledger.state.accounts.keys()) this.refresh(id, alerts);
    return alerts;
  }

  /** Re-evaluates what a command's events may have changed; returns the transitions. */
  onEvents(events: readonly SealedEvent[]): Alert[] {
    const accounts = new Set<string>();
    let everyone = false;
    for (const { event } of events) {
      for (const id of accountsNamed(event)) accounts.add(id);
      const moved = this.assetMoved(event);
      if (moved === 'all') everyone = true;
      else if (moved !== null) for (const id of this.exposure.get(moved) ?? []) accounts.add(id);
    }
    if (everyone) return this.sweep();
    const alerts: Alert[] = [];
    for (const id of accounts) this.refresh(id, alerts);
    return alerts;
  }

  status(account: string): AccountStatus | undefined {
    return this.statuses.get(account);
  }

  /** Accounts in a state, worst maintenance health first, at most `limit`. */
  list(filter: 'warning' | 'liquidatable', limit: number): AccountStatus[] {
    const matching = [...this.statuses.values()].filter((status) => status[filter]);
    matching.sort((a, b) => (a.maintenanceHealthUsd < b.maintenanceHealthUsd ? -1 : a.maintenanceHealthUsd > b.maintenanceHealthUsd ? 1 : 0));
    return matching.slice(0, limit);
  }

  counts(): { readonly accounts: number; readonly warning: number; readonly liquidatable: number } {
    let warning = 0;
    let liquidatable = 0;
    for (const status of this.statuses.values()) {
      if (status.liquidatable) liquidatable += 1;
      else if (status.warning) warning += 1;
    }
    return { accounts: this.statuses.size, warning, liquidatable };
  }

  private refresh(id: string, alerts: Alert[]): void {
    if (isSystemAccount(id)) return;
    const record = this.ledger.state.accounts.get(id);
    if (record === undefined) return;
    const view = accountView(this.ledger.state, record);
    this.index(id, exposedAssets(view, this.ledger.state.config));
    const health = evaluateAccount(view, this.ledger.state.prices, this.ledger.state.config);
    if (!health.ok) return;
    const status: AccountStatus = {
      account: id,
      initialHealthUsd: health.value.initial.healthUsd,
      maintenanceHealthUsd: health.value.maintenance.healthUsd,
      maintenanceRatioWad: health.value.maintenance.ratioWad,
      warning: health.value.warning,
      liquidatable: health.value.liquidatable,
    };
    const before = this.statuses.get(id);
    this.statuses.set(id, status);
    const kind = transition(before, status);
    if (kind !== null) alerts.push({ kind, status });
  }

  private index(id: string, assets: readonly string[]): void {
    for (const asset of this.assetsOf.get(id) ?? []) this.exposure.get(asset)?.delete(id);
    for (const asset of assets) {
      let holders = this.exposure.get(asset);
      if (holders === undefined) {
        holders = new Set();
        this.exposure.set(asset, holders);
      }
      holders.add(id);
    }
    this.assetsOf.set(id, assets);
  }

  private assetMoved(event: LedgerEvent): string | 'all' | null {
    switch (event.type) {
      case 'PriceUpdated':
      case 'InterestAccrued':
        return event.asset;
      case 'FundingUpdated':
        return this.ledger.state.config.markets.get(event.market)?.base ?? 'all';
      case 'ConfigUpdated':
      case 'BadDebtSocialized':
        return 'all';
      default:
        return null;
    }
  }
}

function transition(before: AccountStatus | undefined, after: AccountStatus): AlertKind | null {
  if (after.liquidatable && !before?.liquidatable) return 'liquidatable';
  if (after.warning && !after.liquidatable && !before?.warning) return 'warning';
  if (!after.warning && (before?.warning ?? false)) return 'recovered';
  return null;
}

/** The accounts an event changes directly. */
export function accountsNamed(event: LedgerEvent): string[] {
  switch (event.type) {
    case 'AccountOpened':
    case 'AccountSettled':
    case 'CollateralDeposited':
    case 'CollateralWithdrawn':
      return [event.account];
    case 'Transferred':
      return [event.from, event.to];
    case 'TradeFilled':
      return [event.buyer, event.seller];
    case 'PositionLiquidated':
    case 'CollateralSeized':
    case 'InsuranceCovered':
    case 'BadDebtSocialized':
    case 'AuctionStarted':
    case 'LiquidationCompleted':
      return [event.account, event.liquidator];
    case 'PositionDeleveraged':
      return [event.account, event.liquidator, event.step.counterparty];
    case 'AuctionTaken':
      return [event.account, event.taker];
    case 'AuctionEnded':
      return [event.account];
    case 'ConfigUpdated':
    case 'PriceUpdated':
    case 'InterestAccrued':
    case 'FundingUpdated':
    case 'AuctionReset':
      return [];
  }
}
