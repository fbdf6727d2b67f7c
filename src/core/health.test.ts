/**
 * Valuation and margin (health.ts) on hand-worked accounts. Every expectation is written
 * out as arithmetic in the comments; values are USD wads (18 decimals) unless noted.
 */
import { describe, expect, it } from 'vitest';
import { account, EXAMPLE_CONFIG, EXAMPLE_RISK_JSON, priceBook, riskConfig, units, wad } from '../../test/fixtures.ts';
import type { Account } from './account.ts';
import type { MarketConfig } from './config.ts';
import { WAD } from './fixed.ts';
import {
  evaluateAccount,
  explainAccount,
  isBelowRatio,
  scaledMarginFractions,
  type BalanceContribution,
  type ExplainedHealth,
  type PerpContribution,
} from './health.ts';
import type { PriceBook } from './prices.ts';

/** The explained valuation; checks on the way that evaluateAccount gives the same totals. */
function evaluate(subject: Account, prices: PriceBook, config = EXAMPLE_CONFIG): ExplainedHealth {
  const result = explainAccount(subject, prices, config);
  if (!result.ok) throw new Error(`unexpected valuation error ${JSON.stringify(result.error)}`);
  const { breakdown: _, ...totals } = result.value;
  expect(evaluateAccount(subject, prices, config)).toEqual({ ok: true, value: totals });
  return result.value;
}

function onlyPerp(health: ExplainedHealth): PerpContribution {
  const perps = health.breakdown.filter((c): c is PerpContribution => c.kind === 'perp');
  expect(perps).toHaveLength(1);
  return perps[0]!;
}

function balance(health: ExplainedHealth, asset: string): BalanceContribution {
  const found = health.breakdown.find((c): c is BalanceContribution => c.kind === 'balance' && c.asset === asset);
  if (found === undefined) throw new Error(`no contribution for ${asset}`);
  return found;
}

/** Example config with one market's positive-PnL weight replaced. */
const PNL_WEIGHTED_CONFIG = riskConfig({
  ...EXAMPLE_RISK_JSON,
  markets: [
    {
      id: 'ETH-PERP',
      base: 'ETH',
      initialMarginFraction: '0.10',
      maintenanceMarginFraction: '0.05',
      positivePnlWeight: { initial: '0.5', maintenance: '0.8' },
    },
  ],
});

