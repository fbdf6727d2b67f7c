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
 * Rounding. Every term is an exact fraction numerator / (unit × WAD), where unit = 10^decimals
 * of the asset (or the perp's base asset). `evaluateAccount` brings the terms of one side and
 * level over the account's largest unit (multiplying each numerator by a power of ten, which
 * is exact) and rounds each side's sum once, against the account: assets_L is the floor of
 * the exact sum of what the account holds, liabilities_L the ceiling of the exact sum of what
 * it owes. So each total is within one wei of exact arithmetic, and the only other rounding in
 * a total is the size-scaled margin fraction (its root and product round up, per position).
 *
 * The breakdown (`explainAccount`) rounds each contribution on its own, the same way (a
 * holding down, a debt, a loss and a requirement up). Its parts therefore need not add up to
 * the totals to the wei: at each level their assets sum to at most assets_L, their
 * liabilities to at least liabilities_L, each by less than one wei per rounded part.
 */
import type { Account, PerpPosition } from './account.ts';
import type { AssetConfig, LevelWeights, MarketConfig, RiskConfig } from './config.ts';
import { abs, divDown, divDownPow10, divUp, divUpPow10, max, min, mulDivUp, pow10, sqrtUp, WAD, WAD_DECIMALS } from './fixed.ts';
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
}

