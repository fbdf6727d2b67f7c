/**
 * A seeded, realistic population for benchmarks: a risk configuration of eight assets
 * (decimals 6, 8 and 18; some not accepted as collateral, some not borrowable) and five
 * perp markets (two with size-scaled margin), a price book with confidence intervals, and
 * accounts holding 1–5 balances and 0–3 perps.
 *
 * Everything comes from one seed through a small PRNG, so every run values the same
 * accounts. The configuration goes through `parseRiskConfig`, like the real one.
 */
import type { Account, PerpPosition } from '../src/core/account.ts';
import type { RiskConfig } from '../src/core/config.ts';
import { parseRiskConfig } from '../src/core/config.ts';
import { pow10 } from '../src/core/fixed.ts';
import { parsePriceBook, type PriceBook } from '../src/core/prices.ts';

export const POPULATION_SEED = 0x5eed_c0de;

/** mulberry32: a 32-bit seeded PRNG returning uniform floats in [0, 1). Benchmark inputs only. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RISK_JSON = {
  quote: 'USDC',
  warningRatio: '1.1',
  assets: [
    asset('USDC', 6, ['0.95', '0.98'], ['1.05', '1.02']),
    asset('USDT', 6, ['0.90', '0.95'], ['1.08', '1.04']),
    asset('DAI', 18, ['0.90', '0.95'], ['1.08', '1.04']),
    asset('ETH', 18, ['0.80', '0.85'], ['1.10', '1.05']),
    asset('BTC', 8, ['0.80', '0.85'], ['1.10', '1.05']),
    asset('LINK', 18, ['0.60', '0.70'], ['1.25', '1.15']),
    // Collateral only: cannot be borrowed.
    asset('STETH', 18, ['0.70', '0.80'], undefined),
    // Not accepted as collateral, but borrowable.
    asset('MEME', 18, undefined, ['1.50', '1.30']),
  ],
  markets: [
    market('ETH-PERP', 'ETH', '0.10', '0.05', '0.0002'),
    market('BTC-PERP', 'BTC', '0.10', '0.05', '0.0001'),
    market('LINK-PERP', 'LINK', '0.20', '0.10', undefined),
    market('STETH-PERP', 'STETH', '0.15', '0.08', undefined),
    market('MEME-PERP', 'MEME', '0.50', '0.25', undefined),
  ],
};

const PRICES_JSON = {
  USDC: { price: '1', confidence: '0.0005' },
  USDT: { price: '0.9995', confidence: '0.001' },
  DAI: '1.0002',
  ETH: { price: '3000.12', confidence: '1.5' },
  BTC: { price: '63000', confidence: '25' },
  LINK: { price: '14.237', confidence: '0.02' },
  STETH: { price: '2994.5', confidence: '3' },
  MEME: { price: '0.000012345', confidence: '0.000000400' },
};

/** Typical holding per asset, in whole units: balances are drawn up to this size. */
const TYPICAL_WHOLE_UNITS: Record<string, number> = {
  USDC: 50_000,
  USDT: 20_000,
  DAI: 10_000,
  ETH: 10,
  BTC: 0.5,
  LINK: 2_000,
  STETH: 8,
  MEME: 500_000_000,
};

/** Typical perp size per market, in whole units of the base asset. */
const TYPICAL_SIZE_WHOLE_UNITS: Record<string, number> = {
  'ETH-PERP': 20,
  'BTC-PERP': 1,
  'LINK-PERP': 5_000,
  'STETH-PERP': 10,
  'MEME-PERP': 1_000_000_000,
};

const BORROW_SHARE = 0.3;
const PERP_ENTRY_SPREAD = 0.1;
/** Draws are scaled by this many fractional digits before becoming base units. */
const DRAW_DECIMALS = 6;

export interface Population {
  readonly config: RiskConfig;
  readonly prices: PriceBook;
  readonly accounts: readonly Account[];
}

export function buildPopulation(accountCount: number, seed: number = POPULATION_SEED): Population {
  const config = expectOk(parseRiskConfig(RISK_JSON), 'risk config');
  const prices = expectOk(parsePriceBook(PRICES_JSON), 'price book');
  const random = mulberry32(seed);
  const accounts: Account[] = [];
  for (let index = 0; index < accountCount; index++) {
    accounts.push(randomAccount(`acct-${index}`, random, config, prices));
  }
  return { config, prices, accounts };
}

