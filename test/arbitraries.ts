/**
 * fast-check arbitraries for property suites: risk configurations within the rules of
 * DESIGN.md ("Public contract"), accounts and price books against them, and what-if actions.
 *
 * Configurations are generated as `risk.json` values and read through `parseRiskConfig`,
 * so every generated configuration is one the boundary accepts (a rejection is a bug in
 * this file and throws). Amounts and prices span many orders of magnitude, down to one
 * base unit and one wei, so that rounding is exercised and not only round numbers.
 */
import fc from 'fast-check';
import type { Account, PerpPosition } from '../src/core/account.ts';
import { parseRiskConfig, type RiskConfig } from '../src/core/config.ts';
import { formatWad, pow10, WAD } from '../src/core/fixed.ts';
import type { WhatIf } from '../src/core/preview.ts';
import type { Price, PriceBook } from '../src/core/prices.ts';

// ---------------------------------------------------------------------------------------
// Numbers

/** A bigint in [min, max], with the bounds and their neighbours favoured. */
export function bigIntIn(min: bigint, max: bigint): fc.Arbitrary<bigint> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.bigInt({ min, max }) },
    { weight: 1, arbitrary: fc.constantFrom(min, max, min + 1n > max ? max : min + 1n, max - 1n < min ? min : max - 1n) },
  );
}

/**
 * A positive bigint spread over orders of magnitude: mantissa × 10^exponent with a
 * mantissa of 1 to 6 digits and an exponent in [minExponent, maxExponent].
 */
export function magnitude(minExponent: number, maxExponent: number): fc.Arbitrary<bigint> {
  return fc
    .tuple(
      fc.oneof(fc.bigInt({ min: 1n, max: 999_999n }), fc.bigInt({ min: 1n, max: 9n })),
      fc.integer({ min: minExponent, max: maxExponent }),
    )
    .map(([mantissa, exponent]) => mantissa * pow10(exponent));
}

/** A weight-like wad in [min, max] (inclusive), often a round step of the range. */
function weightIn(min: bigint, max: bigint): fc.Arbitrary<bigint> {
  const round = fc.integer({ min: 0, max: 20 }).map((step) => min + ((max - min) * BigInt(step)) / 20n);
  return fc.oneof(bigIntIn(min, max), round, fc.constant(max));
}

// ---------------------------------------------------------------------------------------
// Risk configuration

export interface RiskConfigJson {
  quote: string;
  warningRatio?: string;
  assets: AssetJson[];
  markets?: MarketJson[];
}

interface AssetJson {
  id: string;
  decimals: number;
  collateral?: { initialWeight: string; maintenanceWeight: string };
  liability?: { initialWeight: string; maintenanceWeight: string };
  liquidationPenalty?: string;
}

interface MarketJson {
  id: string;
  base: string;
  initialMarginFraction: string;
  maintenanceMarginFraction: string;
  sizeScalingFactor?: string;
  positivePnlWeight?: { initial: string; maintenance: string };
}

const ASSET_IDS = ['USD', 'ETH', 'BTC', 'SOL'] as const;

/** Collateral weights: maintenance in (0, 1], initial in [0, maintenance]. */
const collateralArb = weightIn(1n, WAD).chain((maintenance) =>
  weightIn(0n, maintenance).map((initial) => ({
    initialWeight: formatWad(initial),
    maintenanceWeight: formatWad(maintenance),
  })),
);

/** Liability weights: maintenance in [1, 3], initial in [maintenance, maintenance + 1]. */
const liabilityArb = weightIn(WAD, 3n * WAD).chain((maintenance) =>
  weightIn(maintenance, maintenance + WAD).map((initial) => ({
    initialWeight: formatWad(initial),
    maintenanceWeight: formatWad(maintenance),
  })),
);

