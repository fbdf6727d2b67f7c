/**
 * Liquidation prices (liquidation-price.ts) on hand-worked accounts. The expected prices
 * are solved by hand from the maintenance health as a function of one price p (in wei of
 * USD, so "1200e18 − 1" is one wei below 1200 USD), including the rounding of each term.
 */
import { describe, expect, it } from 'vitest';
import { account, EXAMPLE_CONFIG, EXAMPLE_RISK_JSON, priceBook, riskConfig, wad } from '../../test/fixtures.ts';
import type { Account } from './account.ts';
import type { RiskConfig } from './config.ts';
import { evaluateAccount } from './health.ts';
import { exposedAssets, liquidationPrices, type LiquidationPrice } from './liquidation-price.ts';
import { withPrice, type PriceBook } from './prices.ts';

function pricesOf(subject: Account, prices: PriceBook, config: RiskConfig = EXAMPLE_CONFIG): readonly LiquidationPrice[] {
  const result = liquidationPrices(subject, prices, config);
  if (result === null) throw new Error('expected liquidation prices, got null');
  return result;
}

function entry(list: readonly LiquidationPrice[], asset: string): LiquidationPrice {
  const found = list.find((e) => e.asset === asset);
  if (found === undefined) throw new Error(`no liquidation price for ${asset}`);
  return found;
}

function liquidatableAt(subject: Account, prices: PriceBook, asset: string, priceWad: bigint, config = EXAMPLE_CONFIG): boolean {
  const health = evaluateAccount(subject, withPrice(prices, asset, priceWad), config);
  if (!health.ok) throw new Error(JSON.stringify(health.error));
  return health.value.liquidatable;
}

/** The defining property of each reported price, checked through the valuation itself. */
function expectBoundaries(subject: Account, prices: PriceBook, list: readonly LiquidationPrice[], config = EXAMPLE_CONFIG) {
  for (const { asset, downWad, upWad } of list) {
    if (downWad !== null) {
      expect(liquidatableAt(subject, prices, asset, downWad, config), `${asset} at down`).toBe(true);
      expect(liquidatableAt(subject, prices, asset, downWad + 1n, config), `${asset} one wei above down`).toBe(false);
    }
    if (upWad !== null) {
      expect(liquidatableAt(subject, prices, asset, upWad, config), `${asset} at up`).toBe(true);
      expect(liquidatableAt(subject, prices, asset, upWad - 1n, config), `${asset} one wei below up`).toBe(false);
    }
  }
}

describe('liquidationPrices: long ETH collateral against a USDC debt', () => {
  const borrower = account(EXAMPLE_CONFIG, { id: 'b', balances: { ETH: '1', USDC: '-1000' } });
  const prices = priceBook({ ETH: '3000', USDC: '1', BTC: '60000' });

  it('finds the ETH price where maintenance health turns negative', () => {
    const list = pricesOf(borrower, prices);
    expect(list.map((e) => e.asset)).toEqual(['ETH', 'USDC']);
    // maintenance health at ETH price p: ⌊1 × p × 0.85⌋ − 1000 × 1 × 1.02 = ⌊0.85 p⌋ − 1020
    // roughly debt × liabWeight / (amount × collateralWeight) = 1000 × 1.02 / (1 × 0.85) = 1200
    // exactly: at p = 1200e18, ⌊0.85 p⌋ = 1020e18 → health 0, not liquidatable;
    //          at p = 1200e18 − 1, ⌊1020e18 − 0.85⌋ = 1020e18 − 1 → health −1 wei, liquidatable
    expect(entry(list, 'ETH')).toEqual({
      asset: 'ETH',
      currentPriceWad: wad('3000'),
      downWad: wad('1200') - 1n,
      upWad: null, // a rise in ETH only helps
    });
  });

  it('finds the USDC price where the debt outgrows the collateral', () => {
    // at USDC price q: 0.85 × 3000 = 2550 against ⌈1000 × q × 1.02⌉ = 1020 q
    // liquidatable ⇔ 1020 q > 2550e18 ⇔ q > 2.5e18 → up = 2.5e18 + 1 wei
    expect(entry(pricesOf(borrower, prices), 'USDC')).toEqual({
      asset: 'USDC',
      currentPriceWad: wad('1'),
      downWad: null,
      upWad: wad('2.5') + 1n,
    });
    expectBoundaries(borrower, prices, pricesOf(borrower, prices));
  });

  it('keeps the relative confidence as the price moves', () => {
    // ETH 3000 ± 30 (1 %): at p the confidence is ⌈p / 100⌉ and the low price p − ⌈p / 100⌉ = ⌊0.99 p⌋
    // safe ⇔ ⌊0.85 × ⌊0.99 p⌋⌋ ≥ 1020e18 ⇔ ⌊0.99 p⌋ ≥ 1200e18 ⇔ p ≥ 1200e18 / 0.99 = 1212121212121212121212.12…
    // → 1212121212121212121213 is the lowest safe price, one wei below it is liquidatable
    const uncertain = priceBook({ ETH: { price: '3000', confidence: '30' }, USDC: '1', BTC: '60000' });
    const list = pricesOf(borrower, uncertain);
    expect(entry(list, 'ETH').downWad).toBe(1212121212121212121212n);
    expectBoundaries(borrower, uncertain, list);
  });
});

