/**
 * Interest (interest.ts): the kinked rate model at, below and above the kink, its rounding,
 * and a year of daily accruals through the ledger against a hand computation and the
 * closed form.
 *
 * The model is the standard test configuration's USDC model (test/ledger-given.ts):
 *   base 0.02, optimal utilisation 0.8, slope below 0.04, slope above 0.75, reserve factor 0.1
 *   borrowRate(U) = 0.02 + 0.04 × min(U, 0.8) / 0.8 + 0.75 × max(0, U − 0.8) / 0.2
 *   supplyRate(U) = borrowRate(U) × U × (1 − 0.1)
 *
 * Rounding, as documented in interest.ts and docs/SPEC.md (accrueInterest):
 *   - utilisation rounds down, the borrow rate up, the supply rate down;
 *   - one accrual of `elapsed` ms grows the borrow index by ⌈rate × elapsed / year⌉ (a wad)
 *     and then multiplies, rounding the new index up: index' = ⌈index × (1 + growth)⌉;
 *   - the supply index does the same rounding down at both steps;
 *   - a debt is read as ⌈principal × borrowIndex / indexAtBorrow⌉, a deposit as
 *     ⌊principal × supplyIndex / indexAtDeposit⌋;
 *   - at settlement the fee pool takes ⌊interest paid × reserve factor⌋.
 * So debts grow at least at the rate and deposits at most at theirs, and what lenders earn
 * never exceeds what borrowers pay.
 */
import { describe, expect, it } from 'vitest';
import { deposit, given, accrue, LEDGER_CONFIG, LEDGER_RISK_JSON, STANDARD_PRICES, usdc, wad, withdraw } from '../../../test/ledger-given.ts';
import type { InterestModel } from '../config.ts';
import { WAD } from '../fixed.ts';
import { accrue as accrueIndexes, borrowRate, supplyRate, utilization, YEAR_MS } from './interest.ts';
import { initialAssetState, SYSTEM } from './state.ts';

const MODEL: InterestModel = (() => {
  const model = LEDGER_CONFIG.assets.get('USDC')?.interest;
  if (model === undefined) throw new Error('USDC has no interest model');
  return model;
})();

const DAY_MS = 24 * 60 * 60 * 1000;
/** 2025-01-01T00:00:00Z. */
const T0_MS = 1_735_689_600_000;

describe('utilization', () => {
  it.each([
    ['no deposits and no borrows', 0n, 0n, 0n],
    ['borrows without deposits (no division by zero)', 5n, 0n, 0n],
    ['800 of 1000', 800n, 1000n, wad('0.8')],
    ['1 of 3, rounded down', 1n, 3n, 333_333_333_333_333_333n],
    ['all of it', 1000n, 1000n, WAD],
    ['more borrowed than deposited, capped at 1', 1200n, 1000n, WAD],
  ])('%s', (_name, borrows, deposits, expected) => {
    expect(utilization(borrows, deposits)).toBe(expected);
  });
});

describe('borrowRate', () => {
  it.each([
    ['at zero utilisation: the base rate', '0', '0.02'],
    ['below the kink (U 0.4): 0.02 + 0.04 × 0.4 / 0.8', '0.4', '0.04'],
    ['at the kink (U 0.8): 0.02 + 0.04', '0.8', '0.06'],
    ['above the kink (U 0.9): 0.06 + 0.75 × 0.1 / 0.2', '0.9', '0.435'],
    ['at full utilisation: 0.06 + 0.75', '1', '0.81'],
  ])('%s', (_name, utilizationText, expected) => {
    expect(borrowRate(MODEL, wad(utilizationText))).toBe(wad(expected));
  });

  it('rounds up below the kink: U = 0.333…333 gives 0.02 + ⌈0.016666…6665⌉', () => {
    // 0.04 × 333333333333333333 / 0.8 = 16666666666666666.65 (wei) → 16666666666666667.
    expect(borrowRate(MODEL, 333_333_333_333_333_333n)).toBe(36_666_666_666_666_667n);
  });

  it('rounds up above the kink: one wei past the kink adds ⌈0.75 × 1 / 0.2⌉ = 4 wei', () => {
    expect(borrowRate(MODEL, wad('0.8') + 1n)).toBe(wad('0.06') + 4n);
  });

  it('is continuous at the kink and steeper above it', () => {
    const atKink = borrowRate(MODEL, wad('0.8'));
    expect(atKink - borrowRate(MODEL, wad('0.79'))).toBe(wad('0.0005')); // 0.04 × 0.01 / 0.8
    expect(borrowRate(MODEL, wad('0.81')) - atKink).toBe(wad('0.0375')); // 0.75 × 0.01 / 0.2
  });
});