function assetArb(id: string): fc.Arbitrary<AssetJson> {
  return fc
    .record(
      {
        decimals: fc.oneof(fc.integer({ min: 0, max: 18 }), fc.constantFrom(0, 6, 8, 18)),
        collateral: collateralArb,
        liability: liabilityArb,
        liquidationPenalty: weightIn(0n, WAD / 2n - 1n).map(formatWad),
      },
      { requiredKeys: ['decimals'] },
    )
    .map((asset) => ({ id, ...asset }));
}

function marketArb(id: string, bases: readonly string[]): fc.Arbitrary<MarketJson> {
  const fractions = bigIntIn(1n, WAD - 2n).chain((maintenance) =>
    bigIntIn(maintenance + 1n, WAD - 1n).map((initial) => ({ initial, maintenance })),
  );
  const pnlWeight = weightIn(0n, WAD).chain((maintenance) =>
    weightIn(0n, maintenance).map((initial) => ({ initial: formatWad(initial), maintenance: formatWad(maintenance) })),
  );
  return fc
    .record(
      {
        base: fc.constantFrom(...bases),
        fractions,
        sizeScalingFactor: fc.oneof(fc.constant(0n), bigIntIn(1n, WAD / 200n)).map(formatWad),
        positivePnlWeight: pnlWeight,
      },
      { requiredKeys: ['base', 'fractions'] },
    )
    .map(({ fractions: f, ...rest }) => ({
      id,
      ...rest,
      initialMarginFraction: formatWad(f.initial),
      maintenanceMarginFraction: formatWad(f.maintenance),
    }));
}

/** `risk.json` values: 2–4 assets (decimals 0..18), 0–2 markets on non-quote assets. */
export const riskConfigJsonArb: fc.Arbitrary<RiskConfigJson> = fc
  .integer({ min: 2, max: 4 })
  .chain((count) => {
    const ids = ASSET_IDS.slice(0, count);
    return fc.record(
      {
        assets: fc.tuple(...ids.map((id) => assetArb(id))),
        quoteIndex: fc.integer({ min: 0, max: count - 1 }),
        marketCount: fc.integer({ min: 0, max: 2 }),
        warningRatio: weightIn(WAD, 2n * WAD).map(formatWad),
      },
      { requiredKeys: ['assets', 'quoteIndex', 'marketCount'] },
    );
  })
  .chain(({ assets, quoteIndex, marketCount, warningRatio }) => {
    const quote = assets[quoteIndex]!.id;
    const bases = assets.map((asset) => asset.id).filter((id) => id !== quote);
    const marketIds = ['PERP-A', 'PERP-B'].slice(0, marketCount);
    return fc.tuple(...marketIds.map((id) => marketArb(id, bases))).map((markets) => ({
      quote,
      assets: [...assets],
      ...(warningRatio !== undefined && { warningRatio }),
      ...(markets.length > 0 && { markets }),
    }));
  });

/** A parsed configuration; throws if the generated JSON breaks a rule (a bug here). */
export function toRiskConfig(json: RiskConfigJson): RiskConfig {
  const parsed = parseRiskConfig(json);
  if (!parsed.ok) throw new Error(`arbitraries: generated an invalid config: ${JSON.stringify(parsed.error)}`);
  return parsed.value;
}

export const riskConfigArb: fc.Arbitrary<RiskConfig> = riskConfigJsonArb.map(toRiskConfig);

// ---------------------------------------------------------------------------------------
// Prices

/** A price: 1e-12 USD to 1e12 USD per whole unit, as a wad. */
export const priceWadArb: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 3, arbitrary: magnitude(6, 24) },
  { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 30n }) },
);

/** Confidence for a price: mostly none, often a few percent, sometimes at or past the price. */
export function confidenceArb(priceWad: bigint): fc.Arbitrary<bigint> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(0n) },
    { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: 200n }).map((permille) => (priceWad * permille) / 1000n) },
    { weight: 1, arbitrary: fc.bigInt({ min: 1000n, max: 1500n }).map((permille) => (priceWad * permille) / 1000n) },
  );
}

export const priceArb: fc.Arbitrary<Price> = priceWadArb.chain((priceWad) =>
  confidenceArb(priceWad).map((confidenceWad) => ({ priceWad, confidenceWad })),
);

