/**
 * Liquidation through the ledger, given / when / then: every path of
 * `Ledger.execute({ kind: 'liquidate', … })` (and of `bid` / `resetAuction`), worked by hand.
 * After every accepted liquidation the full invariant check (`checkInvariants`) must be empty.
 *
 * Configuration (LIQ_RISK_JSON), chosen so that the arithmetic comes out exact:
 * - USDC (6 decimals), the quote: weight 1 as collateral and as debt, no penalty, no interest;
 * - ETH (18): collateral 0.8 initial / 0.9 maintenance, borrowable, penalty 5 %;
 * - BTC (8): collateral 0.8 / 0.9, penalty 10 %;
 * - ETH-PERP, BTC-PERP: margin fractions 0.10 / 0.05, liquidation fee 2.5 %;
 * - liquidation: insuranceShare 0.5, dust 1 USD, maxShare 1, no cascade cap (tests vary these).
 * World: prices USDC 1, ETH 2000, BTC 20000 (zero confidence); bob (the keeper) and carol
 * (counterparty and lender) hold 100 000 USDC each.
 *
 * Rules of thumb used in the comments:
 * - reducing x of a perp at mark P restores (0.10 − 0.025) × P × x of initial health;
 * - repaying r USDC against ETH restores (1 − 1.05 × 0.8) × r = 0.16 r of initial health;
 * - the spot case "1 ETH against 1500 USDC, ETH at 1600" has maintenance 1440 − 1500 = −60
 *   and initial 1280 − 1500 = −220, so the minimal repayment is 220 / 0.16 = 1375 USDC.
 *
 * Tests named "BUG: …" state what the engine should do and fail until it does; each comment
 * gives the shrunk counterexample, the expected and the actual outcome.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  deposit,
  given,
  price,
  trade,
  wad,
  withdraw,
  type Scenario,
  type Then,
} from '../../../test/ledger-given.ts';
import type { Account } from '../account.ts';
import type { RiskConfig } from '../config.ts';
import { abs, WAD } from '../fixed.ts';
import { evaluateAccount } from '../health.ts';
import { explainLiquidation } from '../liquidation/explain.ts';
import { targetHealth } from '../liquidation/plan.ts';
import { applyMovements, movementsOf, type LiquidationStep, type Views } from '../liquidation/steps.ts';
import type { PriceBook } from '../prices.ts';
import type { BidCommand, Command, LiquidateCommand, PriceCommand, ResetAuctionCommand } from './commands.ts';
import type { LedgerEvent, LiquidationCompleted, LiquidationStepEventType } from './events.ts';
import { checkInvariants } from './invariants.ts';
import { deleveragingRankOf } from './liquidate.ts';
import { accountView, liquidationParties, SYSTEM } from './state.ts';
import { LIQ_RISK_JSON } from '../../../test/liquidation-fixtures.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const E18 = 10n ** 18n;
const E6 = 10n ** 6n;
/** 2025-01-01T00:00:00Z: commands carry time; nothing reads the clock. */
const T0_MS = 1_735_689_600_000;


type RiskJson = typeof LIQ_RISK_JSON;

function riskJson(edit: (json: RiskJson) => void = () => {}): RiskJson {
  const json = structuredClone(LIQ_RISK_JSON);
  edit(json);
  return json;
}

const LINEAR_AUCTION = {
  startFactor: '1.1',
  curve: 'linear',
  durationMs: 600_000,
  floorFactor: '0.5',
  resetAfterMs: 900_000,
  resetBelowFactor: '0.7',
};

/** The world of every test: prices, and bob and carol with 100 000 USDC each. */
function world(json: RiskJson = LIQ_RISK_JSON, ...setup: readonly Command[]): Scenario {
  return given(
    json,
    price('USDC', '1'),
    price('ETH', '2000'),
    price('BTC', '20000'),
    deposit('bob', 'USDC', '100000'),
    deposit('carol', 'USDC', '100000'),
    ...setup,
  );
}

/** Alice pledges 1 ETH at 2000 and borrows `borrowUsdc` USDC (initial 1600 − 1500 = 100 ≥ 0). */
function spotBorrower(id = 'alice', borrowUsdc = '1500'): Command[] {
  return [deposit(id, 'ETH', '1'), withdraw(id, 'USDC', borrowUsdc)];
}

let keyCounter = 0;
function key(kind: string): string {
  keyCounter += 1;
  return `liquidate-test-${kind}-${keyCounter}`;
}

function liquidate(account: string, liquidator: string, nowMs = T0_MS, maxNotionalUsd?: bigint): LiquidateCommand {
  return {
    kind: 'liquidate',
    idempotencyKey: key('liquidate'),
    account,
    liquidator,
    nowMs,
    ...(maxNotionalUsd !== undefined && { maxNotionalUsd }),
  };
}

function bid(auctionId: string, taker: string, amount: bigint, maxPrice: string, nowMs: number): BidCommand {
  return { kind: 'bid', idempotencyKey: key('bid'), auctionId, taker, amount, maxPriceWad: wad(maxPrice), nowMs };
}

function resetAuction(auctionId: string, nowMs: number): ResetAuctionCommand {
  return { kind: 'resetAuction', idempotencyKey: key('reset'), auctionId, nowMs };
}

/** A price the oracle flags as failing its guards. */
function unhealthyPrice(asset: string, priceText: string, reason: string): PriceCommand {
  return { ...price(asset, priceText), healthy: false, reasons: [reason] };
}

interface Liquidation {
  readonly events: readonly LedgerEvent[];
  readonly steps: readonly LiquidationStepEventType[];
  readonly completed: LiquidationCompleted;
  readonly explanation: string;
}

/** An accepted liquidation: its events, steps and explanation; the invariants hold after it. */
function liquidated(then: Then): Liquidation {
  const events = then.events;
  expect(checkInvariants(then.ledger.state)).toEqual([]);
  expect(then.ledger.state.halted).toBeNull();
  const steps = events.filter((event): event is LiquidationStepEventType => 'step' in event);
  const completed = events.find((event): event is LiquidationCompleted => event.type === 'LiquidationCompleted');
  if (completed === undefined) throw new Error('no LiquidationCompleted');
  return { events, steps, completed, explanation: explainLiquidation(steps, completed, then.ledger.state.config) };
}

/** Views of the parties of a liquidation of `account` by `liquidator`, as the ledger sees them now. */
function partyViews(s: Scenario, account: string, liquidator: string): Views {
  const parties = liquidationParties(account, liquidator);
  const views = new Map<string, Account>();
  for (const id of [parties.account, parties.liquidator, parties.insurance, parties.lenders, parties.escrow]) {
    const record = s.ledger.state.accounts.get(id);
    if (record !== undefined) views.set(id, accountView(s.ledger.state, record));
  }
  return views;
}

/**
 * The same step one base unit smaller, priced independently of plan.ts:
 *   perp: fee = ⌈|size| × price × fee rate⌉ in quote base units, the fund's share rounded down;
 *   swap: value = ⌊repaid × price_debt⌋, seized = ⌊value × (1 + penalty) / price_collateral⌋.
 */
function oneUnitLess(step: LiquidationStep, config: RiskConfig, prices: PriceBook): LiquidationStep {
  const share = config.liquidation.insuranceShareWad;
  if (step.kind === 'perp') {
    const market = config.markets.get(step.market)!;
    const baseUnit = config.assets.get(market.base)!.unit;
    const quoteUnit = config.assets.get(config.quote)!.unit;
    const size = step.size - (step.size > 0n ? 1n : -1n);
    const numerator = abs(size) * step.priceWad * market.liquidationFeeWad * quoteUnit;
    const denominator = baseUnit * WAD * WAD;
    const penalty = (numerator + denominator - 1n) / denominator;
    return { ...step, size, penalty, toInsurance: (penalty * share) / WAD };
  }
  if (step.kind === 'swap') {
    const debt = config.assets.get(step.debtAsset)!;
    const collateral = config.assets.get(step.collateralAsset)!;
    const debtPrice = prices.get(step.debtAsset)!.priceWad;
    const collateralPrice = prices.get(step.collateralAsset)!.priceWad;
    const repaid = step.repaid - 1n;
    const valueUsd = (repaid * debtPrice) / debt.unit;
    const seized = (valueUsd * (WAD + collateral.liquidationPenaltyWad) * collateral.unit) / (WAD * collateralPrice);
    const fair = (valueUsd * collateral.unit) / collateralPrice;
    return { ...step, repaid, valueUsd, seized, toInsurance: ((seized - fair) * share) / WAD };
  }
  throw new Error(`oneUnitLess: no smaller ${step.kind} step`);
}