describe('supplyRate', () => {
  it.each([
    ['at zero utilisation: nothing', '0', '0.02', '0'],
    ['below the kink: 0.04 × 0.4 × 0.9', '0.4', '0.04', '0.0144'],
    ['at the kink: 0.06 × 0.8 × 0.9', '0.8', '0.06', '0.0432'],
    ['above the kink: 0.435 × 0.9 × 0.9', '0.9', '0.435', '0.35235'],
  ])('%s', (_name, utilizationText, borrowText, expected) => {
    expect(supplyRate(MODEL, wad(borrowText), wad(utilizationText))).toBe(wad(expected));
  });

  it('rounds down: 0.036666666666666667 × 0.333333333333333333 × 0.9 = 0.011000000000000000089 → 0.011', () => {
    expect(supplyRate(MODEL, 36_666_666_666_666_667n, 333_333_333_333_333_333n)).toBe(wad('0.011'));
  });
});

describe('accrue (one step of the indexes)', () => {
  const atKink = { ...initialAssetState(), totalDeposits: 1000n, totalBorrows: 800n };

  it('a whole year at the kink in one step: simple interest, borrow index 1.06, supply index 1.0432', () => {
    expect(accrueIndexes(MODEL, atKink, YEAR_MS)).toEqual({
      utilizationWad: wad('0.8'),
      borrowRateWad: wad('0.06'),
      supplyRateWad: wad('0.0432'),
      borrowIndexWad: wad('1.06'),
      supplyIndexWad: wad('1.0432'),
    });
  });

  it('one millisecond: the borrow growth rounds up, the supply growth down', () => {
    // 0.06 / 31536000000 = 1902587.519… wei → 1902588;  0.0432 / 31536000000 = 1369863.01… wei → 1369863.
    const step = accrueIndexes(MODEL, atKink, 1);
    expect(step.borrowIndexWad).toBe(WAD + 1_902_588n);
    expect(step.supplyIndexWad).toBe(WAD + 1_369_863n);
  });

  it('compounds on the index it is given, rounding the product against the account', () => {
    // index 1.000000000000000001 × (1 + 0.06) = 1.06000000000000000106 → up 1.060000000000000002, down …001.
    const step = accrueIndexes(MODEL, { ...atKink, borrowIndexWad: WAD + 1n, supplyIndexWad: WAD + 1n }, YEAR_MS);
    expect(step.borrowIndexWad).toBe(wad('1.06') + 2n);
    expect(step.supplyIndexWad).toBe(wad('1.0432') + 1n);
  });

  it('nothing elapsed: the indexes stay', () => {
    const step = accrueIndexes(MODEL, { ...atKink, borrowIndexWad: wad('1.5'), supplyIndexWad: wad('1.2') }, 0);
    expect(step.borrowIndexWad).toBe(wad('1.5'));
    expect(step.supplyIndexWad).toBe(wad('1.2'));
  });
});

/** ⌈a / b⌉ and ⌊a / b⌋ for a ≥ 0, b > 0: written out here so that the hand computation uses nothing from src. */
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
const floorDiv = (a: bigint, b: bigint): bigint => a / b;

