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
import type { AssetConfig, Level, LevelWeights, MarketConfig, RiskConfig } from './config.ts';
import { abs, divDown, divUp, max, mulDivUp, sqrtUp, WAD } from './fixed.ts';
import { markPrice, priceHigh, priceLow, type Price, type PriceBook } from './prices.ts';
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
  /** The maintenance price applied: price − confidence for holdings, price + confidence for debts. */
  readonly priceWad: bigint;
  /** The initial price applied: as above from the less favourable of spot and stable price. */
  readonly initialPriceWad: bigint;
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

/**
 * Values an account at both margin levels with its full breakdown.
 *
 * Each balance and position first passes its guards (known asset or market, a price), in
 * the order of the error codes; past them its valuation cannot fail.
 */
export function evaluateAccount(
  account: Account,
  prices: PriceBook,
  config: RiskConfig,
): Result<AccountHealth, ValuationError> {
  const breakdown: Contribution[] = [];
  for (const [asset, amount] of account.balances) {
    if (amount === 0n) continue;
    const assetConfig = config.assets.get(asset);
    if (assetConfig === undefined) return err({ code: 'UNKNOWN_ASSET', asset });
    const price = prices.get(asset);
    if (price === undefined) return err({ code: 'PRICE_UNAVAILABLE', asset });
    breakdown.push(balanceContribution(asset, amount, price, assetConfig));
  }
  for (const position of account.perps.values()) {
    if (position.size === 0n) continue;
    const market = config.markets.get(position.market);
    if (market === undefined) return err({ code: 'UNKNOWN_MARKET', market: position.market });
    const base = config.assets.get(market.base);
    if (base === undefined) return err({ code: 'UNKNOWN_ASSET', asset: market.base });
    const price = prices.get(market.base);
    if (price === undefined) return err({ code: 'PRICE_UNAVAILABLE', asset: market.base });
    breakdown.push(perpContribution(position, market, base, price));
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

/**
 * A holding at price − confidence times its collateral weight, rounded down; a debt at
 * price + confidence times its liability weight, rounded up.
 */
function balanceContribution(
  asset: string,
  amount: bigint,
  price: Price,
  assetConfig: AssetConfig,
): BalanceContribution {
  const scale = assetConfig.unit * WAD;
  if (amount > 0n) {
    const weight = assetConfig.collateral ?? NO_WEIGHT;
    const initialPriceWad = priceLow(price, 'initial');
    const priceWad = priceLow(price, 'maintenance');
    const valueScaled = amount * priceWad;
    const initialValueScaled = initialPriceWad === priceWad ? valueScaled : amount * initialPriceWad;
    return {
      kind: 'balance',
      asset,
      amount,
      priceWad,
      initialPriceWad,
      weight,
      initial: { assetsUsd: divDown(initialValueScaled * weight.initialWad, scale), liabilitiesUsd: 0n },
      maintenance: { assetsUsd: divDown(valueScaled * weight.maintenanceWad, scale), liabilitiesUsd: 0n },
    };
  }
  const weight = assetConfig.liability ?? UNIT_WEIGHT;
  const initialPriceWad = priceHigh(price, 'initial');
  const priceWad = priceHigh(price, 'maintenance');
  const debtScaled = -amount * priceWad;
  const initialDebtScaled = initialPriceWad === priceWad ? debtScaled : -amount * initialPriceWad;
  return {
    kind: 'balance',
    asset,
    amount,
    priceWad,
    initialPriceWad,
    weight,
    initial: { assetsUsd: 0n, liabilitiesUsd: divUp(initialDebtScaled * weight.initialWad, scale) },
    maintenance: { assetsUsd: 0n, liabilitiesUsd: divUp(debtScaled * weight.maintenanceWad, scale) },
  };
}

/** A perp position's exact products, before any rounding: base units × price wad. */
interface PerpScaled {
  /** size × (mark − entry). */
  readonly pnlScaled: bigint;
  /** |size| × mark. */
  readonly notionalScaled: bigint;
  /** The base asset's unit (base units per whole unit). */
  readonly unit: bigint;
  /** unit × WAD: divides a product with one more wad factor down to USD wads. */
  readonly unitWad: bigint;
  /** |pnl| rounded up when the position loses; zero otherwise. */
  readonly lossUsd: bigint;
}

function perpContribution(
  position: PerpPosition,
  market: MarketConfig,
  base: AssetConfig,
  price: Price,
): PerpContribution {
  const markPriceWad = markPrice(price);
  const pnlScaled = position.size * (markPriceWad - position.entryPriceWad);
  const scaled: PerpScaled = {
    pnlScaled,
    notionalScaled: abs(position.size) * markPriceWad,
    unit: base.unit,
    unitWad: base.unit * WAD,
    lossUsd: pnlScaled < 0n ? divUp(-pnlScaled, base.unit) : 0n,
  };
  const marginFraction = perpMarginFractions(market, scaled);
  return {
    kind: 'perp',
    market: market.id,
    size: position.size,
    entryPriceWad: position.entryPriceWad,
    markPriceWad,
    unrealizedPnlUsd: divDown(pnlScaled, base.unit),
    marginFraction,
    initial: perpLevel(scaled, marginFraction.initialWad, market.positivePnlWeight.initialWad),
    maintenance: perpLevel(scaled, marginFraction.maintenanceWad, market.positivePnlWeight.maintenanceWad),
  };
}

/**
 * One level of a perp: the margin requirement |size| × mark × fraction (up) is owed; a
 * gain counts as assets at its PnL weight (down), a loss is owed in full (up).
 */
function perpLevel(scaled: PerpScaled, marginFractionWad: bigint, pnlWeightWad: bigint): LevelContribution {
  const requirementUsd = divUp(scaled.notionalScaled * marginFractionWad, scaled.unitWad);
  if (scaled.pnlScaled >= 0n) {
    return { assetsUsd: divDown(scaled.pnlScaled * pnlWeightWad, scaled.unitWad), liabilitiesUsd: requirementUsd };
  }
  return { assetsUsd: 0n, liabilitiesUsd: scaled.lossUsd + requirementUsd };
}

/** The market's margin fractions; the notional (up) is only needed when size scaling is on. */
function perpMarginFractions(market: MarketConfig, scaled: PerpScaled): LevelWeights {
  if (market.sizeScalingFactorWad === 0n) return market.marginFraction;
  return scaledMarginFractions(market, divUp(scaled.notionalScaled, scaled.unit));
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
