/**
 * Risk configuration: the `risk.json` format of DESIGN.md, validated into typed values.
 *
 * Weights, fractions, ratios and penalties are wads (1e18 = 1.0); caps are amounts in the
 * asset's base units. Every rule below is checked, and every violation is reported with
 * the path of its field, all at once.
 */
import { WAD, pow10, WAD_DECIMALS } from './fixed.ts';
import { InputReader, join, type DecimalBounds, type InputIssue } from './input.ts';
import { err, ok, type Result } from './result.ts';

export type Level = 'initial' | 'maintenance';
export const LEVELS: readonly Level[] = ['initial', 'maintenance'];

/** One weight per margin level. */
export interface LevelWeights {
  readonly initialWad: bigint;
  readonly maintenanceWad: bigint;
}

export interface AssetConfig {
  readonly id: string;
  readonly decimals: number;
  /** 10^decimals: base units in one whole unit. */
  readonly unit: bigint;
  /** Absent: not accepted as collateral (a positive balance counts for nothing). */
  readonly collateral?: LevelWeights;
  /** Absent: cannot be borrowed. */
  readonly liability?: LevelWeights;
  readonly liquidationPenaltyWad: bigint;
  /** Absent: no cap on the sum of all deposits, in base units. */
  readonly depositCap?: bigint;
  /** Absent: no cap on the sum of all borrows, in base units. */
  readonly borrowCap?: bigint;
  readonly interest: InterestModel;
  /** Present: collateral in this asset is liquidated by Dutch auction, not at a fixed discount. */
  readonly auction?: AuctionConfig;
}

/**
 * A Dutch auction (Maker's clipper): the lot is offered at oracle × startFactor and the price
 * falls with time; takers buy any part; never below oracle × floorFactor; the auction must be
 * reset when older than resetAfterMs or when its price has fallen below oracle × resetBelowFactor.
 */
export interface AuctionConfig {
  readonly startFactorWad: bigint;
  readonly curve:
    | { readonly kind: 'linear'; readonly durationMs: number }
    | { readonly kind: 'exponential'; readonly stepMs: number; readonly stepFactorWad: bigint };
  readonly floorFactorWad: bigint;
  readonly resetAfterMs: number;
  readonly resetBelowFactorWad: bigint;
}

/**
 * Utilisation-based interest with a kink (annual rates, wads):
 * borrowRate = base + slopeBelow × min(U, optimal) / optimal
 *                   + slopeAbove × max(0, U − optimal) / (1 − optimal).
 * Lenders earn borrowRate × U × (1 − reserveFactor); the reserve share goes to the fee pool.
 */
export interface InterestModel {
  readonly baseRateWad: bigint;
  readonly optimalUtilizationWad: bigint;
  readonly slopeBelowWad: bigint;
  readonly slopeAboveWad: bigint;
  readonly reserveFactorWad: bigint;
}

/** No interest: an asset without an `interest` section. */
export const NO_INTEREST: InterestModel = {
  baseRateWad: 0n,
  optimalUtilizationWad: (WAD * 8n) / 10n,
  slopeBelowWad: 0n,
  slopeAboveWad: 0n,
  reserveFactorWad: 0n,
};

export interface MarketConfig {
  readonly id: string;
  readonly base: string;
  readonly marginFraction: LevelWeights;
  /**
   * Size-scaled margin: marginFraction_L = max(base_L, factor × √(|size| × price)), with the
   * notional in whole USD. Zero turns scaling off.
   */
  readonly sizeScalingFactorWad: bigint;
  /** Weight of positive unrealised PnL per level, in [0, 1]. */
  readonly positivePnlWeight: LevelWeights;
  /** Fee a liquidated position pays on the notional taken over (default: the base asset's penalty). */
  readonly liquidationFeeWad: bigint;
}

/** Where a liquidation stops: initial health ≥ 0 (default), or a maintenance ratio (Mango's "liquidation end"). */
export type LiquidationTarget =
  | { readonly kind: 'initial' }
  | { readonly kind: 'maintenanceRatio'; readonly ratioWad: bigint };

export interface LiquidationConfig {
  readonly target: LiquidationTarget;
  /** A remainder (of a position or a debt) worth less than this is closed whole, USD wad. */
  readonly dustUsd: bigint;
  /** Largest share of any one position or debt a single liquidation may take (close factor). */
  readonly maxShareWad: bigint;
  /** Share of every liquidation penalty that goes to the insurance fund; the rest to the liquidator. */
  readonly insuranceShareWad: bigint;
  /** Cascade control: liquidated notional per market (or collateral asset) per window. */
  readonly windowMs: number;
  /** Absent: no cap. */
  readonly notionalCapPerWindowUsd?: bigint;
}