describe('a year of accrual at fixed utilisation against a hand computation', () => {
  // The lender deposits 1,000,000 USDC; the borrower deposits 1000 ETH and borrows 800,000 USDC:
  // U = 0.8 (the kink) for the whole year, because nothing but accruals happens, and accruals
  // change no settled balance (utilisation is computed on settled totals).
  // Borrow rate 0.06, supply rate 0.06 × 0.8 × 0.9 = 0.0432, accrued daily for 365 days.
  const PRINCIPAL_BORROWED = usdc('800000');
  const PRINCIPAL_DEPOSITED = usdc('1000000');

  function yearOfDailyAccruals() {
    const scenario = given(
      LEDGER_RISK_JSON,
      ...STANDARD_PRICES,
      deposit('lender', 'USDC', '1000000'),
      deposit('borrower', 'ETH', '1000'),
      withdraw('borrower', 'USDC', '800000'),
      accrue(T0_MS), // starts the clock
    );
    for (let day = 1; day <= 365; day += 1) scenario.and(accrue(T0_MS + day * DAY_MS));
    return scenario;
  }

  /** The documented rounding, step by step, in plain bigint arithmetic. */
  function handComputation() {
    const borrowRateWad = wad('0.06');
    const supplyRateWad = wad('0.0432');
    const year = BigInt(YEAR_MS);
    const day = BigInt(DAY_MS);
    // Growth per day: ⌈0.06 × day / year⌉ = 164383561643836 (exact 164383561643835.6…),
    //                 ⌊0.0432 × day / year⌋ = 118356164383561 (exact 118356164383561.6…).
    const borrowGrowthWad = ceilDiv(borrowRateWad * day, year);
    const supplyGrowthWad = floorDiv(supplyRateWad * day, year);
    expect(borrowGrowthWad).toBe(164_383_561_643_836n);
    expect(supplyGrowthWad).toBe(118_356_164_383_561n);
    let borrowIndexWad = WAD;
    let supplyIndexWad = WAD;
    for (let step = 0; step < 365; step += 1) {
      borrowIndexWad = ceilDiv(borrowIndexWad * (WAD + borrowGrowthWad), WAD);
      supplyIndexWad = floorDiv(supplyIndexWad * (WAD + supplyGrowthWad), WAD);
    }
    // Both principals entered at index 1 (before the first accrual).
    const debt = ceilDiv(PRINCIPAL_BORROWED * borrowIndexWad, WAD);
    const deposit = floorDiv(PRINCIPAL_DEPOSITED * supplyIndexWad, WAD);
    const interestPaid = debt - PRINCIPAL_BORROWED;
    return {
      borrowIndexWad,
      supplyIndexWad,
      debt,
      deposit,
      interestPaid,
      reserve: floorDiv(interestPaid * wad('0.1'), WAD),
      interestEarned: deposit - PRINCIPAL_DEPOSITED,
    };
  }

  it("the borrower's debt, the lender's balance and the indexes equal the hand computation", () => {
    const scenario = yearOfDailyAccruals();
    const hand = handComputation();
    // For the record: 849,465.048543 USDC owed and 1,044,144.034169 USDC held.
    expect(hand.debt).toBe(849_465_048_543n);
    expect(hand.deposit).toBe(1_044_144_034_169n);

    expect(scenario.ledger.state.assets.get('USDC')).toMatchObject({
      borrowIndexWad: hand.borrowIndexWad,
      supplyIndexWad: hand.supplyIndexWad,
      totalDeposits: PRINCIPAL_DEPOSITED,
      totalBorrows: PRINCIPAL_BORROWED,
      accruedAtMs: T0_MS + 365 * DAY_MS,
    });
    expect(scenario.balance('borrower', 'USDC')).toBe(-hand.debt);
    expect(scenario.balance('lender', 'USDC')).toBe(hand.deposit);
  });

  it('agrees with the closed form (1 + r/365)^365 to within one base unit, each side rounded against the account', () => {
    // Closed form as exact rationals: (1 + 0.06/365)^365 = 36506^365 / 36500^365 and
    // (1 + 0.0432/365)^365 = 3650432^365 / 3650000^365.
    // Tolerance: one base unit (0.000001 USDC, ~1e-12 of the amounts). Each of the 365 steps
    // rounds the index by at most 2 wei (growth and product), so the index is off by at most
    // ~730 wei (7.3e-16 relative, < 0.001 base unit on these amounts); the final reading of the
    // balance rounds by less than one more unit. The debt is at or above the closed form, the
    // deposit at or below.
    const scenario = yearOfDailyAccruals();
    const debt = -scenario.balance('borrower', 'USDC');
    const held = scenario.balance('lender', 'USDC');

    const debtNumerator = PRINCIPAL_BORROWED * 36506n ** 365n;
    const debtDenominator = 36500n ** 365n;
    expect(debt * debtDenominator >= debtNumerator).toBe(true); // debt ≥ closed form
    expect((debt - 1n) * debtDenominator < debtNumerator).toBe(true); // debt < closed form + 1 unit

    const heldNumerator = PRINCIPAL_DEPOSITED * 3650432n ** 365n;
    const heldDenominator = 3650000n ** 365n;
    expect(held * heldDenominator <= heldNumerator).toBe(true); // held ≤ closed form
    expect((held + 1n) * heldDenominator > heldNumerator).toBe(true); // held > closed form − 1 unit

    // Daily compounding beats simple interest: 6.1831 % > 6 % and 4.4144 % > 4.32 %.
    expect(debt).toBeGreaterThan(usdc('848000'));
    expect(held).toBeGreaterThan(usdc('1043200'));
  });

  it('settlement moves the interest by double entry: the fee pool gets the reserve, lenders never more than borrowers pay', () => {
    const scenario = yearOfDailyAccruals();
    const hand = handComputation();

    // Touching the borrower (an ETH deposit) settles the debt.
    scenario.when(deposit('borrower', 'ETH', '1')).thenEvents([
      {
        type: 'AccountSettled',
        account: 'borrower',
        interest: [{ asset: 'USDC', amount: -hand.interestPaid, indexWad: hand.borrowIndexWad }],
        funding: [],
        // ⌊49,465.048543 × 0.1⌋ = 4,946.504854 USDC.
        reserve: [{ asset: 'USDC', amount: hand.reserve }],
      },
      { type: 'CollateralDeposited', account: 'borrower', asset: 'ETH', amount: wad('1') },
    ]);
    expect(hand.reserve).toBe(usdc('4946.504854'));
    expect(scenario.stored('borrower', 'USDC')).toBe(-hand.debt);
    expect(scenario.stored(SYSTEM.fees, 'USDC')).toBe(hand.reserve);

    // Touching the lender settles the deposit.
    scenario.when(deposit('lender', 'USDC', '1')).thenEventTypes(['AccountSettled', 'CollateralDeposited']);
    expect(scenario.stored('lender', 'USDC')).toBe(hand.deposit + usdc('1'));

    // What stays in the interest pool: paid − reserve − earned = 49,465.048543 − 4,946.504854 − 44,144.034169.
    const pool = scenario.stored(SYSTEM.interest, 'USDC');
    expect(pool).toBe(hand.interestPaid - hand.reserve - hand.interestEarned);
    expect(pool).toBe(usdc('374.50952'));
    expect(pool).toBeGreaterThanOrEqual(0n);
  });
});