/**
 * Replays the steps on the views taken before the liquidation: each MINIMAL_TO_TARGET step
 * reaches the target, and the same step one base unit smaller does not.
 */
function expectMinimal(s: Scenario, before: Views, steps: readonly LiquidationStepEventType[]): void {
  const { config, prices } = s.ledger.state;
  const first = steps[0];
  if (first === undefined) return;
  const parties = liquidationParties(first.account, first.liquidator);
  const targetAfter = (views: Views, step: LiquidationStep): bigint => {
    const next = applyMovements(views, movementsOf(step, parties, config), config);
    const health = evaluateAccount(next.get(parties.account)!, prices, config);
    if (!health.ok) throw new Error(health.error.code);
    return targetHealth(health.value, config);
  };
  let views = before;
  for (const { step } of steps) {
    if (step.rule === 'MINIMAL_TO_TARGET' && (step.kind === 'perp' || step.kind === 'swap')) {
      expect(targetAfter(views, step)).toBeGreaterThanOrEqual(0n);
      expect(targetAfter(views, oneUnitLess(step, config, prices))).toBeLessThan(0n);
    }
    views = applyMovements(views, movementsOf(step, parties, config), config);
  }
}

// ── Perps only ─────────────────────────────────────────────────────────────────────────

describe('liquidate: perps only', () => {
  /**
   * Alice: 1525 USDC; buys 10 ETH-PERP at 1100 and 0.1 BTC-PERP at 20000 from carol with ETH
   * at 1100 (initial 1525 − 1100 − 200 = 225 ≥ 0). ETH falls to 1000:
   *   ETH-PERP: PnL −1000, requirement 500 maintenance / 1000 initial; BTC-PERP: 100 / 200
   *   maintenance 1525 − 1000 − 500 − 100 = −75 (liquidatable), initial −675.
   * ETH-PERP has the larger requirement and goes first: x = 675 / 75 = 9 ETH at the mark 1000.
   *   fee 9 × 1000 × 0.025 = 225 USDC: 112.5 to the fund (insuranceShare 0.5), 112.5 to bob
   *   alice: USDC 1525 − 900 (realised) − 225 = 400; ETH-PERP 1; BTC-PERP 0.1: initial 0.
   * In the first test bob already holds 1 ETH-PERP and 0.01 BTC-PERP (bought from carol).
   */
  function perpTrader(keeperHasPositions: boolean): Scenario {
    return world(
      LIQ_RISK_JSON,
      price('ETH', '1100'),
      deposit('alice', 'USDC', '1525'),
      trade({ market: 'ETH-PERP', price: '1100', size: '10', buyer: 'alice', seller: 'carol' }),
      trade({ market: 'BTC-PERP', price: '20000', size: '0.1', buyer: 'alice', seller: 'carol' }),
      ...(keeperHasPositions
        ? [
            trade({ market: 'ETH-PERP', price: '1100', size: '1', buyer: 'bob', seller: 'carol' }),
            trade({ market: 'BTC-PERP', price: '20000', size: '0.01', buyer: 'bob', seller: 'carol' }),
          ]
        : []),
      price('ETH', '1000'),
    );
  }

  it('reduces the largest requirement first, by the least that restores initial health; the position passes at the mark and the fee is split', () => {
    const s = perpTrader(true);
    const before = partyViews(s, 'alice', 'bob');
    const result = liquidated(s.when(liquidate('alice', 'bob')));
    expect(result.events.map((event) => event.type)).toEqual(['PositionLiquidated', 'LiquidationCompleted']);
    expect(result.steps[0]).toEqual({
      type: 'PositionLiquidated',
      account: 'alice',
      liquidator: 'bob',
      step: {
        kind: 'perp',
        market: 'ETH-PERP',
        size: 9n * E18,
        priceWad: 1000n * E18,
        penalty: 225n * E6,
        toInsurance: 112_500_000n,
        notionalUsd: 9000n * E18,
        rule: 'MINIMAL_TO_TARGET',
      },
    });
    expect(result.completed).toMatchObject({
      bankrupt: false,
      targetReached: true,
      healthBefore: { maintenance: { healthUsd: -75n * E18 }, initial: { healthUsd: -675n * E18 } },
      healthAfter: { initial: { healthUsd: 0n } },
      notional: [{ key: 'ETH-PERP', usd: 9000n * E18 }],
      penaltiesUsd: 225n * E18,
      badDebtUsd: 0n,
    });
    expect(s.balance('alice', 'USDC')).toBe(400n * E6);
    expect(s.position('alice', 'ETH-PERP')).toBe(E18);
    expect(s.position('alice', 'BTC-PERP')).toBe(10_000_000n);
    // Bob: 1 + 9 ETH-PERP, entry (1 × 1100 + 9 × 1000) / 10 = 1010; half the fee.
    expect(s.position('bob', 'ETH-PERP')).toBe(10n * E18);
    expect(s.ledger.state.accounts.get('bob')!.perps.get('ETH-PERP')!.entryPriceWad).toBe(1010n * E18);
    expect(s.balance('bob', 'USDC')).toBe(100_112_500_000n);
    expect(s.balance(SYSTEM.insurance, 'USDC')).toBe(112_500_000n);
    expectMinimal(s, before, result.steps);
    expect(result.explanation).toBe(
      'Maintenance health fell to −75.00 USD with BTC at 20,000.00, ETH at 1,000.00, USDC at 1.00; ' +
        '9 ETH of the long ETH-PERP position passed to the liquidator at 1,000.00 (the least that restores the target), ' +
        'fee 225 USDC; penalties 225.00 USD; initial health is now +0.00 USD.',
    );
  });

  it('a keeper with no position in the market takes a perp position over', () => {
    // Regression: the planner sizes the step with minimalAmount, which evaluates the amount
    // 0, a fill of size 0 for a liquidator with no position; averageEntryPrice then divided
    // by |0| + |0| and Ledger.execute threw RangeError "divDown: denominator must be positive".
    const s = perpTrader(false);
    const result = liquidated(s.when(liquidate('alice', 'bob')));
    expect(result.steps[0]!.step).toMatchObject({ kind: 'perp', market: 'ETH-PERP', size: 9n * E18, rule: 'MINIMAL_TO_TARGET' });
    expect(s.position('bob', 'ETH-PERP')).toBe(9n * E18);
    expect(s.ledger.state.accounts.get('bob')!.perps.get('ETH-PERP')!.entryPriceWad).toBe(1000n * E18);
  });

  it('the backstop takes a perp position over', () => {
    // The backstop cannot trade (a system account), so it never holds a position before its
    // first perp liquidation: the same regression as above, for every such liquidation.
    const s = perpTrader(false).and(deposit(SYSTEM.backstop, 'USDC', '100000'));
    liquidated(s.when(liquidate('alice', SYSTEM.backstop)));
    expect(s.position(SYSTEM.backstop, 'ETH-PERP')).toBe(9n * E18);
    expect(s.balance(SYSTEM.backstop, 'USDC')).toBe(100_112_500_000n);
  });
});

// ── Spot only ──────────────────────────────────────────────────────────────────────────

