/**
 * The Aave v3 case of the risk model (DESIGN.md "The risk model"): with
 *   collateral maintenance weight = liquidation threshold (LT),
 *   collateral initial weight     = loan-to-value (LTV),
 *   liability weights 1, no perps, no confidence,
 * the engine must reproduce Aave's
 *   health factor      HF = Σ collateral_i × price_i × LT_i / Σ debt_j × price_j  = ratio_maintenance
 *   available borrows     = Σ collateral_i × price_i × LTV_i − Σ debt_j × price_j = health_initial (when > 0)
 * and Aave's liquidation condition HF < 1 is health_maintenance < 0.
 *
 * These are the formulas of Aave's GenericLogic.calculateUserAccountData in exact
 * arithmetic; on-chain Aave prices in 8-decimal base currency with half-up percentMul and
 * wadDiv, which differ at the last digits. The portfolios below are chosen so that every
 * value is exact in 18 decimals; the ratio is the exact HF floored to 18 decimals.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDecimal, WAD } from '../src/core/fixed.ts';
import { evaluateAccount, type AccountHealth } from '../src/core/health.ts';
import type { Account } from '../src/core/account.ts';
import type { RiskConfig } from '../src/core/config.ts';
import type { PriceBook } from '../src/core/prices.ts';
import { account, priceBook, riskConfig, wad } from './fixtures.ts';

/** Aave v3 Ethereum-style parameters (LTV / LT), borrowing at weight 1. */
function reserve(id: string, decimals: number, ltv: string, lt: string) {
  return {
    id,
    decimals,
    collateral: { initialWeight: ltv, maintenanceWeight: lt },
    liability: { initialWeight: '1', maintenanceWeight: '1' },
  };
}

const AAVE = riskConfig({
  quote: 'USDC',
  warningRatio: '1.05',
  assets: [
    reserve('WETH', 18, '0.80', '0.825'),
    reserve('WBTC', 8, '0.73', '0.78'),
    reserve('USDC', 6, '0.77', '0.80'),
    reserve('DAI', 18, '0.63', '0.77'),
    reserve('LINK', 18, '0.53', '0.68'),
  ],
});