describe('evaluateAccount: the DESIGN.md example', () => {
  // risk.json = examples/risk.json; portfolios.json and prices.json as in DESIGN.md.
  const prices = priceBook({ ETH: '3000.12', BTC: '63000', USDC: { price: '1', confidence: '0.0005' } });

  it('values alice: ETH collateral, a USDC borrow and a short ETH perp', () => {
    const alice = account(EXAMPLE_CONFIG, {
      id: 'alice',
      balances: { ETH: '1.5', USDC: '-1000' },
      perps: [{ market: 'ETH-PERP', size: '-2', entryPrice: '3000' }],
    });
    const health = evaluate(alice, prices);

    // ETH 1.5 × 3000.12 (no confidence) = 4500.18
    //   initial     × 0.80 = 3600.144
    //   maintenance × 0.85 = 3825.153
    // USDC debt 1000 × (1 + 0.0005) = 1000.5
    //   initial     × 1.05 = 1050.525
    //   maintenance × 1.02 = 1020.51
    // ETH-PERP size −2, entry 3000, mark 3000.12: PnL = −2 × 0.12 = −0.24 (a liability)
    //   notional 2 × 3000.12 = 6000.24
    //   initial     0.24 + 6000.24 × 0.10 = 0.24 + 600.024 = 600.264
    //   maintenance 0.24 + 6000.24 × 0.05 = 0.24 + 300.012 = 300.252
    // (toMatchObject: the contribution may carry more detail, such as the initial-level price)
    expect(health.breakdown).toMatchObject([
      {
        kind: 'balance',
        asset: 'ETH',
        amount: units('1.5', 18),
        priceWad: wad('3000.12'),
        weight: { initialWad: wad('0.80'), maintenanceWad: wad('0.85') },
        initial: { assetsUsd: wad('3600.144'), liabilitiesUsd: 0n },
        maintenance: { assetsUsd: wad('3825.153'), liabilitiesUsd: 0n },
      },
      {
        kind: 'balance',
        asset: 'USDC',
        amount: units('-1000', 6),
        priceWad: wad('1.0005'),
        weight: { initialWad: wad('1.05'), maintenanceWad: wad('1.02') },
        initial: { assetsUsd: 0n, liabilitiesUsd: wad('1050.525') },
        maintenance: { assetsUsd: 0n, liabilitiesUsd: wad('1020.51') },
      },
      {
        kind: 'perp',
        market: 'ETH-PERP',
        size: units('-2', 18),
        entryPriceWad: wad('3000'),
        markPriceWad: wad('3000.12'),
        unrealizedPnlUsd: wad('-0.24'),
        marginFraction: { initialWad: wad('0.10'), maintenanceWad: wad('0.05') },
        initial: { assetsUsd: 0n, liabilitiesUsd: wad('600.264') },
        maintenance: { assetsUsd: 0n, liabilitiesUsd: wad('300.252') },
      },
    ]);
    // initial:     assets 3600.144; liabilities 1050.525 + 600.264 = 1650.789
    //              health 3600.144 − 1650.789 = 1949.355
    //              ratio  3600.144 / 1650.789 = 2.180862605699456441|45… → floored
    expect(health.initial).toEqual({
      assetsUsd: wad('3600.144'),
      liabilitiesUsd: wad('1650.789'),
      healthUsd: wad('1949.355'),
      ratioWad: wad('2.180862605699456441'),
    });
    // maintenance: assets 3825.153; liabilities 1020.51 + 300.252 = 1320.762
    //              health 3825.153 − 1320.762 = 2504.391
    //              ratio  3825.153 / 1320.762 = 2.896171301112539579|… → floored
    expect(health.maintenance).toEqual({
      assetsUsd: wad('3825.153'),
      liabilitiesUsd: wad('1320.762'),
      healthUsd: wad('2504.391'),
      ratioWad: wad('2.896171301112539579'),
    });
    expect(health.liquidatable).toBe(false);
    expect(health.warning).toBe(false);
  });

  it('values bob: USDC collateral and a losing long BTC perp (size scaling below the base fraction)', () => {
    const bob = account(EXAMPLE_CONFIG, {
      id: 'bob',
      balances: { USDC: '5000' },
      perps: [{ market: 'BTC-PERP', size: '0.5', entryPrice: '64000' }],
    });
    const health = evaluate(bob, prices);
    // USDC 5000 × (1 − 0.0005) = 4997.5; × 0.95 = 4747.625; × 0.98 = 4897.55
    // BTC-PERP 0.5 × (63000 − 64000) = −500; notional 0.5 × 63000 = 31500
    //   scaled fraction 0.0002 × √31500 = 0.0002 × 177.48… = 0.0355 < 0.05 < 0.10: base fractions
    //   initial 500 + 3150 = 3650; maintenance 500 + 1575 = 2075
    const perp = onlyPerp(health);
    expect(perp.marginFraction).toEqual({ initialWad: wad('0.10'), maintenanceWad: wad('0.05') });
    expect(perp.unrealizedPnlUsd).toBe(wad('-500'));
    expect(health.initial).toEqual({
      assetsUsd: wad('4747.625'),
      liabilitiesUsd: wad('3650'),
      healthUsd: wad('1097.625'), // 4747.625 − 3650
      ratioWad: wad('1.30071917808219178'), // 4747.625 / 3650 = 1.300719178082191780|8…
    });
    expect(health.maintenance).toEqual({
      assetsUsd: wad('4897.55'),
      liabilitiesUsd: wad('2075'),
      healthUsd: wad('2822.55'), // 4897.55 − 2075
      ratioWad: wad('2.360265060240963855'), // 4897.55 / 2075 = 2.360265060240963855|4…
    });
    expect(health.liquidatable).toBe(false);
  });
});