describe('liquidate: debt for collateral', () => {
  it('seizes repaid × price_debt × (1 + penalty) / price_collateral for the least repayment that reaches the target', () => {
    /**
     * 1 ETH against 1500 USDC, ETH at 1600: r = 1375 USDC (see the header).
     *   seized = 1375 × 1 × 1.05 / 1600 = 0.90234375 ETH
     *   fair 1375 / 1600 = 0.859375; bonus 0.04296875 ETH, half (0.021484375) to the fund
     *   alice: 0.09765625 ETH (initial 0.8 × 1600 × 0.09765625 = 125) against 125 USDC
     *   bob:   100000 − 1375 = 98625 USDC and 0.90234375 − 0.021484375 = 0.880859375 ETH
     */
    const s = world(LIQ_RISK_JSON, ...spotBorrower(), price('ETH', '1600'));
    const before = partyViews(s, 'alice', 'bob');
    const result = liquidated(s.when(liquidate('alice', 'bob')));
    expect(result.events).toEqual([
      {
        type: 'CollateralSeized',
        account: 'alice',
        liquidator: 'bob',
        step: {
          kind: 'swap',
          debtAsset: 'USDC',
          repaid: 1375n * E6,
          collateralAsset: 'ETH',
          seized: 902_343_750_000_000_000n,
          penaltyWad: 50_000_000_000_000_000n,
          toInsurance: 21_484_375_000_000_000n,
          valueUsd: 1375n * E18,
          rule: 'MINIMAL_TO_TARGET',
        },
      },
      expect.objectContaining({ type: 'LiquidationCompleted', targetReached: true, penaltiesUsd: 68_750_000_000_000_000_000n }),
    ]);
    expect(s.balance('alice', 'ETH')).toBe(97_656_250_000_000_000n);
    expect(s.balance('alice', 'USDC')).toBe(-125n * E6);
    expect(s.balance('bob', 'USDC')).toBe(98_625n * E6);
    expect(s.balance('bob', 'ETH')).toBe(880_859_375_000_000_000n);
    expect(s.balance(SYSTEM.insurance, 'ETH')).toBe(21_484_375_000_000_000n);
    expect(result.completed.healthAfter.initial.healthUsd).toBe(0n);
    // 1374.999999 USDC would seize 0.90234374934375 ETH and leave initial health −0.00000016.
    expectMinimal(s, before, result.steps);
    expect(result.explanation).toBe(
      'Maintenance health fell to −60.00 USD with ETH at 1,600.00, USDC at 1.00; ' +
        '0.902343 ETH was sold to repay 1375 USDC (the least that restores the target; penalty 5%); ' +
        'penalties 68.75 USD; initial health is now +0.00 USD.',
    );
  });
});

// ── Mixed ──────────────────────────────────────────────────────────────────────────────

describe('liquidate: mixed', () => {
  it('reduces perps first, then repays debt with collateral', () => {
    /**
     * ETH at 2000: alice pledges 1 ETH, buys 2 ETH-PERP at 1700 from carol (PnL +600) and
     * borrows 1200 USDC (initial 1600 + 600 − 400 − 1200 = 600 ≥ 0). ETH falls to 1600:
     *   maintenance 1440 − 1200 − 200 − 160 = −120; initial 1280 − 1200 − 200 − 320 = −440
     *   1. all 2 ETH-PERP at 1600 restore 240 (fee 80 USDC, 40 to the fund): −200, ALL_AVAILABLE
     *   2. r = 200 / 0.16 = 1250 USDC for 1250 × 1.05 / 1600 = 0.8203125 ETH
     *   alice: 0.1796875 ETH (initial 230) against 1200 + 200 + 80 − 1250 = 230 USDC: 0.
     */
    const s = world(
      LIQ_RISK_JSON,
      deposit('alice', 'ETH', '1'),
      trade({ market: 'ETH-PERP', price: '1700', size: '2', buyer: 'alice', seller: 'carol' }),
      withdraw('alice', 'USDC', '1200'),
      trade({ market: 'ETH-PERP', price: '1700', size: '1', buyer: 'bob', seller: 'carol' }),
      price('ETH', '1600'),
    );
    const before = partyViews(s, 'alice', 'bob');
    const result = liquidated(s.when(liquidate('alice', 'bob')));
    expect(result.events.map((event) => event.type)).toEqual(['PositionLiquidated', 'CollateralSeized', 'LiquidationCompleted']);
    expect(result.steps[0]!.step).toMatchObject({ size: 2n * E18, priceWad: 1600n * E18, penalty: 80n * E6, toInsurance: 40n * E6, rule: 'ALL_AVAILABLE' });
    expect(result.steps[1]!.step).toMatchObject({ repaid: 1250n * E6, seized: 820_312_500_000_000_000n, rule: 'MINIMAL_TO_TARGET' });
    expect(s.position('alice', 'ETH-PERP')).toBe(0n);
    expect(s.balance('alice', 'ETH')).toBe(179_687_500_000_000_000n);
    expect(s.balance('alice', 'USDC')).toBe(-230n * E6);
    expect(result.completed.healthAfter.initial.healthUsd).toBe(0n);
    expect(result.completed.notional).toEqual([
      { key: 'ETH', usd: 1250n * E18 },
      { key: 'ETH-PERP', usd: 3200n * E18 },
    ]);
    expectMinimal(s, before, result.steps);
  });
});

// ── Target, dust and limits ────────────────────────────────────────────────────────────

describe('liquidate: target, dust and limits', () => {
  it('stops at liquidation.targetMaintenanceRatio', () => {
    // 1440 − 0.945 r − 1.145 × (1500 − r) ≥ 0 ⇔ 0.2 r ≥ 277.5 ⇔ r = 1387.5 USDC,
    // seized 1387.5 × 1.05 / 1600 = 0.910546875 ETH; after: 128.8125 / 112.5 = 1.145.
    const json = riskJson((j) => (j.liquidation['targetMaintenanceRatio'] = '1.145'));
    const s = world(json, ...spotBorrower(), price('ETH', '1600'));
    const before = partyViews(s, 'alice', 'bob');
    const result = liquidated(s.when(liquidate('alice', 'bob')));
    expect(result.steps[0]!.step).toMatchObject({ repaid: 1_387_500_000n, seized: 910_546_875_000_000_000n, rule: 'MINIMAL_TO_TARGET' });
    expect(result.completed.healthAfter.maintenance.ratioWad).toBe(1_145_000_000_000_000_000n);
    expect(result.completed.target).toEqual({ kind: 'maintenanceRatio', ratioWad: 1_145_000_000_000_000_000n });
    expectMinimal(s, before, result.steps);
    expect(result.explanation).toContain('maintenance ratio target 1.145 is now');
  });

  it('closes the debt whole when the rest would be below dustUsd', () => {
    // The minimal 1375 would leave 125 USDC, below dust 200: 1500 repaid for 0.984375 ETH.
    const json = riskJson((j) => (j.liquidation['dustUsd'] = '200'));
    const s = world(json, ...spotBorrower(), price('ETH', '1600'));
    const result = liquidated(s.when(liquidate('alice', 'bob')));
    expect(result.steps[0]!.step).toMatchObject({ repaid: 1500n * E6, seized: 984_375_000_000_000_000n, rule: 'WHOLE_DUST' });
    expect(s.balance('alice', 'USDC')).toBe(0n);
    expect(s.balance('alice', 'ETH')).toBe(15_625_000_000_000_000n);
    expect(result.explanation).toContain('all of it, as what was left would have been dust');
  });

  it('takes at most maxShare of a debt per liquidation; the next liquidation continues', () => {
    /**
     * maxShare 0.5.
     *   1st: 750 USDC for 750 × 1.05 / 1600 = 0.4921875 ETH; alice 0.5078125 ETH against
     *        750: maintenance 731.25 − 750 = −18.75 (still liquidatable), initial −100
     *   2nd: at most 375 (half of 750; the minimal 625 is more): 0.24609375 ETH; alice
     *        0.26171875 ETH against 375: maintenance 376.875 − 375 = 1.875
     *   3rd: NOT_LIQUIDATABLE.
     */
    const json = riskJson((j) => (j.liquidation['maxShare'] = '0.5'));
    const s = world(json, ...spotBorrower(), price('ETH', '1600'));
    const first = liquidated(s.when(liquidate('alice', 'bob')));
    expect(first.steps[0]!.step).toMatchObject({ repaid: 750n * E6, seized: 492_187_500_000_000_000n, rule: 'MAX_SHARE_CAP' });
    expect(first.completed).toMatchObject({ targetReached: false, healthAfter: { maintenance: { healthUsd: -18_750_000_000_000_000_000n } } });
    expect(first.explanation).toContain('(the most one liquidation may take; penalty 5%)');
    expect(first.explanation).toContain('(target not yet reached)');
    const second = liquidated(s.when(liquidate('alice', 'bob')));
    expect(second.steps[0]!.step).toMatchObject({ repaid: 375n * E6, seized: 246_093_750_000_000_000n, rule: 'MAX_SHARE_CAP' });
    expect(second.completed.healthAfter.maintenance.healthUsd).toBe(1_875_000_000_000_000_000n);
    s.when(liquidate('alice', 'bob')).thenRejected('NOT_LIQUIDATABLE', {
      account: 'alice',
      maintenance: { assetsUsd: 376_875_000_000_000_000_000n, liabilitiesUsd: 375n * E18, healthUsd: 1_875_000_000_000_000_000n, ratioWad: 1_005_000_000_000_000_000n },
    });
  });

  it('a keeper takes at most its maxNotionalUsd', () => {
    // 1000 USD: 1000 USDC repaid for 0.65625 ETH; alice 0.34375 ETH against 500: initial −60.
    const s = world(LIQ_RISK_JSON, ...spotBorrower(), price('ETH', '1600'));
    const result = liquidated(s.when(liquidate('alice', 'bob', T0_MS, 1000n * E18)));
    expect(result.steps[0]!.step).toMatchObject({ repaid: 1000n * E6, seized: 656_250_000_000_000_000n, rule: 'KEEPER_LIMIT' });
    expect(result.completed).toMatchObject({ targetReached: false, healthAfter: { initial: { healthUsd: -60n * E18 } } });
    expect(result.explanation).toContain('the most the liquidator asked for');
  });
});

