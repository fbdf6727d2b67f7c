/**
 * The public JSON shape of an account's risk (DESIGN.md, `evaluate` output), shared by the
 * CLI and the HTTP API. USD values, prices, weights and ratios are 18-decimal strings;
 * amounts are whole units of their asset.
 */
import type { Account } from './account.ts';
import type { LevelWeights, RiskConfig } from './config.ts';
import { formatDecimal, formatWad } from './fixed.ts';
import { sortedEntries } from './order.ts';
import type { Contribution, ExplainedHealth, LevelContribution, LevelHealth } from './health.ts';
import type { LiquidationPrice } from './liquidation-price.ts';

export interface LevelHealthJson {
  readonly assets: string;
  readonly liabilities: string;
  readonly health: string;
  readonly ratio: string | null;
}

export interface AccountRiskJson {
  readonly id: string;
  readonly initial: LevelHealthJson;
  readonly maintenance: LevelHealthJson;
  readonly liquidatable: boolean;
  readonly warning: boolean;
  readonly breakdown: readonly unknown[];
  readonly liquidationPrices: readonly unknown[] | null;
}

export function presentAccountRisk(
  account: Account,
  health: ExplainedHealth,
  liquidationPrices: readonly LiquidationPrice[] | null,
  config: RiskConfig,
): AccountRiskJson {
  return {
    id: account.id,
    initial: presentLevel(health.initial),
    maintenance: presentLevel(health.maintenance),
    liquidatable: health.liquidatable,
    warning: health.warning,
    breakdown: health.breakdown.map((contribution) => presentContribution(contribution, config)),
    liquidationPrices:
      liquidationPrices?.map((entry) => ({
        asset: entry.asset,
        current: formatWad(entry.currentPriceWad),
        down: entry.downWad === null ? null : formatWad(entry.downWad),
        up: entry.upWad === null ? null : formatWad(entry.upWad),
      })) ?? null,
  };
}

export function presentLevel(level: LevelHealth): LevelHealthJson {
  return {
    assets: formatWad(level.assetsUsd),
    liabilities: formatWad(level.liabilitiesUsd),
    health: formatWad(level.healthUsd),
    ratio: level.ratioWad === null ? null : formatWad(level.ratioWad),
  };
}

/** Balances as whole-unit strings by asset. */
export function presentBalances(account: Account, config: RiskConfig): Record<string, string> {
  const balances: Record<string, string> = {};
  for (const [asset, amount] of sortedEntries(account.balances)) {
    balances[asset] = formatAmount(amount, asset, config);
  }
  return balances;
}

export function formatAmount(amount: bigint, asset: string, config: RiskConfig): string {
  return formatDecimal(amount, config.assets.get(asset)?.decimals ?? 0);
}

function presentContribution(contribution: Contribution, config: RiskConfig): Record<string, unknown> {
  const levels = { initial: presentSides(contribution.initial), maintenance: presentSides(contribution.maintenance) };
  if (contribution.kind === 'balance') {
    return {
      kind: 'balance',
      asset: contribution.asset,
      amount: formatAmount(contribution.amount, contribution.asset, config),
      side: contribution.amount > 0n ? 'collateral' : 'liability',
      price: formatWad(contribution.priceWad),
      initialPrice: formatWad(contribution.initialPriceWad),
      weight: presentWeights(contribution.weight),
      ...levels,
    };
  }
  const base = config.markets.get(contribution.market)?.base ?? '';
  return {
    kind: 'perp',
    market: contribution.market,
    size: formatAmount(contribution.size, base, config),
    entryPrice: formatWad(contribution.entryPriceWad),
    markPrice: formatWad(contribution.markPriceWad),
    unrealizedPnl: formatWad(contribution.unrealizedPnlUsd),
    marginFraction: presentWeights(contribution.marginFraction),
    ...levels,
  };
}

function presentSides(part: LevelContribution): { assets: string; liabilities: string } {
  return { assets: formatWad(part.assetsUsd), liabilities: formatWad(part.liabilitiesUsd) };
}

function presentWeights(weights: LevelWeights): { initial: string; maintenance: string } {
  return { initial: formatWad(weights.initialWad), maintenance: formatWad(weights.maintenanceWad) };
}