describe('evaluateAccount: confidence-adjusted prices', () => {
  it('values collateral at price − confidence and debt at price + confidence', () => {
    const prices = priceBook({ ETH: { price: '2000', confidence: '50' }, USDC: '1' });
    const holder = evaluate(account(EXAMPLE_CONFIG, { id: 'h', balances: { ETH: '2' } }), prices);
    // 2 × (2000 − 50) = 3900; × 0.80 = 3120; × 0.85 = 3315
    expect(balance(holder, 'ETH').priceWad).toBe(wad('1950'));
    expect(holder.initial.assetsUsd).toBe(wad('3120'));
    expect(holder.maintenance.assetsUsd).toBe(wad('3315'));

    const borrower = evaluate(account(EXAMPLE_CONFIG, { id: 'b', balances: { ETH: '-1', USDC: '10000' } }), prices);
    // 1 × (2000 + 50) = 2050; × 1.10 = 2255; × 1.05 = 2152.5
    expect(balance(borrower, 'ETH').priceWad).toBe(wad('2050'));
    expect(borrower.initial.liabilitiesUsd).toBe(wad('2255'));
    expect(borrower.maintenance.liabilitiesUsd).toBe(wad('2152.5'));
  });

  it.each([
    ['equal to', '100'],
    ['above', '150'],
  ])('gives zero collateral value when the confidence is %s the price', (_, confidence) => {
    const prices = priceBook({ ETH: { price: '100', confidence }, USDC: '1' });
    const health = evaluate(account(EXAMPLE_CONFIG, { id: 'h', balances: { ETH: '5', USDC: '-1' } }), prices);
    // price − confidence ≤ 0 → the ETH counts 0 at both levels (never a negative value)
    const eth = balance(health, 'ETH');
    expect(eth.priceWad).toBe(0n);
    expect(eth.initial).toEqual({ assetsUsd: 0n, liabilitiesUsd: 0n });
    expect(eth.maintenance).toEqual({ assetsUsd: 0n, liabilitiesUsd: 0n });
    // the only asset is worthless, the 1 USDC debt (× 1.02) makes it liquidatable
    expect(health.maintenance.assetsUsd).toBe(0n);
    expect(health.maintenance.healthUsd).toBe(wad('-1.02'));
    expect(health.liquidatable).toBe(true);
  });

  it('values a debt at price + confidence even when the confidence exceeds the price', () => {
    const prices = priceBook({ ETH: { price: '100', confidence: '150' }, USDC: '1' });
    const health = evaluate(account(EXAMPLE_CONFIG, { id: 'b', balances: { ETH: '-1', USDC: '1000' } }), prices);
    // 1 × (100 + 150) = 250; × 1.10 = 275; × 1.05 = 262.5
    expect(balance(health, 'ETH').priceWad).toBe(wad('250'));
    expect(health.initial.liabilitiesUsd).toBe(wad('275'));
    expect(health.maintenance.liabilitiesUsd).toBe(wad('262.5'));
  });

  it('marks perps at the price itself, without the confidence', () => {
    const prices = priceBook({ ETH: { price: '2000', confidence: '20' }, USDC: '1' });
    const health = evaluate(
      account(EXAMPLE_CONFIG, { id: 'p', perps: [{ market: 'ETH-PERP', size: '1', entryPrice: '1900' }] }),
      prices,
    );
    // mark 2000 (not 1980): PnL 1 × (2000 − 1900) = 100; requirement 2000 × 0.10 = 200 / × 0.05 = 100
    const perp = onlyPerp(health);
    expect(perp.markPriceWad).toBe(wad('2000'));
    expect(perp.initial).toEqual({ assetsUsd: wad('100'), liabilitiesUsd: wad('200') });
    expect(perp.maintenance).toEqual({ assetsUsd: wad('100'), liabilitiesUsd: wad('100') });
  });
});