/** A price for every asset of the configuration. */
export function priceBookArb(config: RiskConfig): fc.Arbitrary<PriceBook> {
  const ids = [...config.assets.keys()];
  return fc.tuple(...ids.map(() => priceArb)).map((prices) => new Map(ids.map((id, index) => [id, prices[index]!])));
}

// ---------------------------------------------------------------------------------------
// Accounts

/** A non-zero amount of an asset with `decimals`, from one base unit to ~1e9 whole units. */
export function amountArb(decimals: number): fc.Arbitrary<bigint> {
  return magnitude(0, decimals + 3);
}

export function signedAmountArb(decimals: number): fc.Arbitrary<bigint> {
  return fc.tuple(amountArb(decimals), fc.boolean()).map(([amount, negative]) => (negative ? -amount : amount));
}

/** An account holding or owing some of the assets, with positions in some of the markets. */
export function accountArb(config: RiskConfig, id = 'acct'): fc.Arbitrary<Account> {
  const assets = [...config.assets.values()];
  const markets = [...config.markets.values()];
  const balances = fc.tuple(
    ...assets.map((asset) => fc.option(signedAmountArb(asset.decimals), { nil: undefined, freq: 3 })),
  );
  const perps = fc.tuple(
    ...markets.map((market) => {
      const decimals = config.assets.get(market.base)?.decimals ?? 0;
      return fc.option(
        fc.record({ size: signedAmountArb(decimals), entryPriceWad: priceWadArb }),
        { nil: undefined, freq: 2 },
      );
    }),
  );
  return fc.tuple(balances, perps).map(([amounts, positions]) => {
    const balanceMap = new Map<string, bigint>();
    assets.forEach((asset, index) => {
      const amount = amounts[index];
      if (amount !== undefined) balanceMap.set(asset.id, amount);
    });
    const perpMap = new Map<string, PerpPosition>();
    markets.forEach((market, index) => {
      const position = positions[index];
      if (position !== undefined) perpMap.set(market.id, { market: market.id, ...position });
    });
    return { id, balances: balanceMap, perps: perpMap };
  });
}

// ---------------------------------------------------------------------------------------
// Worlds and actions

export interface World {
  readonly config: RiskConfig;
  readonly account: Account;
  readonly prices: PriceBook;
}

/** A configuration with an account and a complete price book against it. */
export const worldArb: fc.Arbitrary<World> = riskConfigArb.chain((config) =>
  fc.record({ account: accountArb(config), prices: priceBookArb(config) }).map((parts) => ({ config, ...parts })),
);

/** One what-if action valid against the configuration. */
export function whatIfArb(config: RiskConfig): fc.Arbitrary<WhatIf> {
  const assets = [...config.assets.values()];
  const markets = [...config.markets.values()];
  const asset = fc.constantFrom(...assets);
  const options: fc.Arbitrary<WhatIf>[] = [
    asset.chain((a) => amountArb(a.decimals).map((amount): WhatIf => ({ kind: 'deposit', asset: a.id, amount }))),
    asset.chain((a) =>
      fc
        .tuple(amountArb(a.decimals), fc.constantFrom('withdraw' as const, 'borrow' as const))
        .map(([amount, kind]): WhatIf => ({ kind, asset: a.id, amount })),
    ),
    fc.tuple(asset, priceWadArb).map(([a, priceWad]): WhatIf => ({ kind: 'price', asset: a.id, priceWad })),
  ];
  if (markets.length > 0) {
    options.push(
      fc.constantFrom(...markets).chain((market) =>
        fc
          .record({
            size: signedAmountArb(config.assets.get(market.base)?.decimals ?? 0),
            priceWad: priceWadArb,
            feeRateWad: fc.oneof(fc.constant(0n), bigIntIn(0n, WAD / 100n)),
          })
          .map((fill): WhatIf => ({ kind: 'fill', market: market.id, ...fill })),
      ),
    );
  }
  return fc.oneof(...options);
}