// ── Cascade cap ────────────────────────────────────────────────────────────────────────

describe('liquidate: cascade cap per window', () => {
  it('limits a second liquidation in the same window, refuses a third, and allows again after the window', () => {
    /**
     * Cap 1000 USD per 60 s on each market and collateral asset; alice and dave each owe
     * 1500 USDC against 1 ETH; ETH at 1600.
     *   t0:          alice, keeper limit 600: 600 USDC for 0.39375 ETH (window ETH: 600 used)
     *                → alice 0.60625 ETH against 900: maintenance 873 − 900 = −27
     *   t0 + 1 s:    dave: room 400: 400 USDC for 0.2625 ETH, CASCADE_CAP (window full)
     *   t0 + 2 s:    alice: LIQUIDATION_CAPPED; at t0 + 59.999 s still
     *   t0 + 60 s:   a new window: alice initial 0.8 × 1600 × 0.60625 − 900 = −124,
     *                r = 124 / 0.16 = 775 USDC for 775 × 1.05 / 1600 = 0.50859375 ETH.
     */
    const json = riskJson((j) => Object.assign(j.liquidation, { notionalCapPerWindowUsd: '1000', windowMs: 60_000 }));
    const s = world(json, ...spotBorrower('alice'), ...spotBorrower('dave'), price('ETH', '1600'));
    const first = liquidated(s.when(liquidate('alice', 'bob', T0_MS, 600n * E18)));
    expect(first.steps[0]!.step).toMatchObject({ repaid: 600n * E6, seized: 393_750_000_000_000_000n, rule: 'KEEPER_LIMIT' });
    expect(s.ledger.state.liquidationWindows.get('ETH')).toEqual({ startMs: T0_MS, usedUsd: 600n * E18 });

    const second = liquidated(s.when(liquidate('dave', 'bob', T0_MS + 1000)));
    expect(second.steps[0]!.step).toMatchObject({ repaid: 400n * E6, seized: 262_500_000_000_000_000n, rule: 'CASCADE_CAP' });
    expect(second.explanation).toContain('the most the market’s liquidation window still allowed');

    s.when(liquidate('alice', 'bob', T0_MS + 2000)).thenRejected('LIQUIDATION_CAPPED', { account: 'alice' });
    s.when(liquidate('alice', 'bob', T0_MS + 59_999)).thenRejected('LIQUIDATION_CAPPED', { account: 'alice' });

    const later = liquidated(s.when(liquidate('alice', 'bob', T0_MS + 60_000)));
    expect(later.steps[0]!.step).toMatchObject({ repaid: 775n * E6, seized: 508_593_750_000_000_000n, rule: 'MINIMAL_TO_TARGET' });
    expect(s.ledger.state.liquidationWindows.get('ETH')).toEqual({ startMs: T0_MS + 60_000, usedUsd: 775n * E18 });
  });
});

// ── Dutch auctions ─────────────────────────────────────────────────────────────────────