describe('evaluateAccount: perp unrealised PnL', () => {
  // ETH-PERP with positivePnlWeight initial 0.5, maintenance 0.8; IMF 0.10, MMF 0.05.
  const config = PNL_WEIGHTED_CONFIG;
  const evaluatePerp = (size: string, entry: string, mark: string): PerpContribution =>
    onlyPerp(
      evaluate(
        account(config, { id: 'p', perps: [{ market: 'ETH-PERP', size, entryPrice: entry }] }),
        priceBook({ ETH: mark, USDC: '1' }),
        config,
      ),
    );

  it('weights a long gain by positivePnlWeight', () => {
    // 2 × (2500 − 2000) = +1000 → assets 1000 × 0.5 = 500 and 1000 × 0.8 = 800
    // notional 2 × 2500 = 5000 → requirement 500 / 250
    const perp = evaluatePerp('2', '2000', '2500');
    expect(perp.unrealizedPnlUsd).toBe(wad('1000'));
    expect(perp.initial).toEqual({ assetsUsd: wad('500'), liabilitiesUsd: wad('500') });
    expect(perp.maintenance).toEqual({ assetsUsd: wad('800'), liabilitiesUsd: wad('250') });
  });

  it('counts a long loss in full as a liability', () => {
    // 2 × (1500 − 2000) = −1000 → liability 1000 at both levels, no weight
    // notional 2 × 1500 = 3000 → requirement 300 / 150
    const perp = evaluatePerp('2', '2000', '1500');
    expect(perp.unrealizedPnlUsd).toBe(wad('-1000'));
    expect(perp.initial).toEqual({ assetsUsd: 0n, liabilitiesUsd: wad('1300') });
    expect(perp.maintenance).toEqual({ assetsUsd: 0n, liabilitiesUsd: wad('1150') });
  });

  it('weights a short gain by positivePnlWeight', () => {
    // −2 × (1500 − 2000) = +1000 → 500 / 800; notional 3000 → requirement 300 / 150
    const perp = evaluatePerp('-2', '2000', '1500');
    expect(perp.unrealizedPnlUsd).toBe(wad('1000'));
    expect(perp.initial).toEqual({ assetsUsd: wad('500'), liabilitiesUsd: wad('300') });
    expect(perp.maintenance).toEqual({ assetsUsd: wad('800'), liabilitiesUsd: wad('150') });
  });

  it('counts a short loss in full', () => {
    // −2 × (2500 − 2000) = −1000; notional 5000 → 1000 + 500 / 1000 + 250
    const perp = evaluatePerp('-2', '2000', '2500');
    expect(perp.unrealizedPnlUsd).toBe(wad('-1000'));
    expect(perp.initial).toEqual({ assetsUsd: 0n, liabilitiesUsd: wad('1500') });
    expect(perp.maintenance).toEqual({ assetsUsd: 0n, liabilitiesUsd: wad('1250') });
  });

  it('counts a gain at full weight by default', () => {
    // example config: positivePnlWeight defaults to 1 → 1000 at both levels
    const perp = onlyPerp(
      evaluate(
        account(EXAMPLE_CONFIG, { id: 'p', perps: [{ market: 'ETH-PERP', size: '2', entryPrice: '2000' }] }),
        priceBook({ ETH: '2500', USDC: '1' }),
      ),
    );
    expect(perp.initial.assetsUsd).toBe(wad('1000'));
    expect(perp.maintenance.assetsUsd).toBe(wad('1000'));
  });

  it('puts a gain weighted to zero nowhere', () => {
    const zeroWeight = riskConfig({
      ...EXAMPLE_RISK_JSON,
      markets: [
        {
          id: 'ETH-PERP',
          base: 'ETH',
          initialMarginFraction: '0.10',
          maintenanceMarginFraction: '0.05',
          positivePnlWeight: { initial: '0', maintenance: '0' },
        },
      ],
    });
    const health = evaluate(
      account(zeroWeight, { id: 'p', perps: [{ market: 'ETH-PERP', size: '2', entryPrice: '2000' }] }),
      priceBook({ ETH: '2500', USDC: '1' }),
      zeroWeight,
    );
    // gain 1000 × 0 = 0; requirement 500 / 250 → health −500 / −250
    expect(health.initial.healthUsd).toBe(wad('-500'));
    expect(health.maintenance.healthUsd).toBe(wad('-250'));
    expect(health.liquidatable).toBe(true);
  });

  it('combines a weighted gain with collateral in the totals', () => {
    const health = evaluate(
      account(config, {
        id: 'p',
        balances: { USDC: '100' },
        perps: [{ market: 'ETH-PERP', size: '2', entryPrice: '2000' }],
      }),
      priceBook({ ETH: '2500', USDC: '1' }),
      config,
    );
    // initial:     100 × 0.95 + 500 = 595 assets; 500 liabilities → health 95, ratio 1.19
    // maintenance: 100 × 0.98 + 800 = 898 assets; 250 liabilities → health 648, ratio 3.592
    expect(health.initial).toEqual({
      assetsUsd: wad('595'),
      liabilitiesUsd: wad('500'),
      healthUsd: wad('95'),
      ratioWad: wad('1.19'),
    });
    expect(health.maintenance).toEqual({
      assetsUsd: wad('898'),
      liabilitiesUsd: wad('250'),
      healthUsd: wad('648'),
      ratioWad: wad('3.592'),
    });
  });
});