export const DEFAULT_LIQUIDATION: LiquidationConfig = {
  target: { kind: 'initial' },
  dustUsd: WAD,
  maxShareWad: WAD,
  insuranceShareWad: WAD / 2n,
  windowMs: 60_000,
};

export interface RiskConfig {
  readonly quote: string;
  readonly liquidation: LiquidationConfig;
  /** Warning (margin call) when the maintenance ratio is below this; ≥ 1. */
  readonly warningRatioWad: bigint;
  readonly assets: ReadonlyMap<string, AssetConfig>;
  readonly markets: ReadonlyMap<string, MarketConfig>;
}

export const DEFAULT_WARNING_RATIO_WAD = (WAD * 11n) / 10n;
const DECIMALS_RANGE = { min: 0, max: 36 } as const;

const TOP_FIELDS = ['quote', 'warningRatio', 'liquidation', 'assets', 'markets'] as const;
const LIQUIDATION_FIELDS = [
  'targetMaintenanceRatio',
  'dustUsd',
  'maxShare',
  'insuranceShare',
  'windowMs',
  'notionalCapPerWindowUsd',
];
const ASSET_FIELDS = [
  'id',
  'decimals',
  'collateral',
  'liability',
  'liquidationPenalty',
  'depositCap',
  'borrowCap',
  'interest',
  'auction',
];
const AUCTION_FIELDS = [
  'startFactor',
  'curve',
  'durationMs',
  'stepMs',
  'stepFactor',
  'floorFactor',
  'resetAfterMs',
  'resetBelowFactor',
];
const DURATION_RANGE = { min: 1, max: 7 * 86_400_000 } as const;
const INTEREST_FIELDS = ['baseRate', 'optimalUtilization', 'slopeBelow', 'slopeAbove', 'reserveFactor'];
const WEIGHT_FIELDS = ['initialWeight', 'maintenanceWeight'];
const MARKET_FIELDS = [
  'id',
  'base',
  'initialMarginFraction',
  'maintenanceMarginFraction',
  'sizeScalingFactor',
  'positivePnlWeight',
  'liquidationFee',
];
const PNL_WEIGHT_FIELDS = ['initial', 'maintenance'];

const ZERO_TO_ONE = { min: 0n, max: WAD, text: '[0, 1]' };
const ABOVE_ZERO_TO_ONE = { min: 0n, minExclusive: true, max: WAD, text: '(0, 1]' };
const OPEN_ZERO_ONE = { min: 0n, minExclusive: true, max: WAD, maxExclusive: true, text: '(0, 1)' };
const ONE_OR_MORE = { min: WAD, text: '[1, ∞)' };
const PENALTY_RANGE = { min: 0n, max: WAD / 2n, maxExclusive: true, text: '[0, 0.5)' };
const NON_NEGATIVE = { min: 0n, text: '[0, ∞)' };
const ZERO_TO_ONE_OPEN = { min: 0n, max: WAD, maxExclusive: true, text: '[0, 1)' };

/** Validates a parsed `risk.json`. Returns every issue found, or the typed configuration. */
export function parseRiskConfig(json: unknown): Result<RiskConfig, readonly InputIssue[]> {
  const reader = new InputReader();
  const top = reader.object(json, '', TOP_FIELDS);
  if (top === undefined) return err(reader.issues);

  const quote = reader.required(top, 'quote', '', (v) => reader.identifier(v, 'quote'));
  const warningRatioWad =
    reader.optional(top, 'warningRatio', (v) => reader.decimalWithin(v, 'warningRatio', WAD_DECIMALS, ONE_OR_MORE)) ??
    DEFAULT_WARNING_RATIO_WAD;

  const liquidation =
    reader.optional(top, 'liquidation', (v) => readLiquidation(reader, v, 'liquidation')) ?? DEFAULT_LIQUIDATION;

  const assets = new Map<string, AssetConfig>();
  const assetList = reader.required(top, 'assets', '', (v) => reader.array(v, 'assets')) ?? [];
  assetList.forEach((value, index) => {
    const asset = readAsset(reader, value, join('assets', index));
    if (asset === undefined) return;
    if (assets.has(asset.id)) reader.fail(join(join('assets', index), 'id'), `duplicate asset id "${asset.id}"`);
    else assets.set(asset.id, asset);
  });

  const markets = new Map<string, MarketConfig>();
  const marketList = reader.optional(top, 'markets', (v) => reader.array(v, 'markets')) ?? [];
  marketList.forEach((value, index) => {
    const field = join('markets', index);
    const market = readMarket(reader, value, field);
    if (market === undefined) return;
    if (markets.has(market.id) || assets.has(market.id)) {
      reader.fail(join(field, 'id'), `duplicate id "${market.id}" (market ids must differ from each other and from asset ids)`);
    } else {
      const base = assets.get(market.base);
      if (base === undefined) reader.fail(join(field, 'base'), `unknown asset "${market.base}"`);
      else markets.set(market.id, { ...market, liquidationFeeWad: market.liquidationFeeWad ?? base.liquidationPenaltyWad });
    }
  });

  if (reader.issues.length > 0 || quote === undefined) return err(reader.issues);
  if (!assets.has(quote)) assets.set(quote, implicitQuoteAsset(quote));
  return ok({ quote, warningRatioWad, liquidation, assets, markets });
}