describe('liquidationPrices: a short perp', () => {
  const short = account(EXAMPLE_CONFIG, {
    id: 's',
    balances: { USDC: '1000' },
    perps: [{ market: 'ETH-PERP', size: '-1', entryPrice: '3000' }],
  });
  const prices = priceBook({ ETH: '3000', USDC: '1', BTC: '60000' });

  it('gives an up price and no down price for ETH', () => {
    // maintenance health at p: 1000 × 0.98 = 980, minus the loss (p − 3000) when p > 3000,
    // minus the requirement ⌈0.05 p⌉:  health = 980e18 − (p − 3000e18) − ⌈p / 20⌉ = 3980e18 − p − ⌈p / 20⌉
    // roughly 3980 / 1.05 = 3790.476190476190476190|47…
    // at p = 3790476190476190476190: ⌈p / 20⌉ = ⌈189523809523809523809.5⌉ = 189523809523809523810
    //   p + that = 3980000000000000000000 → health 0, not liquidatable
    // at p + 1: ⌈p / 20⌉ is unchanged → health −1 wei → up = 3790476190476190476191
    // below 3000 the gain (weight 1) only grows: no down price
    const list = pricesOf(short, prices);
    expect(entry(list, 'ETH')).toEqual({
      asset: 'ETH',
      currentPriceWad: wad('3000'),
      downWad: null,
      upWad: 3790476190476190476191n,
    });
  });

  it('gives a down price for the USDC collateral', () => {
    // at USDC price q: ⌊1000 × q × 0.98⌋ = 980 q against the requirement 3000 × 0.05 = 150
    // liquidatable ⇔ 980 q < 150e18 ⇔ q < 153061224489795918.36… → down = 153061224489795918
    const list = pricesOf(short, prices);
    expect(entry(list, 'USDC')).toEqual({
      asset: 'USDC',
      currentPriceWad: wad('1'),
      downWad: 153061224489795918n,
      upWad: null,
    });
    expectBoundaries(short, prices, list);
  });
});