describe('evaluateAccount: size-scaled margin fraction max(base, factor × √(|size| × price))', () => {
  // BTC-PERP: IMF 0.10, MMF 0.05, sizeScalingFactor 0.0002
  const evaluateBtc = (size: string, mark: string): PerpContribution =>
    onlyPerp(
      evaluate(
        account(EXAMPLE_CONFIG, { id: 'p', perps: [{ market: 'BTC-PERP', size, entryPrice: mark }] }),
        priceBook({ BTC: mark, USDC: '1' }),
      ),
    );

  it('lifts both levels when the scaled fraction exceeds both', () => {
    // 16 × 62500 = 1,000,000; √ = 1000; 0.0002 × 1000 = 0.2 > 0.10 > 0.05
    // requirement 1,000,000 × 0.2 = 200,000 at both levels
    const perp = evaluateBtc('16', '62500');
    expect(perp.marginFraction).toEqual({ initialWad: wad('0.2'), maintenanceWad: wad('0.2') });
    expect(perp.initial.liabilitiesUsd).toBe(wad('200000'));
    expect(perp.maintenance.liabilitiesUsd).toBe(wad('200000'));
  });

  it('lifts only maintenance when the scaled fraction lies between the two', () => {
    // 2.56 × 62500 = 160,000; √ = 400; 0.0002 × 400 = 0.08: max(0.10, 0.08) = 0.10, max(0.05, 0.08) = 0.08
    // requirement 160,000 × 0.10 = 16,000 and 160,000 × 0.08 = 12,800
    const perp = evaluateBtc('2.56', '62500');
    expect(perp.marginFraction).toEqual({ initialWad: wad('0.10'), maintenanceWad: wad('0.08') });
    expect(perp.initial.liabilitiesUsd).toBe(wad('16000'));
    expect(perp.maintenance.liabilitiesUsd).toBe(wad('12800'));
  });

  it('rounds an irrational root up', () => {
    // 10 × 63000 = 630,000; √630000 = 793.725393319377177150|4847…
    //   root rounded up to 18 decimals: 793.725393319377177151
    //   × 0.0002 = 0.1587450786638754354302 → rounded up 0.158745078663875436 (> 0.10)
    // requirement 630,000 × 0.158745078663875436 = 100009.39955824152468
    //   (exact 126 × √630000 = 100009.399558241524320961…, so the requirement is ≥ exact)
    const perp = evaluateBtc('10', '63000');
    expect(perp.marginFraction).toEqual({
      initialWad: wad('0.158745078663875436'),
      maintenanceWad: wad('0.158745078663875436'),
    });
    expect(perp.initial.liabilitiesUsd).toBe(wad('100009.39955824152468'));
    expect(perp.maintenance.liabilitiesUsd).toBe(wad('100009.39955824152468'));
  });

  it('keeps the base fractions up to the notional where the scaled one reaches them, and scales one wei past it', () => {
    // MMF 0.05 = 0.0002 × √N at N = 62,500: the scaled fraction binds only above 62,500 USD of notional.
    const btc = EXAMPLE_CONFIG.markets.get('BTC-PERP')!;
    expect(evaluateBtc('1', '62500').marginFraction).toEqual(btc.marginFraction);
    // 1 BTC at 62,500 + 1e-18: ⌈notional⌉ is one wei more, √ rounds up past 250, so the fraction
    // is 0.0002 × 250.000000000000000001 rounded up: 0.050000000000000001.
    const past = evaluateBtc('1', '62500.000000000000000001');
    expect(past.marginFraction).toEqual(scaledMarginFractions(btc, wad('62500.000000000000000001')));
    expect(past.marginFraction.maintenanceWad).toBe(wad('0.050000000000000001'));
    expect(past.marginFraction.initialWad).toBe(wad('0.1'));
  });

  it('scales a short by its absolute size', () => {
    const perp = evaluateBtc('-16', '62500');
    expect(perp.marginFraction).toEqual({ initialWad: wad('0.2'), maintenanceWad: wad('0.2') });
    expect(perp.maintenance.liabilitiesUsd).toBe(wad('200000'));
  });

  it('leaves the base fractions alone without a factor', () => {
    const market: MarketConfig = {
      id: 'X',
      base: 'ETH',
      marginFraction: { initialWad: wad('0.1'), maintenanceWad: wad('0.05') },
      sizeScalingFactorWad: 0n,
      positivePnlWeight: { initialWad: WAD, maintenanceWad: WAD },
      liquidationFeeWad: 0n,
    };
    expect(scaledMarginFractions(market, wad('1000000000'))).toEqual(market.marginFraction);
    // with factor 0.001 at notional 1,000,000 (as a wad): 0.001 × 1000 = 1
    expect(scaledMarginFractions({ ...market, sizeScalingFactorWad: wad('0.001') }, wad('1000000'))).toEqual({
      initialWad: WAD,
      maintenanceWad: WAD,
    });
  });
});

describe('evaluateAccount: assets without collateral or liability sections', () => {
  const config = riskConfig({
    ...EXAMPLE_RISK_JSON,
    assets: [
      ...EXAMPLE_RISK_JSON.assets,
      { id: 'PTS', decimals: 6 }, // neither collateral nor borrowable
    ],
  });
  const prices = priceBook({ PTS: '5', USDC: '1', ETH: '2000', BTC: '60000' });

  it('counts a holding of an asset without `collateral` as zero', () => {
    const health = evaluate(account(config, { id: 'h', balances: { PTS: '100' } }), prices, config);
    const points = balance(health, 'PTS');
    expect(points.weight).toEqual({ initialWad: 0n, maintenanceWad: 0n });
    expect(points.priceWad).toBe(wad('5'));
    expect(points.initial).toEqual({ assetsUsd: 0n, liabilitiesUsd: 0n });
    expect(points.maintenance).toEqual({ assetsUsd: 0n, liabilitiesUsd: 0n });
    expect(health.initial).toEqual({ assetsUsd: 0n, liabilitiesUsd: 0n, healthUsd: 0n, ratioWad: null });
  });

  it('makes a USDC debt liquidatable when only non-collateral is held', () => {
    const health = evaluate(account(config, { id: 'h', balances: { PTS: '100', USDC: '-1' } }), prices, config);
    // 100 PTS count 0; 1 USDC × 1.02 = 1.02 owed
    expect(health.maintenance.healthUsd).toBe(wad('-1.02'));
    expect(health.maintenance.ratioWad).toBe(0n);
    expect(health.liquidatable).toBe(true);
  });

  it('counts a debt in an asset without `liability` at weight 1', () => {
    const health = evaluate(account(config, { id: 'd', balances: { PTS: '-10', USDC: '100' } }), prices, config);
    // 10 × 5 × 1 = 50 owed at both levels
    expect(balance(health, 'PTS').weight).toEqual({ initialWad: WAD, maintenanceWad: WAD });
    expect(health.initial.liabilitiesUsd).toBe(wad('50'));
    expect(health.maintenance.liabilitiesUsd).toBe(wad('50'));
  });
});