/**
 * A quote asset the configuration does not list (as in DESIGN.md's own example) is the unit
 * of account: 18 decimals, counted at full value as collateral and as debt, no interest.
 * List it to give it real weights.
 */
function implicitQuoteAsset(id: string): AssetConfig {
  return {
    id,
    decimals: WAD_DECIMALS,
    unit: WAD,
    collateral: { initialWad: WAD, maintenanceWad: WAD },
    liability: { initialWad: WAD, maintenanceWad: WAD },
    liquidationPenaltyWad: 0n,
    interest: NO_INTEREST,
  };
}

function readAsset(reader: InputReader, value: unknown, field: string): AssetConfig | undefined {
  const record = reader.object(value, field, ASSET_FIELDS);
  if (record === undefined) return undefined;
  const id = reader.required(record, 'id', field, (v) => reader.identifier(v, join(field, 'id')));
  const decimals = reader.required(record, 'decimals', field, (v) =>
    reader.integer(v, join(field, 'decimals'), DECIMALS_RANGE),
  );
  const collateral = reader.optional(record, 'collateral', (v) =>
    readWeights(reader, v, join(field, 'collateral'), 'collateral'),
  );
  const liability = reader.optional(record, 'liability', (v) =>
    readWeights(reader, v, join(field, 'liability'), 'liability'),
  );
  const liquidationPenaltyWad =
    reader.optional(record, 'liquidationPenalty', (v) =>
      reader.decimalWithin(v, join(field, 'liquidationPenalty'), WAD_DECIMALS, PENALTY_RANGE),
    ) ?? 0n;
  if (id === undefined || decimals === undefined) return undefined;
  const depositCap = reader.optional(record, 'depositCap', (v) =>
    reader.decimalWithin(v, join(field, 'depositCap'), decimals, NON_NEGATIVE),
  );
  const borrowCap = reader.optional(record, 'borrowCap', (v) =>
    reader.decimalWithin(v, join(field, 'borrowCap'), decimals, NON_NEGATIVE),
  );
  const interest =
    reader.optional(record, 'interest', (v) => readInterest(reader, v, join(field, 'interest'))) ?? NO_INTEREST;
  const auction = reader.optional(record, 'auction', (v) => readAuction(reader, v, join(field, 'auction')));
  if (borrowCap !== undefined && liability === undefined) {
    reader.fail(join(field, 'borrowCap'), 'a borrow cap needs a "liability" section (the asset is not borrowable)');
  }
  return {
    id,
    decimals,
    unit: pow10(decimals),
    liquidationPenaltyWad,
    interest,
    ...(collateral && { collateral }),
    ...(liability && { liability }),
    ...(depositCap !== undefined && { depositCap }),
    ...(borrowCap !== undefined && { borrowCap }),
    ...(auction !== undefined && { auction }),
  };
}