function randomAccount(id: string, random: () => number, config: RiskConfig, prices: PriceBook): Account {
  const assetIds = [...config.assets.keys()];
  const balances = new Map<string, bigint>();
  const balanceCount = 1 + Math.floor(random() * 5);
  for (const assetId of pick(assetIds, balanceCount, random)) {
    const assetConfig = config.assets.get(assetId)!;
    const magnitude = wholeUnitsToBase(random() * TYPICAL_WHOLE_UNITS[assetId]!, assetConfig.decimals);
    if (magnitude === 0n) continue;
    const borrow = assetConfig.liability !== undefined && random() < BORROW_SHARE;
    balances.set(assetId, borrow ? -magnitude : magnitude);
  }

  const marketIds = [...config.markets.keys()];
  const perps = new Map<string, PerpPosition>();
  const perpCount = Math.floor(random() * 4);
  for (const marketId of pick(marketIds, perpCount, random)) {
    const market = config.markets.get(marketId)!;
    const base = config.assets.get(market.base)!;
    const magnitude = wholeUnitsToBase(random() * TYPICAL_SIZE_WHOLE_UNITS[marketId]!, base.decimals);
    if (magnitude === 0n) continue;
    const size = random() < 0.5 ? -magnitude : magnitude;
    const markWad = prices.get(market.base)!.priceWad;
    const entryPriceWad = scaleWad(markWad, 1 + (random() * 2 - 1) * PERP_ENTRY_SPREAD);
    perps.set(marketId, { market: marketId, size, entryPriceWad });
  }
  return { id, balances, perps };
}

/** `count` distinct items in random order (partial Fisher–Yates on a copy). */
function pick<T>(items: readonly T[], count: number, random: () => number): T[] {
  const pool = [...items];
  const chosen: T[] = [];
  for (let index = 0; index < count && pool.length > 0; index++) {
    const at = Math.floor(random() * pool.length);
    chosen.push(pool[at]!);
    pool[at] = pool[pool.length - 1]!;
    pool.pop();
  }
  return chosen;
}

/** A benchmark draw in whole units to base units, through an integer (never a float amount). */
function wholeUnitsToBase(wholeUnits: number, decimals: number): bigint {
  const drawn = BigInt(Math.floor(wholeUnits * 10 ** DRAW_DECIMALS));
  return decimals >= DRAW_DECIMALS
    ? drawn * pow10(decimals - DRAW_DECIMALS)
    : drawn / pow10(DRAW_DECIMALS - decimals);
}

/** wad × factor, the factor drawn with six decimals. */
function scaleWad(valueWad: bigint, factor: number): bigint {
  const factorMicro = BigInt(Math.round(factor * 1e6));
  return (valueWad * factorMicro) / 1_000_000n;
}

function asset(
  id: string,
  decimals: number,
  collateral: readonly [string, string] | undefined,
  liability: readonly [string, string] | undefined,
): Record<string, unknown> {
  return {
    id,
    decimals,
    liquidationPenalty: '0.05',
    ...(collateral && { collateral: { initialWeight: collateral[0], maintenanceWeight: collateral[1] } }),
    ...(liability && { liability: { initialWeight: liability[0], maintenanceWeight: liability[1] } }),
  };
}

function market(
  id: string,
  base: string,
  initialMarginFraction: string,
  maintenanceMarginFraction: string,
  sizeScalingFactor: string | undefined,
): Record<string, unknown> {
  return {
    id,
    base,
    initialMarginFraction,
    maintenanceMarginFraction,
    positivePnlWeight: { initial: '0.8', maintenance: '1' },
    ...(sizeScalingFactor !== undefined && { sizeScalingFactor }),
  };
}

function expectOk<T>(result: { ok: true; value: T } | { ok: false; error: unknown }, what: string): T {
  if (!result.ok) throw new Error(`benchmark ${what} is invalid: ${JSON.stringify(result.error)}`);
  return result.value;
}