describe('liquidate: Dutch auctions', () => {
  /**
   * ETH sold by auction: start 1.1 × oracle, linear to zero over 600 s, floor 0.5, reset
   * after 900 s or below 0.7 × oracle. Alice: 1 ETH against 1500 USDC, ETH at 1600: the
   * minimal repayment is 1375, so the tab is 1375 × 1.05 = 1443.75 USDC, the lot the whole
   * 1 ETH, the start price 1760. Price at t: 1760 × (600 s − t) / 600 s; it falls below
   * 0.7 × 1600 = 1120 after 218.18 s.
   */
  function auctioned(curve: Record<string, unknown> = LINEAR_AUCTION): { s: Scenario; result: Liquidation } {
    const json = riskJson((j) => (j.assets[1]!['auction'] = curve));
    const s = world(json, ...spotBorrower(), deposit(SYSTEM.backstop, 'USDC', '10000'), price('ETH', '1600'));
    const result = liquidated(s.when(liquidate('alice', SYSTEM.backstop, T0_MS)));
    return { s, result };
  }

  it('starts an auction of the whole balance for the minimal tab; a second liquidation waits for it', () => {
    const { s, result } = auctioned();
    expect(result.events).toEqual([
      {
        type: 'AuctionStarted',
        account: 'alice',
        liquidator: SYSTEM.backstop,
        auctionId: 'auction-1',
        startMs: T0_MS,
        step: {
          kind: 'auction',
          collateralAsset: 'ETH',
          lot: E18,
          debtAsset: 'USDC',
          tab: 1_443_750_000n,
          penaltyWad: WAD / 20n,
          startPriceWad: 1760n * E18,
          rule: 'MINIMAL_TO_TARGET',
        },
      },
      expect.objectContaining({ type: 'LiquidationCompleted', targetReached: false }),
    ]);
    expect(s.balance('alice', 'ETH')).toBe(0n);
    expect(s.balance(SYSTEM.auction, 'ETH')).toBe(E18);
    expect(result.explanation).toContain('1 ETH went to a Dutch auction starting at 1,760.00 to raise 1443.75 USDC; what the auction does not need comes back');
    s.when(liquidate('alice', 'bob', T0_MS + 1)).thenRejected('AUCTION_IN_PROGRESS', { account: 'alice', auctionId: 'auction-1' });
  });

  it('never sells for nothing, nor above the taker’s limit', () => {
    const { s } = auctioned();
    s.when(bid('auction-1', 'bob', 0n, '2000', T0_MS + 60_000)).thenRejected('ZERO_BID', { auctionId: 'auction-1' });
    // 1 wei of ETH at 1584 costs 1584e-18 USDC: rounds to 0 base units, refused.
    s.when(bid('auction-1', 'bob', 1n, '2000', T0_MS + 60_000)).thenRejected('ZERO_BID', { auctionId: 'auction-1' });
    // At +60 s the price is 1760 × 540 / 600 = 1584.
    s.when(bid('auction-1', 'bob', E18, '1583.99', T0_MS + 60_000)).thenRejected('AUCTION_PRICE_ABOVE_LIMIT', {
      auctionId: 'auction-1',
      priceWad: 1584n * E18,
    });
  });

  it('sells to takers on the linear curve; the take that raises the tab ends it and the rest of the lot returns', () => {
    /**
     *   +60 s, price 1584: bob takes 0.875 ETH for 1386 USDC = 1320 repaid + 66 penalty (1386 / 1.05)
     *                      lot 0.125 ETH, tab 1443.75 − 1386 = 57.75
     *   +120 s, price 1760 × 480 / 600 = 1408: bob asks for 1 ETH; 0.125 would cost 176 > 57.75,
     *                      so he gets 57.75 / 1408 = 0.041015625 ETH for 57.75 = 55 + 2.75;
     *                      the tab is raised: the auction ends, 0.083984375 ETH return to alice.
     *   alice: −1500 + 1320 + 55 = −125 USDC; fund: 66 + 2.75 = 68.75 USDC = 1375 × 0.05.
     */
    const { s } = auctioned();
    const firstTake = s.when(bid('auction-1', 'bob', 875n * 10n ** 15n, '1584', T0_MS + 60_000));
    expect(firstTake.events).toEqual([
      {
        type: 'AuctionTaken',
        auctionId: 'auction-1',
        account: 'alice',
        taker: 'bob',
        collateralAsset: 'ETH',
        debtAsset: 'USDC',
        amount: 875n * 10n ** 15n,
        priceWad: 1584n * E18,
        cost: 1386n * E6,
        repaid: 1320n * E6,
        toInsurance: 66n * E6,
      },
    ]);
    expect(s.ledger.state.auctions.get('auction-1')).toMatchObject({ lot: 125n * 10n ** 15n, tab: 57_750_000n });
    expect(checkInvariants(s.ledger.state)).toEqual([]);

    const lastTake = s.when(bid('auction-1', 'bob', E18, '1500', T0_MS + 120_000));
    expect(lastTake.events).toEqual([
      expect.objectContaining({ type: 'AuctionTaken', amount: 41_015_625_000_000_000n, priceWad: 1408n * E18, cost: 57_750_000n, repaid: 55n * E6, toInsurance: 2_750_000n }),
      { type: 'AuctionEnded', auctionId: 'auction-1', account: 'alice', collateralAsset: 'ETH', returned: 83_984_375_000_000_000n },
    ]);
    expect(s.ledger.state.auctions.size).toBe(0);
    expect(s.balance('alice', 'USDC')).toBe(-125n * E6);
    expect(s.balance('alice', 'ETH')).toBe(83_984_375_000_000_000n);
    expect(s.balance(SYSTEM.insurance, 'USDC')).toBe(68_750_000n);
    expect(s.balance(SYSTEM.auction, 'ETH')).toBe(0n);
    expect(s.balance('bob', 'ETH')).toBe(916_015_625_000_000_000n);
    expect(s.balance('bob', 'USDC')).toBe(100_000n * E6 - 1_443_750_000n);
    expect(checkInvariants(s.ledger.state)).toEqual([]);
  });

  it('is stale when too old or too far below the oracle; a reset restarts it at the oracle × start factor', () => {
    const { s } = auctioned();
    // +300 s: 1760 × 300 / 600 = 880 < 0.7 × 1600 = 1120.
    s.when(bid('auction-1', 'bob', E18, '2000', T0_MS + 300_000)).thenRejected('AUCTION_STALE', { reason: 'TOO_FAR_BELOW_ORACLE' });
    // Older than 900 s.
    s.when(bid('auction-1', 'bob', E18, '2000', T0_MS + 900_001)).thenRejected('AUCTION_STALE', { reason: 'TOO_OLD' });
    // +60 s: 1584 ≥ 1120, it may still sell: no reset.
    s.when(resetAuction('auction-1', T0_MS + 60_000)).thenRejected('AUCTION_NOT_STALE', { auctionId: 'auction-1' });
    // The oracle rises to 2300: 1584 < 0.7 × 2300 = 1610, stale although young.
    s.and(price('ETH', '2300'));
    s.when(bid('auction-1', 'bob', E18, '2000', T0_MS + 60_000)).thenRejected('AUCTION_STALE', { reason: 'TOO_FAR_BELOW_ORACLE' });
    // Reset: start 1.1 × 2300 = 2530 from now; the price is 2530 at once.
    s.when(resetAuction('auction-1', T0_MS + 60_000)).thenEvents([
      { type: 'AuctionReset', auctionId: 'auction-1', reason: 'TOO_FAR_BELOW_ORACLE', startPriceWad: 2530n * E18, startMs: T0_MS + 60_000 },
    ]);
    s.when(bid('auction-1', 'bob', E18, '2529.99', T0_MS + 60_000)).thenRejected('AUCTION_PRICE_ABOVE_LIMIT', { priceWad: 2530n * E18 });
    // +60 s after the reset: 2530 × 540 / 600 = 2277. Bob asks for all: 1443.75 / 2277 ETH
    // rounded up to the wei raises the tab; the rest returns.
    const take = s.when(bid('auction-1', 'bob', E18, '2300', T0_MS + 120_000));
    expect(take.events.map((event) => event.type)).toEqual(['AuctionTaken', 'AuctionEnded']);
    expect(take.events[0]).toMatchObject({ priceWad: 2277n * E18, cost: 1_443_750_000n, repaid: 1375n * E6, toInsurance: 68_750_000n });
    expect(checkInvariants(s.ledger.state)).toEqual([]);
  });

  it('sells nothing while the collateral price fails its guards', () => {
    const { s } = auctioned();
    s.and(unhealthyPrice('ETH', '1600', 'DEVIATION'));
    s.when(bid('auction-1', 'bob', E18 / 2n, '1584', T0_MS + 60_000)).thenRejected('PRICE_UNHEALTHY', { asset: 'ETH', reasons: ['DEVIATION'] });
    s.and(price('ETH', '1600'));
    expect(s.when(bid('auction-1', 'bob', E18 / 2n, '1584', T0_MS + 60_000)).events[0]).toMatchObject({ type: 'AuctionTaken', cost: 792n * E6 });
  });

  it('follows a stepwise exponential curve', () => {
    // Step 60 s, factor 0.9: after 2 steps (120–179.999 s) 1760 × 0.81 = 1425.6, after 3
    // steps 1283.04, after 4 steps 1154.736 (≥ 1120), after 5 steps 1039.2624 (stale).
    const { s } = auctioned({ ...LINEAR_AUCTION, curve: 'exponential', durationMs: undefined, stepMs: 60_000, stepFactor: '0.9' });
    s.when(bid('auction-1', 'bob', E18, '1', T0_MS + 150_000)).thenRejected('AUCTION_PRICE_ABOVE_LIMIT', { priceWad: wad('1425.6') });
    s.when(bid('auction-1', 'bob', E18, '1', T0_MS + 179_999)).thenRejected('AUCTION_PRICE_ABOVE_LIMIT', { priceWad: wad('1425.6') });
    s.when(bid('auction-1', 'bob', E18, '1', T0_MS + 180_000)).thenRejected('AUCTION_PRICE_ABOVE_LIMIT', { priceWad: wad('1283.04') });
    s.when(bid('auction-1', 'bob', E18, '1', T0_MS + 240_000)).thenRejected('AUCTION_PRICE_ABOVE_LIMIT', { priceWad: wad('1154.736') });
    s.when(bid('auction-1', 'bob', E18, '1', T0_MS + 300_000)).thenRejected('AUCTION_STALE', { reason: 'TOO_FAR_BELOW_ORACLE' });
    // A take at 1154.736: 0.5 ETH for 577.368 USDC; 577.368 / 1.05 = 549.874285 (rounded
    // down) repays the debt, the other 27.493715 go to the fund.
    const take = s.when(bid('auction-1', 'bob', E18 / 2n, '1154.736', T0_MS + 240_000));
    expect(take.events).toEqual([
      expect.objectContaining({ type: 'AuctionTaken', amount: E18 / 2n, cost: 577_368_000n, repaid: 549_874_285n, toInsurance: 27_493_715n }),
    ]);
    expect(s.balance(SYSTEM.insurance, 'USDC')).toBe(27_493_715n);
  });
});

// ── Bankruptcy ─────────────────────────────────────────────────────────────────────────