function readAuction(reader: InputReader, value: unknown, field: string): AuctionConfig | undefined {
  const record = reader.object(value, field, AUCTION_FIELDS);
  if (record === undefined) return undefined;
  const factor = (key: string, bounds: DecimalBounds): bigint | undefined =>
    reader.required(record, key, field, (v) => reader.decimalWithin(v, join(field, key), WAD_DECIMALS, bounds));
  const duration = (key: string): number | undefined =>
    reader.required(record, key, field, (v) => reader.integer(v, join(field, key), DURATION_RANGE));
  const startFactorWad = factor('startFactor', ONE_OR_MORE);
  const floorFactorWad = factor('floorFactor', ABOVE_ZERO_TO_ONE);
  const resetBelowFactorWad = factor('resetBelowFactor', ABOVE_ZERO_TO_ONE);
  const resetAfterMs = duration('resetAfterMs');
  const curveKind = reader.required(record, 'curve', field, (v) =>
    v === 'linear' || v === 'exponential' ? v : reader.fail(join(field, 'curve'), 'must be "linear" or "exponential"'),
  );
  let curve: AuctionConfig['curve'] | undefined;
  if (curveKind === 'linear') {
    const durationMs = duration('durationMs');
    if (durationMs !== undefined) curve = { kind: 'linear', durationMs };
  } else if (curveKind === 'exponential') {
    const stepMs = duration('stepMs');
    const stepFactorWad = factor('stepFactor', OPEN_ZERO_ONE);
    if (stepMs !== undefined && stepFactorWad !== undefined) curve = { kind: 'exponential', stepMs, stepFactorWad };
  }
  if (
    startFactorWad === undefined ||
    floorFactorWad === undefined ||
    resetBelowFactorWad === undefined ||
    resetAfterMs === undefined ||
    curve === undefined
  ) {
    return undefined;
  }
  if (resetBelowFactorWad < floorFactorWad) {
    return reader.fail(join(field, 'resetBelowFactor'), 'must not be below floorFactor (a reset must come before the floor)');
  }
  return { startFactorWad, curve, floorFactorWad, resetAfterMs, resetBelowFactorWad };
}

/**
 * Collateral weights: initial in [0, 1], maintenance in (0, 1], initial ≤ maintenance.
 * Liability weights: both ≥ 1, initial ≥ maintenance.
 */
function readWeights(
  reader: InputReader,
  value: unknown,
  field: string,
  side: 'collateral' | 'liability',
): LevelWeights | undefined {
  const record = reader.object(value, field, WEIGHT_FIELDS);
  if (record === undefined) return undefined;
  const initialBounds = side === 'collateral' ? ZERO_TO_ONE : ONE_OR_MORE;
  const maintenanceBounds = side === 'collateral' ? ABOVE_ZERO_TO_ONE : ONE_OR_MORE;
  const initialWad = reader.required(record, 'initialWeight', field, (v) =>
    reader.decimalWithin(v, join(field, 'initialWeight'), WAD_DECIMALS, initialBounds),
  );
  const maintenanceWad = reader.required(record, 'maintenanceWeight', field, (v) =>
    reader.decimalWithin(v, join(field, 'maintenanceWeight'), WAD_DECIMALS, maintenanceBounds),
  );
  if (initialWad === undefined || maintenanceWad === undefined) return undefined;
  if (side === 'collateral' && initialWad > maintenanceWad) {
    return reader.fail(join(field, 'initialWeight'), 'collateral initial weight must not exceed the maintenance weight');
  }
  if (side === 'liability' && initialWad < maintenanceWad) {
    return reader.fail(join(field, 'initialWeight'), 'liability initial weight must not be below the maintenance weight');
  }
  return { initialWad, maintenanceWad };
}

function readInterest(reader: InputReader, value: unknown, field: string): InterestModel | undefined {
  const record = reader.object(value, field, INTEREST_FIELDS);
  if (record === undefined) return undefined;
  const rate = (key: string, bounds: DecimalBounds): bigint | undefined =>
    reader.required(record, key, field, (v) => reader.decimalWithin(v, join(field, key), WAD_DECIMALS, bounds));
  const baseRateWad = rate('baseRate', NON_NEGATIVE);
  const optimalUtilizationWad = rate('optimalUtilization', OPEN_ZERO_ONE);
  const slopeBelowWad = rate('slopeBelow', NON_NEGATIVE);
  const slopeAboveWad = rate('slopeAbove', NON_NEGATIVE);
  const reserveFactorWad = rate('reserveFactor', ZERO_TO_ONE_OPEN);
  if (
    baseRateWad === undefined ||
    optimalUtilizationWad === undefined ||
    slopeBelowWad === undefined ||
    slopeAboveWad === undefined ||
    reserveFactorWad === undefined
  ) {
    return undefined;
  }
  return { baseRateWad, optimalUtilizationWad, slopeBelowWad, slopeAboveWad, reserveFactorWad };
}

type ParsedMarket = Omit<MarketConfig, 'liquidationFeeWad'> & { readonly liquidationFeeWad: bigint | undefined };

