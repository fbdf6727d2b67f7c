/**
 * Valuation and margin: the risk model of DESIGN.md.
 *
 *   assets_L      = Σ positive balances  amount × price_low  × assetWeight_L
 *                 + Σ perps with positive PnL: pnl × pnlWeight_L
 *   liabilities_L = Σ negative balances |amount| × price_high × liabilityWeight_L
 *                 + Σ perps with negative PnL: |pnl|
 *                 + Σ perps |size| × mark × marginFraction_L(|size|)
 *   health_L = assets_L − liabilities_L;  ratio_L = assets_L / liabilities_L
 *
 * Each contribution is rounded once, against the account: what it holds down, what it owes
 * up. A sum of floors is at most the floor of the sum, so totals keep that direction.
 */
import type { Account, PerpPosition } from './account.ts';
import { atLevel, type Level, type LevelWeights, type MarketConfig, type RiskConfig } from './config.ts';
import { abs, divDown, divUp, max, mulDivUp, sqrtUp, WAD } from './fixed.ts';
import { priceHigh, priceLow, type PriceBook } from './prices.ts';
import { err, ok, type Result } from './result.ts';

/** What one balance or position adds to each side at one level (USD wads). */
export interface LevelContribution {
  readonly assetsUsd: bigint;
  readonly liabilitiesUsd: bigint;
}

export interface BalanceContribution {
  readonly kind: 'balance';
  readonly asset: string;
  /** Base units; negative = borrowed. */
  readonly amount: bigint;
  /** The price applied: price − confidence for holdings, price + confidence for debts. */
  readonly priceWad: bigint;
  /** Collateral or liability weight per level; zero for an asset not accepted as collateral. */
  readonly weight: LevelWeights;
  readonly initial: LevelContribution;
  readonly maintenance: LevelContribution;
}

export interface PerpContribution {
  readonly kind: 'perp';
  readonly market: string;
  readonly size: bigint;
  readonly entryPriceWad: bigint;
  readonly markPriceWad: bigint;
  /** size × (mark − entry), rounded down. */
  readonly unrealizedPnlUsd: bigint;
  /** Margin fraction per level after size scaling. */
  readonly marginFraction: LevelWeights;
  readonly initial: LevelContribution;
  readonly maintenance: LevelContribution;
}

export type Contribution = BalanceContribution | PerpContribution;

export interface LevelHealth {
  readonly assetsUsd: bigint;
  readonly liabilitiesUsd: bigint;
  readonly healthUsd: bigint;
  /** assets / liabilities rounded down; `null` when there are no liabilities (unbounded). */
  readonly ratioWad: bigint | null;
}

export interface AccountHealth {
  readonly initial: LevelHealth;
  readonly maintenance: LevelHealth;
  /** Maintenance health below zero. */
  readonly liquidatable: boolean;
  /** Maintenance ratio below the configured warning ratio. */
  readonly warning: boolean;
  readonly breakdown: readonly Contribution[];
}

export type ValuationError =
  | { readonly code: 'UNKNOWN_ASSET'; readonly asset: string }
  | { readonly code: 'UNKNOWN_MARKET'; readonly market: string }
  | { readonly code: 'PRICE_UNAVAILABLE'; readonly asset: string };

const NO_WEIGHT: LevelWeights = { initialWad: 0n, maintenanceWad: 0n };
/** A debt in an asset that cannot be borrowed (bad debt, say) still counts in full. */
const UNIT_WEIGHT: LevelWeights = { initialWad: WAD, maintenanceWad: WAD };

/** Values an account at both margin levels with its full breakdown. */
export function evaluateAccount(
  account: Account,
  prices: PriceBook,
  config: RiskConfig,
): Result<AccountHealth, ValuationError> {
  const breakdown: Contribution[] = [];
  for (const [asset, amount] of account.balances) {
    if (amount === 0n) continue;
    const contribution = balanceContribution(asset, amount, prices, config);
    if (!contribution.ok) return contribution;
    breakdown.push(contribution.value);
  }
  for (const position of account.perps.values()) {
    if (position.size === 0n) continue;
    const contribution = perpContribution(position, prices, config);
    if (!contribution.ok) return contribution;
    breakdown.push(contribution.value);
  }
  const initial = levelHealth(breakdown, 'initial');
  const maintenance = levelHealth(breakdown, 'maintenance');
  return ok({
    initial,
    maintenance,
    liquidatable: maintenance.healthUsd < 0n,
    warning: isBelowRatio(maintenance, config.warningRatioWad),
    breakdown,
  });
}