describe('liquidate: bankruptcy', () => {
  /** 1 ETH against 1500 USDC, ETH at 1400: equity 1400 − 1500 = −100 at mid prices. */
  function bankruptSpot(insuranceUsdc: string | null, ...more: readonly Command[]): Scenario {
    return world(
      LIQ_RISK_JSON,
      ...(insuranceUsdc === null ? [] : [deposit(SYSTEM.insurance, 'USDC', insuranceUsdc)]),
      ...more,
      ...spotBorrower(),
      price('ETH', '1400'),
    );
  }

  it('the insurance fund covers the deficit; collateral repays the rest of the debt without penalty', () => {
    // The fund pays 100 USDC (debt 1400 left); bob repays 1400 for the whole 1 ETH (no
    // penalty: 1400 × 1 / 1400 = 1 ETH); the fund is left with 900.
    const s = bankruptSpot('1000');
    const result = liquidated(s.when(liquidate('alice', 'bob')));
    expect(result.steps.map((event) => event.step)).toEqual([
      { kind: 'insurance', asset: 'USDC', amount: 100n * E6, rule: 'INSURANCE_COVER' },
      { kind: 'swap', debtAsset: 'USDC', repaid: 1400n * E6, collateralAsset: 'ETH', seized: E18, penaltyWad: 0n, toInsurance: 0n, valueUsd: 1400n * E18, rule: 'BANKRUPTCY_CLOSE' },
    ]);
    expect(result.events.map((event) => event.type)).toEqual(['InsuranceCovered', 'CollateralSeized', 'LiquidationCompleted']);
    expect(result.completed).toMatchObject({ bankrupt: true, badDebtUsd: 100n * E18, penaltiesUsd: 0n });
    expect(s.view('alice').balances.size).toBe(0);
    expect(s.balance(SYSTEM.insurance, 'USDC')).toBe(900n * E6);
    expect(s.balance('bob', 'ETH')).toBe(E18);
    expect(result.explanation).toContain('the insurance fund paid 100 USDC');
    expect(result.explanation).toContain('bad debt 100.00 USD; the account was bankrupt and has been closed out');
  });

  it('the explanation of a bankruptcy sale does not claim a penalty that was not charged', () => {
    // The sale above carries no penalty (repaid 1400 USDC for exactly 1400 USD of ETH,
    // penaltiesUsd 0), but the explanation reads "(all of it, the account being bankrupt;
    // penalty 5%)": explain.ts prints the asset's configured penalty for every swap.
    const s = bankruptSpot('1000');
    const result = liquidated(s.when(liquidate('alice', 'bob')));
    expect(result.completed.penaltiesUsd).toBe(0n);
    expect(result.explanation).not.toContain('penalty 5%');
  });

  it('a bankrupt perp account: the fund covers the deficit and the position passes to the keeper at the mark', () => {
    // Alice: 1000 USDC, long 10 ETH-PERP from 1000; ETH 850: equity 1000 − 1500 = −500.
    // The fund (1000) pays 500; the position closes at 850 to bob (no fee): −1500 realised.
    const s = world(
      LIQ_RISK_JSON,
      deposit(SYSTEM.insurance, 'USDC', '1000'),
      price('ETH', '1000'),
      deposit('alice', 'USDC', '1000'),
      trade({ market: 'ETH-PERP', price: '1000', size: '10', buyer: 'alice', seller: 'carol' }),
      price('ETH', '850'),
    );
    const result = liquidated(s.when(liquidate('alice', 'bob')));
    expect(result.steps.map((event) => event.step)).toEqual([
      { kind: 'insurance', asset: 'USDC', amount: 500n * E6, rule: 'INSURANCE_COVER' },
      { kind: 'perp', market: 'ETH-PERP', size: 10n * E18, priceWad: 850n * E18, penalty: 0n, toInsurance: 0n, notionalUsd: 8500n * E18, rule: 'BANKRUPTCY_CLOSE' },
    ]);
    expect(s.view('alice').balances.size).toBe(0);
    expect(s.position('bob', 'ETH-PERP')).toBe(10n * E18);
    expect(s.balance(SYSTEM.insurance, 'USDC')).toBe(500n * E6);
  });

  it('beyond the fund, the rest is socialised: the supply index is cut and lenders shrink in proportion', () => {
    /**
     * Fund 30 USDC; the backstop liquidates (a system account: no deposit of its own).
     *   the fund pays 30; the backstop repays 1400 for 1 ETH; 70 USDC are left with nothing
     *   to seize: written off against USDC lenders (bob and carol, 100 000 each), one base
     *   unit more per lender so that rounding never leaves the pool short:
     *   index 1 × (200 000 − 70 − 0.000002) / 200 000 = 0.99964999999; each lender
     *   100 000 → 99 964.999999 (−35.000001).
     * system:interest advanced the 70; when the lenders settle it is paid back, plus 2 units.
     */
    const s = bankruptSpot('30', deposit(SYSTEM.backstop, 'USDC', '10000'));
    const result = liquidated(s.when(liquidate('alice', SYSTEM.backstop)));
    expect(result.events.map((event) => event.type)).toEqual(['InsuranceCovered', 'CollateralSeized', 'BadDebtSocialized', 'LiquidationCompleted']);
    expect(result.events[2]).toEqual({
      type: 'BadDebtSocialized',
      account: 'alice',
      liquidator: SYSTEM.backstop,
      step: { kind: 'socialize', asset: 'USDC', amount: 70n * E6, rule: 'SOCIALIZE' },
    });
    expect(result.completed).toMatchObject({ bankrupt: true, badDebtUsd: 100n * E18 });
    expect(s.ledger.state.assets.get('USDC')!.supplyIndexWad).toBe(999_649_999_990_000_000n);
    expect(s.balance('bob', 'USDC')).toBe(99_964_999_999n);
    expect(s.balance('carol', 'USDC')).toBe(99_964_999_999n);
    expect(s.view('alice').balances.size).toBe(0);
    expect(s.balance(SYSTEM.insurance, 'USDC')).toBe(0n);
    expect(s.stored(SYSTEM.interest, 'USDC')).toBe(-70n * E6);
    expect(result.explanation).toContain('70 USDC written off against lenders, nothing else being left to cover it');
    // Settlement (here through a deposit of 1 USDC each) collects the haircut back.
    s.and(deposit('bob', 'USDC', '1'), deposit('carol', 'USDC', '1'));
    expect(s.stored(SYSTEM.interest, 'USDC')).toBe(2n);
    expect(checkInvariants(s.ledger.state)).toEqual([]);
  });

  it('socialised bad debt is taken from lenders in full when the liquidator is itself a lender of the asset', () => {
    /**
     * As above, with bob (a USDC lender) as the liquidator. His 1400 USDC repayment lowers
     * the deposits to 198 600 before the write-off, but the haircut index is computed from
     * the totals before the liquidation (200 000): 0.99965. Lenders then shrink by
     * 98 600 × 0.00035 + 100 000 × 0.00035 = 34.51 + 35 = 69.51, not 70, and 0.49 USDC of
     * the socialised loss stays forever as a hole in system:interest.
     * Lenders lose 70 in total, to within a base unit each (the index rounds down, against
     * them), index from the deposits at the moment of the write-off: (198 600 − 70) / 198 600;
     * system:interest back to 0 or a rounding crumb above it after they settle.
     */
    const s = bankruptSpot('30');
    const lendersBefore = s.balance('bob', 'USDC') - 1400n * E6 + s.balance('carol', 'USDC');
    liquidated(s.when(liquidate('alice', 'bob')));
    const lendersAfter = s.balance('bob', 'USDC') + s.balance('carol', 'USDC');
    s.and(deposit('bob', 'USDC', '1'), deposit('carol', 'USDC', '1'));
    const shrink = lendersBefore - lendersAfter;
    expect(shrink >= 70n * E6 && shrink <= 70n * E6 + 4n, `lenders shrank by ${shrink}`).toBe(true);
    const pool = s.stored(SYSTEM.interest, 'USDC');
    expect(pool >= 0n && pool <= 4n, `system:interest left at ${pool}`).toBe(true);
  });
});