function readMarket(reader: InputReader, value: unknown, field: string): ParsedMarket | undefined {
  const record = reader.object(value, field, MARKET_FIELDS);
  if (record === undefined) return undefined;
  const id = reader.required(record, 'id', field, (v) => reader.identifier(v, join(field, 'id')));
  const base = reader.required(record, 'base', field, (v) => reader.identifier(v, join(field, 'base')));
  const initialWad = reader.required(record, 'initialMarginFraction', field, (v) =>
    reader.decimalWithin(v, join(field, 'initialMarginFraction'), WAD_DECIMALS, OPEN_ZERO_ONE),
  );
  const maintenanceWad = reader.required(record, 'maintenanceMarginFraction', field, (v) =>
    reader.decimalWithin(v, join(field, 'maintenanceMarginFraction'), WAD_DECIMALS, OPEN_ZERO_ONE),
  );
  const sizeScalingFactorWad =
    reader.optional(record, 'sizeScalingFactor', (v) =>
      reader.decimalWithin(v, join(field, 'sizeScalingFactor'), WAD_DECIMALS, NON_NEGATIVE),
    ) ?? 0n;
  const positivePnlWeight = reader.optional(record, 'positivePnlWeight', (v) =>
    readPnlWeights(reader, v, join(field, 'positivePnlWeight')),
  ) ?? { initialWad: WAD, maintenanceWad: WAD };
  const liquidationFeeWad = reader.optional(record, 'liquidationFee', (v) =>
    reader.decimalWithin(v, join(field, 'liquidationFee'), WAD_DECIMALS, PENALTY_RANGE),
  );
  if (id === undefined || base === undefined || initialWad === undefined || maintenanceWad === undefined) {
    return undefined;
  }
  if (initialWad <= maintenanceWad) {
    return reader.fail(
      join(field, 'initialMarginFraction'),
      'initial margin fraction must be greater than the maintenance margin fraction',
    );
  }
  return {
    id,
    base,
    marginFraction: { initialWad, maintenanceWad },
    sizeScalingFactorWad,
    positivePnlWeight,
    liquidationFeeWad,
  };
}

function readLiquidation(reader: InputReader, value: unknown, field: string): LiquidationConfig | undefined {
  const record = reader.object(value, field, LIQUIDATION_FIELDS);
  if (record === undefined) return undefined;
  const ratioWad = reader.optional(record, 'targetMaintenanceRatio', (v) =>
    reader.decimalWithin(v, join(field, 'targetMaintenanceRatio'), WAD_DECIMALS, ONE_OR_MORE),
  );
  const decimal = (key: string, bounds: DecimalBounds, fallback: bigint): bigint =>
    reader.optional(record, key, (v) => reader.decimalWithin(v, join(field, key), WAD_DECIMALS, bounds)) ?? fallback;
  const notionalCapPerWindowUsd = reader.optional(record, 'notionalCapPerWindowUsd', (v) =>
    reader.decimalWithin(v, join(field, 'notionalCapPerWindowUsd'), WAD_DECIMALS, NON_NEGATIVE),
  );
  return {
    target: ratioWad === undefined ? { kind: 'initial' } : { kind: 'maintenanceRatio', ratioWad },
    dustUsd: decimal('dustUsd', NON_NEGATIVE, DEFAULT_LIQUIDATION.dustUsd),
    maxShareWad: decimal('maxShare', ABOVE_ZERO_TO_ONE, DEFAULT_LIQUIDATION.maxShareWad),
    insuranceShareWad: decimal('insuranceShare', ZERO_TO_ONE, DEFAULT_LIQUIDATION.insuranceShareWad),
    windowMs:
      reader.optional(record, 'windowMs', (v) => reader.integer(v, join(field, 'windowMs'), WINDOW_RANGE)) ??
      DEFAULT_LIQUIDATION.windowMs,
    ...(notionalCapPerWindowUsd !== undefined && { notionalCapPerWindowUsd }),
  };
}

const WINDOW_RANGE = { min: 1, max: 86_400_000 } as const;

function readPnlWeights(reader: InputReader, value: unknown, field: string): LevelWeights | undefined {
  const record = reader.object(value, field, PNL_WEIGHT_FIELDS);
  if (record === undefined) return undefined;
  const initialWad = reader.required(record, 'initial', field, (v) =>
    reader.decimalWithin(v, join(field, 'initial'), WAD_DECIMALS, ZERO_TO_ONE),
  );
  const maintenanceWad = reader.required(record, 'maintenance', field, (v) =>
    reader.decimalWithin(v, join(field, 'maintenance'), WAD_DECIMALS, ZERO_TO_ONE),
  );
  if (initialWad === undefined || maintenanceWad === undefined) return undefined;
  if (initialWad > maintenanceWad) {
    return reader.fail(join(field, 'initial'), 'initial PnL weight must not exceed the maintenance weight');
  }
  return { initialWad, maintenanceWad };
}

/** The weight of `level` from a pair of level weights. */
export function atLevel(weights: LevelWeights, level: Level): bigint {
  return level === 'initial' ? weights.initialWad : weights.maintenanceWad;
}