/** assets / liabilities < ratio, by cross-multiplication (no division, no rounding). */
export function isBelowRatio(level: LevelHealth, ratioWad: bigint): boolean {
  return level.liabilitiesUsd > 0n && level.assetsUsd * WAD < ratioWad * level.liabilitiesUsd;
}

function balanceContribution(
  asset: string,
  amount: bigint,
  prices: PriceBook,
  config: RiskConfig,
): Result<BalanceContribution, ValuationError> {
  const assetConfig = config.assets.get(asset);
  if (assetConfig === undefined) return err({ code: 'UNKNOWN_ASSET', asset });
  const price = prices.get(asset);
  if (price === undefined) return err({ code: 'PRICE_UNAVAILABLE', asset });
  const scale = assetConfig.unit * WAD;
  if (amount > 0n) {
    const priceWad = priceLow(price);
    const weight = assetConfig.collateral ?? NO_WEIGHT;
    const valueScaled = amount * priceWad;
    return ok({
      kind: 'balance',
      asset,
      amount,
      priceWad,
      weight,
      initial: { assetsUsd: divDown(valueScaled * weight.initialWad, scale), liabilitiesUsd: 0n },
      maintenance: { assetsUsd: divDown(valueScaled * weight.maintenanceWad, scale), liabilitiesUsd: 0n },
    });
  }
  const priceWad = priceHigh(price);
  const weight = assetConfig.liability ?? UNIT_WEIGHT;
  const debtScaled = -amount * priceWad;
  return ok({
    kind: 'balance',
    asset,
    amount,
    priceWad,
    weight,
    initial: { assetsUsd: 0n, liabilitiesUsd: divUp(debtScaled * weight.initialWad, scale) },
    maintenance: { assetsUsd: 0n, liabilitiesUsd: divUp(debtScaled * weight.maintenanceWad, scale) },
  });
}

function perpContribution(
  position: PerpPosition,
  prices: PriceBook,
  config: RiskConfig,
): Result<PerpContribution, ValuationError> {
  const market = config.markets.get(position.market);
  if (market === undefined) return err({ code: 'UNKNOWN_MARKET', market: position.market });
  const base = config.assets.get(market.base);
  if (base === undefined) return err({ code: 'UNKNOWN_ASSET', asset: market.base });
  const price = prices.get(market.base);
  if (price === undefined) return err({ code: 'PRICE_UNAVAILABLE', asset: market.base });

  const markPriceWad = price.priceWad;
  const pnlScaled = position.size * (markPriceWad - position.entryPriceWad);
  const notionalScaled = abs(position.size) * markPriceWad;
  const marginFraction = scaledMarginFractions(market, divUp(notionalScaled, base.unit));
  const level = (name: Level): LevelContribution => {
    const requirementUsd = divUp(notionalScaled * atLevel(marginFraction, name), base.unit * WAD);
    if (pnlScaled >= 0n) {
      const pnlUsd = divDown(pnlScaled * atLevel(market.positivePnlWeight, name), base.unit * WAD);
      return { assetsUsd: pnlUsd, liabilitiesUsd: requirementUsd };
    }
    return { assetsUsd: 0n, liabilitiesUsd: divUp(-pnlScaled, base.unit) + requirementUsd };
  };
  return ok({
    kind: 'perp',
    market: market.id,
    size: position.size,
    entryPriceWad: position.entryPriceWad,
    markPriceWad,
    unrealizedPnlUsd: divDown(pnlScaled, base.unit),
    marginFraction,
    initial: level('initial'),
    maintenance: level('maintenance'),
  });
}

/**
 * marginFraction_L = max(base_L, factor × √notional), notional in whole USD. The root and
 * the product round up: a requirement is owed.
 */
export function scaledMarginFractions(market: MarketConfig, notionalUsd: bigint): LevelWeights {
  if (market.sizeScalingFactorWad === 0n) return market.marginFraction;
  const rootWad = sqrtUp(notionalUsd * WAD);
  const scaledWad = mulDivUp(market.sizeScalingFactorWad, rootWad, WAD);
  return {
    initialWad: max(market.marginFraction.initialWad, scaledWad),
    maintenanceWad: max(market.marginFraction.maintenanceWad, scaledWad),
  };
}

function levelHealth(breakdown: readonly Contribution[], level: Level): LevelHealth {
  let assetsUsd = 0n;
  let liabilitiesUsd = 0n;
  for (const contribution of breakdown) {
    const part = contribution[level];
    assetsUsd += part.assetsUsd;
    liabilitiesUsd += part.liabilitiesUsd;
  }
  return {
    assetsUsd,
    liabilitiesUsd,
    healthUsd: assetsUsd - liabilitiesUsd,
    ratioWad: liabilitiesUsd === 0n ? null : divDown(assetsUsd * WAD, liabilitiesUsd),
  };
}