describe('evaluateAccount: ratio, liquidatable and warning', () => {
  const prices = (eth: string): PriceBook => priceBook({ ETH: eth, USDC: '1', BTC: '60000' });

  it('reports a null ratio without liabilities', () => {
    const health = evaluate(account(EXAMPLE_CONFIG, { id: 'c', balances: { ETH: '1' } }), prices('2000'));
    // 2000 × 0.80 = 1600; 2000 × 0.85 = 1700; nothing owed
    expect(health.initial).toEqual({ assetsUsd: wad('1600'), liabilitiesUsd: 0n, healthUsd: wad('1600'), ratioWad: null });
    expect(health.maintenance.ratioWad).toBeNull();
    expect(health.liquidatable).toBe(false);
    expect(health.warning).toBe(false);
  });

  it('values an empty account at zero, healthy and without a ratio', () => {
    const health = evaluate({ id: 'e', balances: new Map(), perps: new Map() }, prices('2000'));
    const zero = { assetsUsd: 0n, liabilitiesUsd: 0n, healthUsd: 0n, ratioWad: null };
    expect(health).toEqual({ initial: zero, maintenance: zero, liquidatable: false, warning: false, breakdown: [] });
  });

  it('skips zero balances and zero-size positions', () => {
    const subject: Account = {
      id: 'z',
      balances: new Map([['ETH', 0n], ['USDC', 5_000000n]]),
      perps: new Map([['ETH-PERP', { market: 'ETH-PERP', size: 0n, entryPriceWad: wad('2000') }]]),
    };
    const health = evaluate(subject, prices('2000'));
    expect(health.breakdown.map((c) => (c.kind === 'balance' ? c.asset : c.market))).toEqual(['USDC']);
    expect(health.maintenance.assetsUsd).toBe(wad('4.9')); // 5 × 0.98
  });

  it('is not liquidatable at maintenance health exactly zero, and is one micro-USDC of debt later', () => {
    // ETH 1 × 2040 × 0.85 = 1734; USDC 1700 × 1.02 = 1734 → health 0: not liquidatable
    const atZero = evaluate(account(EXAMPLE_CONFIG, { id: 'a', balances: { ETH: '1', USDC: '-1700' } }), prices('2040'));
    expect(atZero.maintenance.healthUsd).toBe(0n);
    expect(atZero.maintenance.ratioWad).toBe(WAD);
    expect(atZero.liquidatable).toBe(false);
    // initial: 2040 × 0.80 = 1632 − 1700 × 1.05 = 1785 → −153 (initial below zero is not liquidation)
    expect(atZero.initial.healthUsd).toBe(wad('-153'));
    // a ratio of 1 is below the warning ratio 1.1
    expect(atZero.warning).toBe(true);

    // 1700.000001 × 1.02 = 1734.00000102 → health −0.00000102
    const below = evaluate(
      account(EXAMPLE_CONFIG, { id: 'b', balances: { ETH: '1', USDC: '-1700.000001' } }),
      prices('2040'),
    );
    expect(below.maintenance.healthUsd).toBe(wad('-0.00000102'));
    expect(below.liquidatable).toBe(true);
  });

  it('warns below the warning ratio and not at it', () => {
    // ETH 1 × 1320 × 0.85 = 1122; USDC 1000 × 1.02 = 1020; ratio 1122 / 1020 = 1.1 exactly
    const atRatio = evaluate(account(EXAMPLE_CONFIG, { id: 'w', balances: { ETH: '1', USDC: '-1000' } }), prices('1320'));
    expect(atRatio.maintenance.ratioWad).toBe(wad('1.1'));
    expect(atRatio.warning).toBe(false);
    expect(atRatio.liquidatable).toBe(false);

    // one wei lower ETH price: (1320e18 − 1) × 0.85 = 1122e18 − 0.85 → floored 1122e18 − 1 wei
    const below = evaluate(
      account(EXAMPLE_CONFIG, { id: 'w', balances: { ETH: '1', USDC: '-1000' } }),
      new Map(prices('1320')).set('ETH', { priceWad: wad('1320') - 1n, confidenceWad: 0n }),
    );
    expect(below.maintenance.assetsUsd).toBe(wad('1122') - 1n);
    expect(below.maintenance.ratioWad).toBe(wad('1.099999999999999999'));
    expect(below.warning).toBe(true);
    expect(below.liquidatable).toBe(false);
  });

  it('uses the configured warning ratio', () => {
    const strict = riskConfig({ ...EXAMPLE_RISK_JSON, warningRatio: '1.5' });
    // ratio 1.1 (as above) < 1.5 → warning
    const health = evaluate(
      account(strict, { id: 'w', balances: { ETH: '1', USDC: '-1000' } }),
      prices('1320'),
      strict,
    );
    expect(health.warning).toBe(true);
    // 1 × 1800 × 0.85 = 1530 = 1.5 × 1020 → not below
    const atRatio = evaluate(account(strict, { id: 'w', balances: { ETH: '1', USDC: '-1000' } }), prices('1800'), strict);
    expect(atRatio.maintenance.ratioWad).toBe(wad('1.5'));
    expect(atRatio.warning).toBe(false);
  });

  it('compares ratios by cross-multiplication (isBelowRatio)', () => {
    const level = { assetsUsd: 11n, liabilitiesUsd: 10n, healthUsd: 1n, ratioWad: wad('1.1') };
    expect(isBelowRatio(level, wad('1.1'))).toBe(false);
    expect(isBelowRatio(level, wad('1.1') + 1n)).toBe(true);
    expect(isBelowRatio({ assetsUsd: 0n, liabilitiesUsd: 0n, healthUsd: 0n, ratioWad: null }, wad('100'))).toBe(false);
  });
});