describe('liquidationPrices: a hedged account', () => {
  // USDC borrowable at weight 1; ETH-PERP counts gains at half weight.
  const config = riskConfig({
    ...EXAMPLE_RISK_JSON,
    assets: [
      {
        id: 'USDC',
        decimals: 6,
        collateral: { initialWeight: '0.95', maintenanceWeight: '0.98' },
        liability: { initialWeight: '1', maintenanceWeight: '1' },
      },
      EXAMPLE_RISK_JSON.assets[1],
    ],
    markets: [
      {
        id: 'ETH-PERP',
        base: 'ETH',
        initialMarginFraction: '0.10',
        maintenanceMarginFraction: '0.05',
        positivePnlWeight: { initial: '0.5', maintenance: '0.5' },
      },
    ],
  });
  // 2 ETH held, 3600 USDC borrowed, short 2 ETH-PERP from 3000
  const hedged = account(config, {
    id: 'h',
    balances: { ETH: '2', USDC: '-3600' },
    perps: [{ market: 'ETH-PERP', size: '-2', entryPrice: '3000' }],
  });
  const prices = priceBook({ ETH: '3000', USDC: '1' });

  it('is liquidated by a large enough move either way', () => {
    // maintenance health at ETH price p (debt 3600, requirement ⌈2 × p × 0.05⌉ = ⌈0.1 p⌉):
    //   p ≤ 3000: ⌊1.7 p⌋ + 0.5 × 2 × (3000e18 − p) − ⌈0.1 p⌉ − 3600e18   (≈ 0.6 p − 600)
    //   p ≥ 3000: ⌊1.7 p⌋ − 2 × (p − 3000e18)       − ⌈0.1 p⌉ − 3600e18   (≈ 2400 − 0.4 p)
    // at 3000: 5100 − 300 − 3600 = 1200 ≥ 0
    // down: 0.6 p = 600 → p = 1000. At 1000e18: 1700 + 2000 − 100 − 3600 = 0, safe.
    //   At 1000e18 − 1: (1700e18 − 2) + (2000e18 + 1) − 100e18 − 3600e18 = −1 wei → down = 1000e18 − 1
    // up: 0.4 p = 2400 → p = 6000. At 6000e18: 10200 − 6000 − 600 − 3600 = 0, safe.
    //   At 6000e18 + 1: (10200e18 + 1) − (6000e18 + 2) − (600e18 + 1) − 3600e18 = −2 wei → up = 6000e18 + 1
    const list = pricesOf(hedged, prices, config);
    expect(entry(list, 'ETH')).toEqual({
      asset: 'ETH',
      currentPriceWad: wad('3000'),
      downWad: wad('1000') - 1n,
      upWad: wad('6000') + 1n,
    });
    expectBoundaries(hedged, prices, list, config);
  });

  it('gives the USDC price at which the debt is too large', () => {
    // at USDC price q: 5100 − 300 − 3600 q → liquidatable ⇔ 3600 q > 4800e18
    //   ⇔ q > 1333333333333333333.33… → up = 1333333333333333334
    expect(entry(pricesOf(hedged, prices, config), 'USDC')).toEqual({
      asset: 'USDC',
      currentPriceWad: wad('1'),
      downWad: null,
      upWad: 1333333333333333334n,
    });
  });
});

describe('liquidationPrices: no price to reach', () => {
  const prices = priceBook({ ETH: '3000', USDC: '1', BTC: '60000' });

  it('is null for an account that is liquidatable already', () => {
    // 0.85 × 1000 = 850 < 1020
    const underwater = account(EXAMPLE_CONFIG, { id: 'u', balances: { ETH: '1', USDC: '-1000' } });
    const low = priceBook({ ETH: '1000', USDC: '1' });
    expect(evaluateAccount(underwater, low, EXAMPLE_CONFIG)).toMatchObject({ ok: true, value: { liquidatable: true } });
    expect(liquidationPrices(underwater, low, EXAMPLE_CONFIG)).toBeNull();
  });

  it('is null for an account that cannot be valued', () => {
    const borrower = account(EXAMPLE_CONFIG, { id: 'b', balances: { ETH: '1', USDC: '-1000' } });
    expect(liquidationPrices(borrower, priceBook({ ETH: '3000' }), EXAMPLE_CONFIG)).toBeNull();
  });

  it('gives neither direction for collateral without debt', () => {
    // nothing owed: health ≥ 0 at every price
    const saver = account(EXAMPLE_CONFIG, { id: 's', balances: { ETH: '1' } });
    expect(pricesOf(saver, prices)).toEqual([{ asset: 'ETH', currentPriceWad: wad('3000'), downWad: null, upWad: null }]);
  });

  it('gives an empty list for an empty account', () => {
    expect(pricesOf({ id: 'e', balances: new Map(), perps: new Map() }, prices)).toEqual([]);
  });
});

describe('exposedAssets', () => {
  it('lists balances and perp bases once each, sorted, without zero entries', () => {
    const subject: Account = {
      id: 'x',
      balances: new Map([
        ['USDC', 5n],
        ['ETH', 1n],
        ['BTC', 0n],
      ]),
      perps: new Map([
        ['ETH-PERP', { market: 'ETH-PERP', size: -1n, entryPriceWad: wad('3000') }],
        ['BTC-PERP', { market: 'BTC-PERP', size: 1n, entryPriceWad: wad('60000') }],
      ]),
    };
    expect(exposedAssets(subject, EXAMPLE_CONFIG)).toEqual(['BTC', 'ETH', 'USDC']);
  });
});