// ── Known bugs found by the property test (test/liquidation.property.test.ts), shrunk ───

describe('liquidate: shrunk counterexamples', () => {
  it('a liquidation that takes all the collateral covers or socialises the debt left over (no crumb blocks it)', () => {
    /**
     * 1 ETH against 1550 USDC, ETH at 1600 (equity +50, not bankrupt; maintenance 1440 −
     * 1550 = −110); fund 1000 USDC. The swap takes "all" the ETH: the most 1 ETH repays at
     * a 5 % penalty is 1600 / 1.05 = 1523.809523 USDC, for 0.99999999946875 ETH (rounded
     * down), which leaves a crumb of 0.00000000053125 ETH — worth less than one base unit
     * of USDC — and 26.190477 USDC of debt. planner.coverBadDebt skips any account that
     * still holds seizable collateral, so that debt is neither covered nor socialised.
     * Expected: the leftover debt covered by the fund (or written off) in this liquidation,
     * the crumb swept as in the bankrupt path; initial health ≥ 0 after.
     * Actual: CollateralSeized (ALL_AVAILABLE), then LiquidationCompleted with bankrupt
     * false, targetReached false, badDebtUsd 0; alice keeps 531250000 wei of ETH and owes
     * 26.190477 USDC, still liquidatable (the next liquidation finds her bankrupt).
     */
    const s = world(LIQ_RISK_JSON, deposit(SYSTEM.insurance, 'USDC', '1000'), ...spotBorrower('alice', '1550'), price('ETH', '1600'));
    const result = liquidated(s.when(liquidate('alice', 'bob')));
    expect(result.steps[0]!.step).toMatchObject({ kind: 'swap', repaid: 1_523_809_523n, seized: 999_999_999_468_750_000n, rule: 'ALL_AVAILABLE' });
    expect({
      debtLeftUsdc: s.balance('alice', 'USDC'),
      badDebtUsd: result.completed.badDebtUsd,
      targetReached: result.completed.targetReached,
    }).toEqual({ debtLeftUsdc: 0n, badDebtUsd: 26_190_477n * 10n ** 12n, targetReached: true });
  });

  it('a perp reduction the cascade window does not allow is named in the events, not skipped silently', () => {
    /**
     * Cap 2000 USD per 60 s. ETH at 1100: dave (1525 USDC) buys 10 ETH-PERP; alice pledges
     * 0.05 BTC, buys 2 ETH-PERP and borrows 550 USDC (initial 800 − 220 − 550 = 30). ETH
     * falls to 950.
     *   dave first: 2000 / 950 = 2.105263157894736842 ETH-PERP, CASCADE_CAP: the ETH-PERP
     *   window is full (room left 1e-16 USD, 0 wei).
     *   alice: maintenance 900 − 550 − 300 − 95 = −45, initial −240. Her perp cannot be
     *   reduced; repaying all 550 USDC with 0.03025 BTC restores 66: initial −174.
     * Expected: the events say why the target is missed (a CASCADE_CAP step or note for
     * ETH-PERP), as for dave. Actual: one CollateralSeized with rule ALL_AVAILABLE and
     * LiquidationCompleted { targetReached: false }: the ETH-PERP cap appears nowhere, and the
     * explanation reads "initial health is now −174.00 USD (target not yet reached)".
     */
    const json = riskJson((j) => Object.assign(j.liquidation, { notionalCapPerWindowUsd: '2000', windowMs: 60_000 }));
    const s = world(
      json,
      price('ETH', '1100'),
      deposit('dave', 'USDC', '1525'),
      trade({ market: 'ETH-PERP', price: '1100', size: '10', buyer: 'dave', seller: 'carol' }),
      deposit('alice', 'BTC', '0.05'),
      trade({ market: 'ETH-PERP', price: '1100', size: '2', buyer: 'alice', seller: 'carol' }),
      withdraw('alice', 'USDC', '550'),
      price('ETH', '950'),
    );
    const daves = liquidated(s.when(liquidate('dave', 'bob', T0_MS)));
    expect(daves.steps[0]!.step).toMatchObject({ kind: 'perp', rule: 'CASCADE_CAP', size: 2_105_263_157_894_736_842n });
    const alices = liquidated(s.when(liquidate('alice', 'bob', T0_MS + 1000)));
    expect(alices.completed.targetReached).toBe(false);
    expect(alices.completed.healthAfter.initial.healthUsd).toBe(-174n * E18);
    expect(alices.completed.untouched).toEqual([{ key: 'ETH-PERP', rule: 'CASCADE_CAP' }]);
    expect(alices.explanation).toContain('ETH-PERP untouched: the most the market’s liquidation window still allowed');
  });

  it('liquidating a debt whose base unit is worth far less than the collateral’s completes (ETH debt against USDC)', () => {
    /**
     * Alice pledges 2000 USDC and borrows 0.5 ETH at 2000 (initial 2000 − 1.1 × 1000 = 900);
     * ETH rises to 3900: maintenance 2000 − 1.05 × 1950 = −47.5, equity +50 (normal path).
     * The only pair is ETH debt / USDC collateral. Swap pricing's maxRepaidFor(2000 USDC)
     * starts from the closed form (0.512820512820512820 ETH) and then "nudges" one wei at a
     * time while the seized USDC, rounded down to whole base units, stays ≤ the balance: one
     * USDC base unit (1e-6 USD) is worth 256 410 256 wei of ETH at 3900, so the loop runs
     * 256 million times (minutes of CPU, the whole ledger blocked) — for a bound that is not
     * even used, the debt (0.5 ETH) being smaller. DAI or ETH debts against BTC or USDC
     * collateral are worse (up to ~1e13 iterations). Run in a child process with a 10 s limit.
     * Expected: the liquidation completes in well under a second. Actual: killed at 10 s.
     */
    const script = [
      "import { Ledger } from './src/core/ledger/ledger.ts';",
      "import { parseRiskConfig } from './src/core/config.ts';",
      `const json = ${JSON.stringify(LIQ_RISK_JSON)};`,
      'const parsed = parseRiskConfig(json); if (!parsed.ok) throw new Error("config");',
      'const ledger = Ledger.create(parsed.value, json);',
      'let n = 0; const run = (c) => { const r = ledger.execute({ idempotencyKey: "k" + (++n), ...c }); if (!r.ok) throw new Error(JSON.stringify(r.error, (k, v) => typeof v === "bigint" ? String(v) : v)); return r.value; };',
      "run({ kind: 'price', asset: 'USDC', priceWad: 10n ** 18n, confidenceWad: 0n });",
      "run({ kind: 'price', asset: 'ETH', priceWad: 2000n * 10n ** 18n, confidenceWad: 0n });",
      "run({ kind: 'deposit', account: 'bob', asset: 'USDC', amount: 100000n * 10n ** 6n });",
      "run({ kind: 'deposit', account: 'alice', asset: 'USDC', amount: 2000n * 10n ** 6n });",
      "run({ kind: 'withdraw', account: 'alice', asset: 'ETH', amount: 5n * 10n ** 17n });",
      "run({ kind: 'price', asset: 'ETH', priceWad: 3900n * 10n ** 18n, confidenceWad: 0n });",
      "const outcome = run({ kind: 'liquidate', account: 'alice', liquidator: 'bob', nowMs: 1 });",
      "console.log(outcome.events.map((e) => e.event.type).join(','));",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect({ signal: child.signal, stderr: child.stderr.slice(0, 500) }).toEqual({ signal: null, stderr: '' });
    expect(child.stdout).toContain('LiquidationCompleted');
  }, 20_000);
});

// ── Deleveraging ───────────────────────────────────────────────────────────────────────

describe('liquidate: deleveraging', () => {
  /**
   * ETH at 1000: alice (1000 USDC) buys 10 ETH-PERP from carol; dave (1000 USDC) buys 4 from
   * erin (1000 USDC). ETH falls to 850: alice's equity is 1000 − 1500 = −500.
   * Ranks of the shorts at 850 (score = pnl / entry notional × notional / equity):
   *   erin:  600 / 4000 × 3400 / 1600 = 0.31875      → rank 1
   *   carol: 1500 / 10000 × 8500 / 101 500 ≈ 0.0126  → rank 2
   * Longs: dave (equity 400, at a loss) before alice (no equity).
   */
  function deleveraging(insuranceUsdc: string | null): Scenario {
    return world(
      LIQ_RISK_JSON,
      ...(insuranceUsdc === null ? [] : [deposit(SYSTEM.insurance, 'USDC', insuranceUsdc)]),
      price('ETH', '1000'),
      deposit('alice', 'USDC', '1000'),
      deposit('dave', 'USDC', '1000'),
      deposit('erin', 'USDC', '1000'),
      trade({ market: 'ETH-PERP', price: '1000', size: '10', buyer: 'alice', seller: 'carol' }),
      trade({ market: 'ETH-PERP', price: '1000', size: '4', buyer: 'dave', seller: 'erin' }),
      price('ETH', '850'),
    );
  }

  it('ranks positions for deleveraging by profit × leverage', () => {
    const s = deleveraging(null);
    expect(deleveragingRankOf(s.ledger.state, 'erin', 'ETH-PERP')).toEqual({ rank: 1, of: 2 });
    expect(deleveragingRankOf(s.ledger.state, 'carol', 'ETH-PERP')).toEqual({ rank: 2, of: 2 });
    expect(deleveragingRankOf(s.ledger.state, 'dave', 'ETH-PERP')).toEqual({ rank: 1, of: 2 });
    expect(deleveragingRankOf(s.ledger.state, 'alice', 'ETH-PERP')).toEqual({ rank: 2, of: 2 });
    expect(deleveragingRankOf(s.ledger.state, 'bob', 'ETH-PERP')).toBeNull();
  });

  it('with no fund, closes the position against the best-ranked profitable opposite positions at the bankruptcy price', () => {
    // Bankruptcy price 850 + 500 / 10 = 900: erin buys back 4 at 900 (+400), carol 6 (+600).
    const s = deleveraging(null);
    const result = liquidated(s.when(liquidate('alice', 'bob')));
    expect(result.steps).toEqual([
      { type: 'PositionDeleveraged', account: 'alice', liquidator: 'bob', step: { kind: 'deleverage', market: 'ETH-PERP', counterparty: 'erin', size: 4n * E18, priceWad: 900n * E18, rule: 'DELEVERAGE' } },
      { type: 'PositionDeleveraged', account: 'alice', liquidator: 'bob', step: { kind: 'deleverage', market: 'ETH-PERP', counterparty: 'carol', size: 6n * E18, priceWad: 900n * E18, rule: 'DELEVERAGE' } },
    ]);
    expect(result.completed.bankrupt).toBe(true);
    expect(s.view('alice').balances.size).toBe(0);
    expect(s.position('alice', 'ETH-PERP')).toBe(0n);
    expect(s.position('erin', 'ETH-PERP')).toBe(0n);
    expect(s.balance('erin', 'USDC')).toBe(1400n * E6);
    expect(s.position('carol', 'ETH-PERP')).toBe(-4n * E18);
    expect(s.balance('carol', 'USDC')).toBe(100_600n * E6);
    expect(s.position('bob', 'ETH-PERP')).toBe(0n);
    expect(deleveragingRankOf(s.ledger.state, 'carol', 'ETH-PERP')).toEqual({ rank: 1, of: 1 });
    expect(result.explanation).toContain('4 of ETH-PERP closed against a profitable opposite position at the bankruptcy price 900.00 (counterparty erin)');
    expect(result.explanation).toContain('6 of ETH-PERP closed against a profitable opposite position at the bankruptcy price 900.00 (counterparty carol)');
  });

  it('deleverages only what the fund does not cover, at a bankruptcy price nearer the mark', () => {
    // Fund 200: 500 − 200 = 300 left, 30 per ETH: bankruptcy price 880. Alice 1200 USDC −
    // 10 × 120 realised = 0. Erin +480, carol +720.
    const s = deleveraging('200');
    const result = liquidated(s.when(liquidate('alice', 'bob')));
    expect(result.steps.map((event) => event.step)).toEqual([
      { kind: 'insurance', asset: 'USDC', amount: 200n * E6, rule: 'INSURANCE_COVER' },
      { kind: 'deleverage', market: 'ETH-PERP', counterparty: 'erin', size: 4n * E18, priceWad: 880n * E18, rule: 'DELEVERAGE' },
      { kind: 'deleverage', market: 'ETH-PERP', counterparty: 'carol', size: 6n * E18, priceWad: 880n * E18, rule: 'DELEVERAGE' },
    ]);
    expect(s.view('alice').balances.size).toBe(0);
    expect(s.balance('erin', 'USDC')).toBe(1480n * E6);
    expect(s.balance('carol', 'USDC')).toBe(100_720n * E6);
    expect(s.balance(SYSTEM.insurance, 'USDC')).toBe(0n);
  });
});

// ── Refusals ───────────────────────────────────────────────────────────────────────────

describe('liquidate: refusals', () => {
  const underwater = (...more: readonly Command[]): Scenario => world(LIQ_RISK_JSON, ...spotBorrower(), ...more, price('ETH', '1600'));

  it('SELF_LIQUIDATION: the account itself, or another account of the same owner', () => {
    const s = underwater(deposit('alice-2', 'USDC', '50000', { owner: 'alice' }));
    s.when(liquidate('alice', 'alice')).thenRejected('SELF_LIQUIDATION', { account: 'alice', liquidator: 'alice' });
    s.when(liquidate('alice', 'alice-2')).thenRejected('SELF_LIQUIDATION', { account: 'alice', liquidator: 'alice-2' });
  });

  it('NOT_LIQUIDATABLE: a healthy account, with its maintenance health', () => {
    // ETH at 2000: maintenance 0.9 × 2000 − 1500 = 300.
    const s = world(LIQ_RISK_JSON, ...spotBorrower());
    s.when(liquidate('alice', 'bob')).thenRejected('NOT_LIQUIDATABLE', {
      account: 'alice',
      maintenance: { assetsUsd: 1800n * E18, liabilitiesUsd: 1500n * E18, healthUsd: 300n * E18, ratioWad: 1_200_000_000_000_000_000n },
    });
  });

  it('LIQUIDATOR_INSUFFICIENT_MARGIN: a keeper must meet initial margin after taking over', () => {
    // Frank holds 1 USDC: repaying 1375 borrows 1374, against 0.880859375 ETH (initial
    // 0.8 × 1600 × 0.880859375 = 1127.5): 1127.5 − 1374 = −246.5.
    const s = underwater(deposit('frank', 'USDC', '1'));
    s.when(liquidate('alice', 'frank')).thenRejected('LIQUIDATOR_INSUFFICIENT_MARGIN', {
      liquidator: 'frank',
      healthAfter: { assetsUsd: 1_127_500_000_000_000_000_000n, liabilitiesUsd: 1374n * E18, healthUsd: -246_500_000_000_000_000_000n, ratioWad: 820596797671033478n },
    });
  });

  it('PRICE_UNHEALTHY: no liquidation on a price that fails its guards, until a healthy price comes', () => {
    const s = underwater(deposit(SYSTEM.backstop, 'USDC', '10000'));
    s.and(unhealthyPrice('ETH', '1600', 'STALE'));
    s.when(liquidate('alice', 'bob')).thenRejected('PRICE_UNHEALTHY', { asset: 'ETH', reasons: ['STALE'] });
    s.when(liquidate('alice', SYSTEM.backstop)).thenRejected('PRICE_UNHEALTHY', { asset: 'ETH' });
    s.and(price('ETH', '1600'));
    liquidated(s.when(liquidate('alice', 'bob')));
  });

  it('a retried liquidation answers its first outcome and changes nothing', () => {
    const s = underwater();
    const command = liquidate('alice', 'bob');
    const first = s.when(command);
    liquidated(first);
    s.when(command).thenReplayed(first.outcome);
  });
});