function evaluate(subject: Account, prices: PriceBook, config: RiskConfig = AAVE): AccountHealth {
  const result = evaluateAccount(subject, prices, config);
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

describe('Aave v3 health factor and available borrows', () => {
  it('portfolio 1: WETH collateral, USDC debt', () => {
    const health = evaluate(
      account(AAVE, { id: 'p1', balances: { WETH: '10', USDC: '-5000' } }),
      priceBook({ WETH: '2000', USDC: '1' }),
    );
    // collateral 10 × 2000 = 20000; × LT 0.825 = 16500; × LTV 0.80 = 16000; debt 5000 × 1 = 5000
    // HF = 16500 / 5000 = 3.3; available borrows = 16000 − 5000 = 11000
    expect(health.maintenance.ratioWad).toBe(wad('3.3'));
    expect(health.initial.healthUsd).toBe(wad('11000'));
    expect(health.maintenance.healthUsd).toBe(wad('11500')); // 16500 − 5000
    expect(health.liquidatable).toBe(false);
  });

  it('portfolio 2: WBTC and USDC collateral, WETH and DAI debt', () => {
    const health = evaluate(
      account(AAVE, { id: 'p2', balances: { WBTC: '0.5', USDC: '20000', WETH: '-4', DAI: '-5000' } }),
      priceBook({ WBTC: '60000', USDC: '1', WETH: '2500', DAI: '0.9998' }),
    );
    // collateral: WBTC 0.5 × 60000 = 30000, USDC 20000 × 1 = 20000
    //   Σ × LT  = 30000 × 0.78 + 20000 × 0.80 = 23400 + 16000 = 39400
    //   Σ × LTV = 30000 × 0.73 + 20000 × 0.77 = 21900 + 15400 = 37300
    // debt: WETH 4 × 2500 = 10000, DAI 5000 × 0.9998 = 4999 → 14999
    // HF = 39400 / 14999 = 2.626841789452630175|30… ; available = 37300 − 14999 = 22301
    expect(health.maintenance).toEqual({
      assetsUsd: wad('39400'),
      liabilitiesUsd: wad('14999'),
      healthUsd: wad('24401'),
      ratioWad: wad('2.626841789452630175'),
    });
    expect(health.initial.assetsUsd).toBe(wad('37300'));
    expect(health.initial.liabilitiesUsd).toBe(wad('14999'));
    expect(health.initial.healthUsd).toBe(wad('22301'));
  });

  it('portfolio 3: three collaterals with 8- and 18-decimal amounts, two debts', () => {
    const health = evaluate(
      account(AAVE, {
        id: 'p3',
        balances: { WBTC: '1.23456789', WETH: '3.14159265', DAI: '1000.5', USDC: '-25000.123456', LINK: '-100' },
      }),
      priceBook({ WBTC: '61234.56', WETH: '2345.67', DAI: '1.0001', USDC: '0.9999', LINK: '14.25' }),
    );
    // collateral values:
    //   WBTC 1.23456789 × 61234.56  = 75598.2215342784
    //   WETH 3.14159265 × 2345.67   = 7369.1396313255
    //   DAI  1000.5     × 1.0001    = 1000.60005
    // × LT:  75598.2215342784 × 0.78  = 58966.612796737152
    //        7369.1396313255  × 0.825 = 6079.5401958435375
    //        1000.60005       × 0.77  = 770.4620385
    //        Σ = 65816.6150310806895
    // × LTV: 75598.2215342784 × 0.73  = 55186.701720023232
    //        7369.1396313255  × 0.80  = 5895.3117050604
    //        1000.60005       × 0.63  = 630.3780315
    //        Σ = 61712.391456583632
    // debt:  USDC 25000.123456 × 0.9999 = 24997.6234436544; LINK 100 × 14.25 = 1425 → 26422.6234436544
    // HF = 65816.6150310806895 / 26422.6234436544 = 2.490919010045804712|48…
    // available = 61712.391456583632 − 26422.6234436544 = 35289.768012929232
    expect(health.maintenance.assetsUsd).toBe(wad('65816.6150310806895'));
    expect(health.maintenance.liabilitiesUsd).toBe(wad('26422.6234436544'));
    expect(health.maintenance.ratioWad).toBe(wad('2.490919010045804712'));
    expect(health.initial.assetsUsd).toBe(wad('61712.391456583632'));
    expect(health.initial.healthUsd).toBe(wad('35289.768012929232'));
    expect(health.liquidatable).toBe(false);
    expect(health.warning).toBe(false);
  });

  it('portfolio 4: HF exactly 1 is not liquidatable, and nothing more can be borrowed', () => {
    const health = evaluate(
      account(AAVE, { id: 'p4', balances: { WETH: '1', USDC: '-1650' } }),
      priceBook({ WETH: '2000', USDC: '1' }),
    );
    // 1 × 2000 × 0.825 = 1650 = debt → HF = 1 (Aave liquidates below 1)
    // available = 1 × 2000 × 0.80 − 1650 = −50: Aave shows 0, the engine the shortfall −50
    expect(health.maintenance.ratioWad).toBe(WAD);
    expect(health.maintenance.healthUsd).toBe(0n);
    expect(health.liquidatable).toBe(false);
    expect(health.initial.healthUsd).toBe(wad('-50'));
    // HF 1 < warning ratio 1.05
    expect(health.warning).toBe(true);
  });

  it('portfolio 5: HF below 1 is liquidatable', () => {
    const health = evaluate(
      account(AAVE, { id: 'p5', balances: { WETH: '1', USDC: '-1350' } }),
      priceBook({ WETH: '1600', USDC: '1' }),
    );
    // 1 × 1600 × 0.825 = 1320 → HF = 1320 / 1350 = 0.977777777777777777|7…
    // available = 1 × 1600 × 0.80 − 1350 = −70
    expect(health.maintenance.ratioWad).toBe(wad('0.977777777777777777'));
    expect(health.maintenance.healthUsd).toBe(wad('-30'));
    expect(health.initial.healthUsd).toBe(wad('-70'));
    expect(health.liquidatable).toBe(true);
  });

  it('portfolio 6: no debt — HF unbounded (null), available borrows = Σ collateral × LTV', () => {
    const health = evaluate(
      account(AAVE, { id: 'p6', balances: { WETH: '2', DAI: '1000' } }),
      priceBook({ WETH: '2000', DAI: '1' }),
    );
    // 2 × 2000 × 0.80 + 1000 × 1 × 0.63 = 3200 + 630 = 3830
    expect(health.maintenance.ratioWad).toBeNull();
    expect(health.initial.healthUsd).toBe(wad('3830'));
    expect(health.liquidatable).toBe(false);
  });
});

describe('Aave v3 health factor on random Aave-style portfolios', () => {
  // Amounts in hundredths of a unit, prices in cents, LTV/LT in basis points (as Aave
  // configures them): every product is a whole number of 1e-8 USD, exact in 18 decimals.
  const reserveArb = fc
    .record({
      decimals: fc.integer({ min: 2, max: 18 }),
      ltBps: fc.integer({ min: 1, max: 9500 }),
      ltvShareBps: fc.integer({ min: 0, max: 10000 }),
      priceCents: fc.integer({ min: 1, max: 1_000_000_000 }),
      hundredths: fc.oneof(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), fc.integer({ min: -100, max: 100 })),
    })
    .map((r) => ({ ...r, ltvBps: Math.floor((r.ltBps * r.ltvShareBps) / 10000) }));

  it('reproduces HF = Σ c·p·LT / Σ d·p and available borrows = Σ c·p·LTV − Σ d·p exactly', () => {
    fc.assert(
      fc.property(fc.array(reserveArb, { minLength: 1, maxLength: 5 }), (reserves) => {
        const ids = reserves.map((_, index) => `R${index}`);
        const config = riskConfig({
          quote: 'R0',
          assets: reserves.map((r, index) =>
            reserve(ids[index]!, r.decimals, formatDecimal(BigInt(r.ltvBps), 4), formatDecimal(BigInt(r.ltBps), 4)),
          ),
        });
        const balances = new Map<string, bigint>();
        const prices = new Map<string, { priceWad: bigint; confidenceWad: bigint }>();
        // in units of 1e-8 USD: hundredths × cents × bps
        let collateralLt = 0n;
        let collateralLtv = 0n;
        let debt = 0n;
        reserves.forEach((r, index) => {
          const id = ids[index]!;
          prices.set(id, { priceWad: BigInt(r.priceCents) * 10n ** 16n, confidenceWad: 0n });
          if (r.hundredths === 0) return;
          balances.set(id, BigInt(r.hundredths) * 10n ** BigInt(r.decimals - 2));
          const value = BigInt(Math.abs(r.hundredths)) * BigInt(r.priceCents);
          if (r.hundredths > 0) {
            collateralLt += value * BigInt(r.ltBps);
            collateralLtv += value * BigInt(r.ltvBps);
          } else {
            debt += value * 10000n;
          }
        });
        const health = evaluate({ id: 'r', balances, perps: new Map() }, prices, config);
        const toWad = 10n ** 10n; // 1e-8 USD → 1e-18 USD
        const healthFactorWad = debt === 0n ? null : (collateralLt * WAD) / debt;
        expect(health.maintenance.ratioWad).toBe(healthFactorWad);
        expect(health.maintenance.assetsUsd).toBe(collateralLt * toWad);
        expect(health.maintenance.liabilitiesUsd).toBe(debt * toWad);
        expect(health.initial.healthUsd).toBe((collateralLtv - debt) * toWad);
        expect(health.liquidatable).toBe(collateralLt < debt); // HF < 1
      }),
      { numRuns: 300 },
    );
  });
});