describe('evaluateAccount: rounding against the account', () => {
  const prices = priceBook({ ETH: '1.5', USDC: '1', BTC: '60000' });

  it('floors a holding and rounds a debt up', () => {
    const holder = evaluate({ id: 'h', balances: new Map([['ETH', 1n]]), perps: new Map() }, prices);
    // 1 wei ETH × 1.5 = 1.5e-18 USD = 1.5 wei; × 0.80 = 1.2 → 1; × 0.85 = 1.275 → 1
    expect(holder.initial.assetsUsd).toBe(1n);
    expect(holder.maintenance.assetsUsd).toBe(1n);
    const debtor = evaluate({ id: 'd', balances: new Map([['ETH', -1n]]), perps: new Map() }, prices);
    // 1.5 wei × 1.10 = 1.65 → 2; × 1.05 = 1.575 → 2
    expect(debtor.initial.liabilitiesUsd).toBe(2n);
    expect(debtor.maintenance.liabilitiesUsd).toBe(2n);
    // ratio 0 / 2 = 0
    expect(debtor.maintenance.ratioWad).toBe(0n);
  });

  it('floors a perp gain and rounds a perp loss and requirement up', () => {
    const perp = (mark: string): PerpContribution =>
      onlyPerp(
        evaluate(
          {
            id: 'p',
            balances: new Map(),
            perps: new Map([['ETH-PERP', { market: 'ETH-PERP', size: 1n, entryPriceWad: wad('3000') }]]),
          },
          priceBook({ ETH: mark, USDC: '1' }),
        ),
      );
    // 1 wei long, mark 3000.5: PnL 0.5 wei → 0 (floored); requirement 3000.5 wei × 0.10 = 300.05 → 301,
    // × 0.05 = 150.025 → 151
    const gain = perp('3000.5');
    expect(gain.unrealizedPnlUsd).toBe(0n);
    expect(gain.initial).toEqual({ assetsUsd: 0n, liabilitiesUsd: 301n });
    expect(gain.maintenance).toEqual({ assetsUsd: 0n, liabilitiesUsd: 151n });
    // mark 2999.5: PnL −0.5 wei → owed 1 wei; requirement 299.95 → 300 and 149.975 → 150
    const loss = perp('2999.5');
    expect(loss.unrealizedPnlUsd).toBe(-1n);
    expect(loss.initial).toEqual({ assetsUsd: 0n, liabilitiesUsd: 301n });
    expect(loss.maintenance).toEqual({ assetsUsd: 0n, liabilitiesUsd: 151n });
  });

  it('rounds each total once, and each part of the breakdown on its own', () => {
    const prices = priceBook({ ETH: '1.9', USDC: '1' });
    const long: Account = {
      id: 'l',
      balances: new Map([['ETH', 1n]]),
      perps: new Map([['ETH-PERP', { market: 'ETH-PERP', size: 1n, entryPriceWad: wad('1.4') }]]),
    };
    // 1 wei ETH × 1.9 = 1.9 wei: × 0.80 = 1.52, × 0.85 = 1.615; the 1 wei long gains 1.9 − 1.4 = 0.5 wei
    // parts:  initial ⌊1.52⌋ + ⌊0.5⌋ = 1 + 0 = 1;    maintenance ⌊1.615⌋ + ⌊0.5⌋ = 1 + 0 = 1
    // totals: initial ⌊1.52 + 0.5⌋ = ⌊2.02⌋ = 2;     maintenance ⌊1.615 + 0.5⌋ = ⌊2.115⌋ = 2
    // owed: the requirement 1.9 × 0.10 = 0.19 → 1 and 1.9 × 0.05 = 0.095 → 1, one part either way
    const held = evaluate(long, prices);
    expect(balance(held, 'ETH').initial.assetsUsd + onlyPerp(held).initial.assetsUsd).toBe(1n);
    expect(balance(held, 'ETH').maintenance.assetsUsd + onlyPerp(held).maintenance.assetsUsd).toBe(1n);
    expect(held.initial).toEqual({ assetsUsd: 2n, liabilitiesUsd: 1n, healthUsd: 1n, ratioWad: wad('2') });
    expect(held.maintenance).toEqual({ assetsUsd: 2n, liabilitiesUsd: 1n, healthUsd: 1n, ratioWad: wad('2') });

    const short: Account = {
      id: 's',
      balances: new Map(),
      perps: new Map([['ETH-PERP', { market: 'ETH-PERP', size: -1n, entryPriceWad: wad('1.4') }]]),
    };
    // the 1 wei short loses 0.5 wei and owes the same requirement: the part rounds the loss and
    // the requirement up apiece, ⌈0.5⌉ + ⌈0.19⌉ = 2 and ⌈0.5⌉ + ⌈0.095⌉ = 2; the totals round
    // their sum once, ⌈0.69⌉ = 1 and ⌈0.595⌉ = 1
    const owed = evaluate(short, prices);
    expect(onlyPerp(owed).initial.liabilitiesUsd).toBe(2n);
    expect(onlyPerp(owed).maintenance.liabilitiesUsd).toBe(2n);
    expect(owed.initial.liabilitiesUsd).toBe(1n);
    expect(owed.maintenance.liabilitiesUsd).toBe(1n);
    expect(owed.liquidatable).toBe(true); // health 0 − 1 = −1 wei
  });

  it('floors the ratio', () => {
    // 2 wei of assets over 3 wei of liabilities: 0.666…6|… → 0.666666666666666666
    const config = riskConfig({
      quote: 'U',
      assets: [
        { id: 'U', decimals: 18, collateral: { initialWeight: '1', maintenanceWeight: '1' } },
        { id: 'D', decimals: 18, liability: { initialWeight: '1', maintenanceWeight: '1' } },
      ],
    });
    const health = evaluate(
      { id: 'r', balances: new Map([['U', 2n], ['D', -3n]]), perps: new Map() },
      priceBook({ U: '1', D: '1' }),
      config,
    );
    expect(health.maintenance.ratioWad).toBe(wad('0.666666666666666666'));
  });
});