/** An account's health with what each balance and position adds to it (`explainAccount`). */
export interface ExplainedHealth extends AccountHealth {
  /** Each part rounded on its own: the parts may miss the totals by a few wei (file comment). */
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
 * Values an account at both margin levels: the totals only, each side of each level rounded
 * once (file comment). This is the valuation every decision uses; `explainAccount` adds the
 * breakdown for display.
 *
 * Each balance and position first passes its guards (known asset or market, a price), in
 * the order of the error codes; past them its valuation cannot fail.
 */
export function evaluateAccount(
  account: Account,
  prices: PriceBook,
  config: RiskConfig,
): Result<AccountHealth, ValuationError> {
  // The exact numerators of the four totals over 10^decimals × WAD, `decimals` the most of any
  // asset in the configuration: a term of an asset with fewer decimals is multiplied up by
  // `scale`. (Plain locals: this is the hottest loop of the engine, and an accumulator object
  // made it measurably slower.)
  const decimals = maxDecimalsOf(config);
  let initialAssets = 0n;
  let initialLiabilities = 0n;
  let maintenanceAssets = 0n;
  let maintenanceLiabilities = 0n;

  for (const [asset, amount] of account.balances) {
    if (amount === 0n) continue;
    const assetConfig = config.assets.get(asset);
    if (assetConfig === undefined) return err({ code: 'UNKNOWN_ASSET', asset });
    const price = prices.get(asset);
    if (price === undefined) return err({ code: 'PRICE_UNAVAILABLE', asset });

    const scale = pow10(decimals - assetConfig.decimals);
    if (amount > 0n) {
      // a holding at price − confidence times its collateral weight
      const weight = assetConfig.collateral;
      if (weight === undefined) continue;
      const value = scaled(amount * priceLow(price, 'maintenance'), scale);
      // without a stable price the initial price is the spot one
      const initialValue = price.stablePriceWad === undefined ? value : scaled(amount * priceLow(price, 'initial'), scale);
      initialAssets += initialValue * weight.initialWad;
      maintenanceAssets += value * weight.maintenanceWad;
    } else {
      // a debt at price + confidence times its liability weight (amount < 0: subtracted)
      const weight = assetConfig.liability ?? UNIT_WEIGHT;
      const debt = scaled(amount * priceHigh(price, 'maintenance'), scale);
      const initialDebt = price.stablePriceWad === undefined ? debt : scaled(amount * priceHigh(price, 'initial'), scale);
      initialLiabilities -= initialDebt * weight.initialWad;
      maintenanceLiabilities -= debt * weight.maintenanceWad;
    }
  }

  for (const position of account.perps.values()) {
    if (position.size === 0n) continue;
    const market = config.markets.get(position.market);
    if (market === undefined) return err({ code: 'UNKNOWN_MARKET', market: position.market });
    const base = config.assets.get(market.base);
    if (base === undefined) return err({ code: 'UNKNOWN_ASSET', asset: market.base });
    const price = prices.get(market.base);
    if (price === undefined) return err({ code: 'PRICE_UNAVAILABLE', asset: market.base });

    const scale = pow10(decimals - base.decimals);
    // the requirement |size| × mark × fraction is owed; a gain counts at its PnL weight, a loss in full
    const markPriceWad = markPrice(price);
    const size = position.size;
    const notionalScaled = abs(size) * markPriceWad;
    const fraction = perpMarginFractions(market, notionalScaled, base.unit);
    const notional = scaled(notionalScaled, scale);
    const pnl = scaled(size * (markPriceWad - position.entryPriceWad), scale);
    initialLiabilities += notional * fraction.initialWad;
    maintenanceLiabilities += notional * fraction.maintenanceWad;
    if (pnl > 0n) {
      initialAssets += pnl * market.positivePnlWeight.initialWad;
      maintenanceAssets += pnl * market.positivePnlWeight.maintenanceWad;
    } else if (pnl < 0n) {
      const loss = pnl * WAD;
      initialLiabilities -= loss;
      maintenanceLiabilities -= loss;
    }
  }

  // Each side of each level rounded once, against the account: held down, owed up.
  const exponent = decimals + WAD_DECIMALS;
  const initial = levelHealth(divDownPow10(initialAssets, exponent), divUpPow10(initialLiabilities, exponent));
  const maintenance = levelHealth(
    divDownPow10(maintenanceAssets, exponent),
    divUpPow10(maintenanceLiabilities, exponent),
  );
  return ok({
    initial,
    maintenance,
    liquidatable: maintenance.healthUsd < 0n,
    // ⌊x⌋ < r ⇔ x < r for a whole r: the same answer as isBelowRatio, without its products
    warning: maintenance.ratioWad !== null && maintenance.ratioWad < config.warningRatioWad,
  });
}

/** The most decimals of any asset: the common denominator's, made once per configuration. */
const maxDecimals = new WeakMap<RiskConfig, number>();

function maxDecimalsOf(config: RiskConfig): number {
  let decimals = maxDecimals.get(config);
  if (decimals === undefined) {
    decimals = 0;
    for (const asset of config.assets.values()) if (asset.decimals > decimals) decimals = asset.decimals;
    maxDecimals.set(config, decimals);
  }
  return decimals;
}

/** value × scale, skipping the product when the scale is one. */
function scaled(value: bigint, scale: bigint): bigint {
  return scale === 1n ? value : value * scale;
}

/**
 * `evaluateAccount` with the breakdown: what each non-zero balance and position adds at each
 * level, each rounded on its own (so the parts may miss the totals by a few wei), in the
 * account's order, balances first.
 */
export function explainAccount(
  account: Account,
  prices: PriceBook,
  config: RiskConfig,
): Result<ExplainedHealth, ValuationError> {
  const health = evaluateAccount(account, prices, config);
  if (!health.ok) return health;
  // Past evaluateAccount every guard holds: the lookups below cannot miss.
  const breakdown: Contribution[] = [];
  for (const [asset, amount] of account.balances) {
    if (amount === 0n) continue;
    breakdown.push(balanceContribution(asset, amount, found(prices.get(asset), asset), found(config.assets.get(asset), asset)));
  }
  for (const position of account.perps.values()) {
    if (position.size === 0n) continue;
    const market = found(config.markets.get(position.market), position.market);
    const base = found(config.assets.get(market.base), market.base);
    breakdown.push(perpContribution(position, market, base, found(prices.get(market.base), market.base)));
  }
  return ok({ ...health.value, breakdown });
}

/** A lookup that evaluateAccount's guards have already proved present. */
function found<T>(value: T | undefined, id: string): T {
  if (value === undefined) throw new Error(`explainAccount: ${id} passed the valuation guards but is missing`);
  return value;
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
    unitWad: base.unit * WAD,
    lossUsd: pnlScaled < 0n ? divUp(-pnlScaled, base.unit) : 0n,
  };
  const marginFraction = perpMarginFractions(market, scaled.notionalScaled, base.unit);
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

/**
 * The market's margin fractions for a position of notional |size| × mark (base units × wad);
 * the notional in USD (up) is only needed when size scaling is on.
 */
function perpMarginFractions(market: MarketConfig, notionalScaled: bigint, unit: bigint): LevelWeights {
  if (market.sizeScalingFactorWad === 0n || notionalScaled <= baseFractionsLimit(market, unit)) return market.marginFraction;
  return scaledMarginFractions(market, divUp(notionalScaled, unit));
}

/** Per market, the limit below; a market's configuration is immutable, so it is made once. */
const baseFractionsLimits = new WeakMap<MarketConfig, bigint>();

/**
 * The largest |size| × mark (base units × price wad) at which the base fractions still bind:
 * scaledMarginFractions returns them while ⌈ns / unit⌉ × WAD ≤ rootMax², that is while
 * ns ≤ ⌊rootMax² / WAD⌋ × unit — no root and no division per position below it.
 */
function baseFractionsLimit(market: MarketConfig, unit: bigint): bigint {
  let limit = baseFractionsLimits.get(market);
  if (limit === undefined) {
    const rootMax = baseFractionsRootMax(market);
    limit = divDown(rootMax * rootMax, WAD) * unit;
    baseFractionsLimits.set(market, limit);
  }
  return limit;
}

/** √(notional × WAD) up to which factor × root stays within both base fractions. */
function baseFractionsRootMax(market: MarketConfig): bigint {
  const { initialWad, maintenanceWad } = market.marginFraction;
  return divDown(min(initialWad, maintenanceWad) * WAD, market.sizeScalingFactorWad);
}

/**
 * marginFraction_L = max(base_L, factor × √notional), notional in USD (a wad). The root and
 * the product round up: a requirement is owed.
 *
 * The rounded-up factor × √notional is at most a base fraction b exactly when
 * ⌈√(notional × WAD)⌉ ≤ t = ⌊b × WAD / factor⌋, i.e. when notional × WAD ≤ t². Below that
 * bound for the smaller base fraction both levels keep their base, and the root is skipped:
 * the answer is the same as with it, only cheaper (most positions are below it).
 */
export function scaledMarginFractions(market: MarketConfig, notionalUsd: bigint): LevelWeights {
  const factorWad = market.sizeScalingFactorWad;
  if (factorWad === 0n) return market.marginFraction;
  const { initialWad, maintenanceWad } = market.marginFraction;
  const radicand = notionalUsd * WAD;
  const rootMax = baseFractionsRootMax(market);
  if (radicand <= rootMax * rootMax) return market.marginFraction;
  const scaledWad = mulDivUp(factorWad, sqrtUp(radicand), WAD);
  return { initialWad: max(initialWad, scaledWad), maintenanceWad: max(maintenanceWad, scaledWad) };
}

/** Totals of one level: health and the ratio (rounded down) follow from the two sides. */
function levelHealth(assetsUsd: bigint, liabilitiesUsd: bigint): LevelHealth {
  return {
    assetsUsd,
    liabilitiesUsd,
    healthUsd: assetsUsd - liabilitiesUsd,
    // both sides are ≥ 0, so truncation is the floor
    ratioWad: liabilitiesUsd === 0n ? null : (assetsUsd * WAD) / liabilitiesUsd,
  };
}