describe('evaluateAccount: valuation errors', () => {
  it('answers PRICE_UNAVAILABLE for a balance without a price', () => {
    const subject = account(EXAMPLE_CONFIG, { id: 'a', balances: { ETH: '1', USDC: '-10' } });
    expect(evaluateAccount(subject, priceBook({ ETH: '2000' }), EXAMPLE_CONFIG)).toEqual({
      ok: false,
      error: { code: 'PRICE_UNAVAILABLE', asset: 'USDC' },
    });
  });

  it("answers PRICE_UNAVAILABLE for a perp whose base asset has no price", () => {
    const subject = account(EXAMPLE_CONFIG, {
      id: 'a',
      balances: { USDC: '1000' },
      perps: [{ market: 'BTC-PERP', size: '1', entryPrice: '60000' }],
    });
    expect(evaluateAccount(subject, priceBook({ USDC: '1', ETH: '2000' }), EXAMPLE_CONFIG)).toEqual({
      ok: false,
      error: { code: 'PRICE_UNAVAILABLE', asset: 'BTC' },
    });
  });

  it('answers UNKNOWN_MARKET for a position in a market the configuration lacks', () => {
    const subject: Account = {
      id: 'a',
      balances: new Map([['USDC', 1_000_000000n]]),
      perps: new Map([['SOL-PERP', { market: 'SOL-PERP', size: 1n, entryPriceWad: wad('150') }]]),
    };
    expect(evaluateAccount(subject, priceBook({ USDC: '1', SOL: '150' }), EXAMPLE_CONFIG)).toEqual({
      ok: false,
      error: { code: 'UNKNOWN_MARKET', market: 'SOL-PERP' },
    });
  });

  it('answers UNKNOWN_ASSET for a balance in an asset the configuration lacks', () => {
    const subject: Account = { id: 'a', balances: new Map([['DOGE', 1n]]), perps: new Map() };
    expect(evaluateAccount(subject, priceBook({ DOGE: '0.1' }), EXAMPLE_CONFIG)).toEqual({
      ok: false,
      error: { code: 'UNKNOWN_ASSET', asset: 'DOGE' },
    });
  });
});
