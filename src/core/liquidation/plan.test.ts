/**
 * The pure planner (plan.ts), hand-worked: each path of `planLiquidation` on account views
 * built by hand, and the pieces it is made of (`minimalAmount`, `targetHealth`,
 * `equityAtMid`). The same numbers go through the ledger in ../ledger/liquidate.test.ts.
 *
 * Configuration (LIQ_RISK_JSON below), chosen so that the arithmetic comes out exact:
 * - USDC (6 decimals), the quote: weights 1 / 1 both as collateral and as debt, no penalty;
 * - ETH (18): collateral 0.8 initial / 0.9 maintenance, penalty 5 %;
 * - BTC (8): collateral 0.8 / 0.9, penalty 10 %;
 * - ETH-PERP, BTC-PERP: margin fractions 0.10 initial / 0.05 maintenance, liquidation fee 2.5 %;
 * - insuranceShare 0.5, dust 1 USD (default), maxShare 1, no cascade cap.
 * Prices: USDC 1, ETH 1600 (or 1000 for perps), BTC 20000, all with zero confidence.
 *
 * Reducing x of a perp at mark P restores (initialFraction − fee) × P × x of initial health:
 * the account realises the loss it was already counted for, pays fee × P × x, and sheds the
 * requirement 0.10 × P × x. Repaying r USD of a weight-1 debt with collateral of initial
 * weight w and penalty p restores (1 − (1 + p) × w) × r: 0.16 × r for ETH, 0.12 × r for BTC.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { account, priceBook, riskConfig } from '../../../test/fixtures.ts';
import type { Account } from '../account.ts';
import type { RiskConfig } from '../config.ts';
import { WAD } from '../fixed.ts';
import { evaluateAccount } from '../health.ts';
import type { PriceBook } from '../prices.ts';
import { equityAtMid, minimalAmount, planLiquidation, targetHealth, type LiquidationPlan, type PlanInput } from './plan.ts';
import { applyMovements, movementsOf, type LiquidationStep, type Parties, type Views } from './steps.ts';
import { LIQ_RISK_JSON } from '../../../test/liquidation-fixtures.ts';

const E18 = 10n ** 18n;
const E6 = 10n ** 6n;


const CONFIG = riskConfig(LIQ_RISK_JSON);

/** The configuration with `liquidation` fields added (decimal strings as in risk.json). */
function withLiquidation(fields: Record<string, unknown>): RiskConfig {
  return riskConfig({ ...LIQ_RISK_JSON, liquidation: { ...LIQ_RISK_JSON.liquidation, ...fields } });
}

/** A deep copy of the configuration, edited. */
function edited(edit: (json: any) => void): RiskConfig {
  const json = structuredClone(LIQ_RISK_JSON);
  edit(json);
  return riskConfig(json);
}

const PARTIES: Parties = {
  account: 'alice',
  liquidator: 'bob',
  insurance: 'system:insurance',
  lenders: 'system:interest',
  escrow: 'system:auction',
};

const SPOT_PRICES = priceBook({ USDC: '1', ETH: '1600', BTC: '20000' });
const PERP_PRICES = priceBook({ USDC: '1', ETH: '1000', BTC: '20000' });

/** Bob, the keeper: plenty of USDC, and (unless told otherwise) a position in each market. */
function keeper(config: RiskConfig, perps = true): Account {
  return account(config, {
    id: 'bob',
    balances: { USDC: '100000' },
    perps: perps
      ? [
          { market: 'ETH-PERP', size: '1', entryPrice: '1100' },
          { market: 'BTC-PERP', size: '0.01', entryPrice: '20000' },
        ]
      : [],
  });
}

interface Setup {
  readonly config?: RiskConfig;
  readonly prices?: PriceBook;
  readonly alice: Account;
  readonly bob?: Account;
  readonly insuranceUsdc?: string;
  readonly candidates?: readonly Account[];
  readonly roomUsd?: ReadonlyMap<string, bigint>;
  readonly keeperLimitUsd?: bigint;
}

function input(setup: Setup): PlanInput {
  const config = setup.config ?? CONFIG;
  const views = new Map<string, Account>([
    ['alice', setup.alice],
    ['bob', setup.bob ?? keeper(config)],
    ['system:insurance', account(config, { id: 'system:insurance', balances: setup.insuranceUsdc ? { USDC: setup.insuranceUsdc } : {} })],
    ['system:interest', account(config, { id: 'system:interest' })],
    ['system:auction', account(config, { id: 'system:auction' })],
  ]);
  return {
    parties: PARTIES,
    views,
    prices: setup.prices ?? SPOT_PRICES,
    config,
    deleverageCandidates: () => setup.candidates ?? [],
    roomUsd: setup.roomUsd ?? new Map(),
    ...(setup.keeperLimitUsd !== undefined && { keeperLimitUsd: setup.keeperLimitUsd }),
  };
}

function plan(setup: Setup): LiquidationPlan {
  const result = planLiquidation(input(setup));
  if (!result.ok) throw new Error(`expected a plan, got ${result.error.code}`);
  return result.value;
}

/** Target health of alice after applying `steps` to the views of `setup`, one after the other. */
function targetHealthAfter(setup: Setup, steps: readonly LiquidationStep[]): bigint {
  const start = input(setup);
  let views: Views = start.views;
  for (const step of steps) views = applyMovements(views, movementsOf(step, PARTIES, start.config), start.config);
  const health = evaluateAccount(views.get('alice')!, start.prices, start.config);
  if (!health.ok) throw new Error(health.error.code);
  return targetHealth(health.value, start.config);
}

/** 1 ETH of collateral and a 1500 USDC debt: the spot case of every test below. */
function spotAlice(config: RiskConfig = CONFIG): Account {
  return account(config, { id: 'alice', balances: { ETH: '1', USDC: '-1500' } });
}

// ── Pieces ─────────────────────────────────────────────────────────────────────────────

describe('minimalAmount', () => {
  it('is exact on a linear health: the least a with 3a − 1000 ≥ 0 is 334', () => {
    expect(minimalAmount(1_000_000n, (a) => 3n * a - 1000n)).toBe(334n);
  });

  it('is exact across a kink: h(a) = a − 600 below 500, 2a − 1100 from 500 on → 550', () => {
    // The secant through h(0) = −600 and h(1000) = 900 guesses 400 (h = −200): the bisection
    // between 400 and 1000 finds 550, where 2 × 550 − 1100 = 0 and h(549) = −2.
    const health = (a: bigint): bigint => (a < 500n ? a - 600n : 2n * a - 1100n);
    expect(minimalAmount(1000n, health)).toBe(550n);
  });

  it('is null when even the maximum falls short, when nothing is needed, or when the maximum is 0', () => {
    expect(minimalAmount(100n, (a) => a - 101n)).toBeNull();
    expect(minimalAmount(100n, (a) => a)).toBeNull();
    expect(minimalAmount(0n, (a) => a - 1n)).toBeNull();
  });

  it('agrees with a linear scan on random non-decreasing step functions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 3000 }),
        (increments, offset) => {
          // h(a) = Σ increments[0..a) − offset: non-decreasing, arbitrary plateaus and jumps.
          const prefix = [0n];
          for (const step of increments) prefix.push(prefix[prefix.length - 1]! + BigInt(step));
          const max = BigInt(increments.length);
          const health = (a: bigint): bigint => prefix[Number(a)]! - BigInt(offset);
          let expected: bigint | null = null;
          if (health(0n) < 0n) {
            for (let a = 1n; a <= max; a++) {
              if (health(a) >= 0n) {
                expected = a;
                break;
              }
            }
          }
          expect(minimalAmount(max, health)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('targetHealth and equityAtMid', () => {
  it('targetHealth is initial health by default, assets − ratio × liabilities at maintenance for a ratio target', () => {
    // 1 ETH at 1600, 1500 USDC debt: initial 1280 − 1500 = −220; maintenance 1440 − 1500 = −60.
    const health = evaluateAccount(spotAlice(), SPOT_PRICES, CONFIG);
    if (!health.ok) throw new Error('valuation');
    expect(targetHealth(health.value, CONFIG)).toBe(-220n * E18);
    // Ratio 1.2: 1440 × 1e18 − 1.2 × 1500 (wad products): (1440 − 1800) × 1e36.
    expect(targetHealth(health.value, withLiquidation({ targetMaintenanceRatio: '1.2' }))).toBe(-360n * E18 * E18);
  });

  it('equityAtMid values balances at mid prices and perps at their PnL', () => {
    // 1 ETH × 1600 − 1500 USDC + long 2 ETH-PERP from 1700 at 1600 (−200) = −100.
    const alice = account(CONFIG, {
      id: 'alice',
      balances: { ETH: '1', USDC: '-1500' },
      perps: [{ market: 'ETH-PERP', size: '2', entryPrice: '1700' }],
    });
    expect(equityAtMid(alice, SPOT_PRICES, CONFIG)).toBe(-100n * E18);
  });
});

// ── Normal path ────────────────────────────────────────────────────────────────────────

describe('planLiquidation: perps', () => {
  /**
   * Alice: 1525 USDC, long 10 ETH-PERP from 1100, long 0.1 BTC-PERP from 20000; ETH at 1000.
   *   ETH-PERP: PnL −1000, requirements 500 (maintenance) / 1000 (initial)
   *   BTC-PERP: PnL 0,     requirements 100 / 200
   *   maintenance 1525 − 1000 − 500 − 100 = −75 (liquidatable); initial 1525 − 1000 − 1000 − 200 = −675
   * ETH-PERP has the larger requirement (1500 against 100) and goes first, though BTC-PERP
   * sorts first by name. Each ETH taken restores (0.10 − 0.025) × 1000 = 75: x = 675 / 75 = 9.
   *   fee 9 × 1000 × 0.025 = 225 USDC, half (112.5) to the insurance fund
   *   after: USDC 1525 − 900 (realised) − 225 = 400; ETH-PERP 1 from 1100 (−100, initial 100);
   *          BTC-PERP untouched (200): initial health 400 − 100 − 100 − 200 = 0.
   */
  const alice = (usdc: string): Account =>
    account(CONFIG, {
      id: 'alice',
      balances: { USDC: usdc },
      perps: [
        { market: 'ETH-PERP', size: '10', entryPrice: '1100' },
        { market: 'BTC-PERP', size: '0.1', entryPrice: '20000' },
      ],
    });

  it('reduces the largest requirement first, by the least that restores initial health, at the mark', () => {
    const setup: Setup = { alice: alice('1525'), prices: PERP_PRICES };
    const result = plan(setup);
    expect(result.steps).toEqual([
      {
        kind: 'perp',
        market: 'ETH-PERP',
        size: 9n * E18,
        priceWad: 1000n * E18,
        penalty: 225n * E6,
        toInsurance: 112_500_000n,
        notionalUsd: 9000n * E18,
        rule: 'MINIMAL_TO_TARGET',
      },
    ]);
    expect(result.healthBefore.maintenance.healthUsd).toBe(-75n * E18);
    expect(result.healthAfter.initial.healthUsd).toBe(0n);
    expect(result.targetReached).toBe(true);
    expect(result.bankrupt).toBe(false);
    expect([...result.notionalByKey]).toEqual([['ETH-PERP', 9000n * E18]]);
    expect(result.views.get('alice')!.balances.get('USDC')).toBe(400n * E6);
    expect(result.views.get('bob')!.perps.get('ETH-PERP')?.size).toBe(10n * E18); // 1 of its own + 9
    expect(result.views.get('system:insurance')!.balances.get('USDC')).toBe(112_500_000n);
    // One base unit less leaves initial health below zero.
    const lessOne = { ...result.steps[0]!, size: 9n * E18 - 1n } as LiquidationStep;
    expect(targetHealthAfter(setup, [lessOne])).toBeLessThan(0n);
  });

  it('takes a whole position and moves on to the next when one is not enough', () => {
    // With 1375 USDC: initial −825, maintenance −225. All 10 ETH restore 750 (−75 left,
    // ALL_AVAILABLE); each BTC restores 0.075 × 20000 = 1500, so 0.05 BTC (fee 25).
    //   after: USDC 1375 − 1000 − 250 − 25 = 100; BTC-PERP 0.05 (initial 100): health 0.
    const result = plan({ alice: alice('1375'), prices: PERP_PRICES });
    expect(result.steps.map((step) => step.kind === 'perp' && [step.market, step.size, step.penalty, step.rule])).toEqual([
      ['ETH-PERP', 10n * E18, 250n * E6, 'ALL_AVAILABLE'],
      ['BTC-PERP', 5_000_000n, 25n * E6, 'MINIMAL_TO_TARGET'],
    ]);
    expect(result.healthAfter.initial.healthUsd).toBe(0n);
    expect(result.views.get('alice')!.balances.get('USDC')).toBe(100n * E6);
  });

  it('closes a position whole when the minimal reduction would leave less than the dust value', () => {
    // The minimal 9 ETH leave 1 ETH = 1000 USD of notional, below a dust value of 1500.
    const config = withLiquidation({ dustUsd: '1500' });
    const result = plan({ config, alice: alice('1525'), bob: keeper(config), prices: PERP_PRICES });
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0]).toMatchObject({ kind: 'perp', market: 'ETH-PERP', size: 10n * E18, penalty: 250n * E6, rule: 'WHOLE_DUST' });
  });

  it('plans a perp reduction for a keeper that holds no position in the market', () => {
    // Regression: minimalAmount evaluates the amount 0, a fill of size 0 for a liquidator
    // with no position, and averageEntryPrice(0, 0, 0, price) divided by |0| + |0|
    // (RangeError "divDown: denominator must be positive"). Same plan as with a position.
    const setup: Setup = { alice: alice('1525'), bob: keeper(CONFIG, false), prices: PERP_PRICES };
    expect(() => planLiquidation(input(setup))).not.toThrow();
    const result = plan(setup);
    expect(result.steps[0]).toMatchObject({ kind: 'perp', market: 'ETH-PERP', size: 9n * E18, rule: 'MINIMAL_TO_TARGET' });
    expect(result.views.get('bob')!.perps.get('ETH-PERP')).toEqual({ market: 'ETH-PERP', size: 9n * E18, entryPriceWad: 1000n * E18 });
  });
});

describe('planLiquidation: debt for collateral', () => {
  /**
   * 1 ETH at 1600 against 1500 USDC: maintenance 0.9 × 1600 − 1500 = −60, initial
   * 0.8 × 1600 − 1500 = −220. Repaying r restores 0.16 r: r = 220 / 0.16 = 1375 USDC.
   *   seized = 1375 × 1 × 1.05 / 1600 = 0.90234375 ETH (exact, rounded down)
   *   fair   = 1375 / 1600 = 0.859375 ETH; bonus 0.04296875; half of it, 0.021484375, to the fund
   *   after: 0.09765625 ETH (initial 125) against 125 USDC: initial health 0.
   */
  it('repays the least debt that restores initial health, the liquidator receiving repaid × (1 + penalty)', () => {
    const setup: Setup = { alice: spotAlice() };
    const result = plan(setup);
    expect(result.steps).toEqual([
      {
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
    ]);
    expect(result.healthAfter.initial.healthUsd).toBe(0n);
    expect([...result.notionalByKey]).toEqual([['ETH', 1375n * E18]]);
    // 1374.999999 USDC would seize 0.90234374934375 ETH and leave initial health −0.00000016.
    const lessOne = {
      ...result.steps[0]!,
      repaid: 1375n * E6 - 1n,
      seized: 902_343_749_343_750_000n,
      valueUsd: 1_374_999_999n * 10n ** 12n,
    } as LiquidationStep;
    expect(targetHealthAfter(setup, [lessOne])).toBe(-160_000_000_000n);
  });

  it('stops at a maintenance-ratio target', () => {
    // Ratio 1.145: 0.9 × 1600 × (1 − 1.05 r / 1600) − 1.145 × (1500 − r) ≥ 0
    //   ⇔ 1440 − 0.945 r − 1717.5 + 1.145 r ≥ 0 ⇔ 0.2 r ≥ 277.5 ⇔ r = 1387.5 USDC;
    //   seized 1387.5 × 1.05 / 1600 = 0.910546875 ETH; after: 128.8125 / 112.5 = 1.145.
    const config = withLiquidation({ targetMaintenanceRatio: '1.145' });
    const result = plan({ config, alice: spotAlice(config), bob: keeper(config) });
    expect(result.steps[0]).toMatchObject({ repaid: 1_387_500_000n, seized: 910_546_875_000_000_000n, rule: 'MINIMAL_TO_TARGET' });
    expect(result.healthAfter.maintenance.ratioWad).toBe((1145n * E18) / 1000n);
    expect(result.targetReached).toBe(true);
  });

  it('repays the whole debt when the minimal repayment would leave dust', () => {
    // The minimal 1375 leaves 125 USDC, below dust 200: all 1500 are repaid,
    // seized 1500 × 1.05 / 1600 = 0.984375 ETH.
    const config = withLiquidation({ dustUsd: '200' });
    const result = plan({ config, alice: spotAlice(config), bob: keeper(config) });
    expect(result.steps[0]).toMatchObject({ repaid: 1500n * E6, seized: 984_375_000_000_000_000n, rule: 'WHOLE_DUST' });
  });

  it('takes at most maxShare of a debt', () => {
    // maxShare 0.5: 750 USDC, seized 750 × 1.05 / 1600 = 0.4921875 ETH; initial health
    // 0.8 × 1600 × 0.5078125 − 750 = −100, target not reached.
    const config = withLiquidation({ maxShare: '0.5' });
    const result = plan({ config, alice: spotAlice(config), bob: keeper(config) });
    expect(result.steps[0]).toMatchObject({ repaid: 750n * E6, seized: 492_187_500_000_000_000n, rule: 'MAX_SHARE_CAP' });
    expect(result.healthAfter.initial.healthUsd).toBe(-100n * E18);
    expect(result.targetReached).toBe(false);
  });

  it('takes at most the keeper limit and at most the room of the cascade window', () => {
    // Keeper limit 1000 USD: 1000 USDC repaid, 0.65625 ETH seized; initial −60.
    const limited = plan({ alice: spotAlice(), keeperLimitUsd: 1000n * E18 });
    expect(limited.steps[0]).toMatchObject({ repaid: 1000n * E6, seized: 656_250_000_000_000_000n, rule: 'KEEPER_LIMIT' });
    expect(limited.healthAfter.initial.healthUsd).toBe(-60n * E18);
    // Room 400 USD left on ETH: 400 USDC repaid, 0.2625 ETH seized.
    const roomy = plan({ alice: spotAlice(), roomUsd: new Map([['ETH', 400n * E18]]) });
    expect(roomy.steps[0]).toMatchObject({ repaid: 400n * E6, seized: 262_500_000_000_000_000n, rule: 'CASCADE_CAP' });
    // No room at all: nothing to do, LIQUIDATION_CAPPED.
    const none = planLiquidation(input({ alice: spotAlice(), roomUsd: new Map([['ETH', 0n]]) }));
    expect(none).toEqual({ ok: false, error: { code: 'LIQUIDATION_CAPPED', account: 'alice' } });
  });

  it('uses the pair that restores most health per unit of penalty first', () => {
    /**
     * 0.525 ETH (840 USD) and 0.05 BTC (1000 USD) against 1672 USDC:
     *   maintenance 0.9 × 1840 − 1672 = −16; initial 0.8 × 1840 − 1672 = −200.
     * Per USD repaid ETH restores 1 − 1.05 × 0.8 = 0.16 for a 5 % penalty (3.2 per unit of
     * penalty), BTC 1 − 1.1 × 0.8 = 0.12 for 10 % (1.2): ETH first.
     *   ETH: all of it repays 840 / 1.05 = 800 USDC (restores 128; −72 left; ALL_AVAILABLE)
     *   BTC: 72 / 0.12 = 600 USDC for 600 × 1.1 / 20000 = 0.033 BTC, but one satoshi is
     *        0.0002 USD and what the liquidator receives rounds down to whole satoshi. Repaying
     *        600 − d seizes 0.033 − ⌈0.000055 d⌉ BTC (in satoshi); the target holds while
     *        d ≤ 16000 × ⌈0.000055 d⌉ (0.8 × 20000 per BTC kept): d = 0.00064 keeps 4 satoshi
     *        (16000 × 4e-8 = 0.00064) and d = 0.000641 does not (3.53e-8 still rounds to 4).
     *        So 599.99936 USDC are repaid for 0.03299996 BTC.
     *   after: 0.01700004 BTC (initial 272.00064) against 272.00064 USDC: 0.
     */
    const alice = account(CONFIG, { id: 'alice', balances: { ETH: '0.525', BTC: '0.05', USDC: '-1672' } });
    const result = plan({ alice });
    expect(result.steps.map((step) => step.kind === 'swap' && [step.collateralAsset, step.repaid, step.seized, step.rule])).toEqual([
      ['ETH', 800n * E6, 525_000_000_000_000_000n, 'ALL_AVAILABLE'],
      ['BTC', 599_999_360n, 3_299_996n, 'MINIMAL_TO_TARGET'],
    ]);
    expect(result.healthAfter.initial.healthUsd).toBe(0n);
  });

  it('repays with collateral after the perps are gone (mixed)', () => {
    /**
     * 1 ETH, −1200 USDC, long 2 ETH-PERP from 1700; ETH at 1600.
     *   maintenance 1440 − 1200 − 200 − 160 = −120; initial 1280 − 1200 − 200 − 320 = −440
     *   perps: all 2 ETH restore (0.10 − 0.025) × 1600 × 2 = 240 (fee 80): −200, ALL_AVAILABLE
     *   then r = 200 / 0.16 = 1250 USDC for 1250 × 1.05 / 1600 = 0.8203125 ETH
     *   after: 0.1796875 ETH (initial 230) against 1200 + 200 + 80 − 1250 = 230 USDC: 0.
     */
    const alice = account(CONFIG, {
      id: 'alice',
      balances: { ETH: '1', USDC: '-1200' },
      perps: [{ market: 'ETH-PERP', size: '2', entryPrice: '1700' }],
    });
    const result = plan({ alice });
    expect(result.steps.map((step) => [step.kind, step.rule])).toEqual([
      ['perp', 'ALL_AVAILABLE'],
      ['swap', 'MINIMAL_TO_TARGET'],
    ]);
    expect(result.steps[0]).toMatchObject({ size: 2n * E18, priceWad: 1600n * E18, penalty: 80n * E6, toInsurance: 40n * E6 });
    expect(result.steps[1]).toMatchObject({ repaid: 1250n * E6, seized: 820_312_500_000_000_000n });
    expect(result.healthAfter.initial.healthUsd).toBe(0n);
  });

  it('puts the whole balance up for auction, with the minimal repayment × (1 + penalty) as the tab', () => {
    // Auction on ETH, start factor 1.1: lot 1 ETH, tab 1375 × 1.05 = 1443.75 USDC, start 1760.
    const config = edited((json) => {
      json.assets[1].auction = { startFactor: '1.1', curve: 'linear', durationMs: 600000, floorFactor: '0.5', resetAfterMs: 900000, resetBelowFactor: '0.7' };
    });
    const result = plan({ config, alice: spotAlice(config), bob: keeper(config) });
    expect(result.steps).toEqual([
      {
        kind: 'auction',
        collateralAsset: 'ETH',
        lot: E18,
        debtAsset: 'USDC',
        tab: 1_443_750_000n,
        penaltyWad: WAD / 20n,
        startPriceWad: 1760n * E18,
        rule: 'MINIMAL_TO_TARGET',
      },
    ]);
    expect(result.targetReached).toBe(false);
    expect(result.views.get('system:auction')!.balances.get('ETH')).toBe(E18);
  });

  it('refuses a healthy account', () => {
    // 1 ETH against 1000 USDC: maintenance 1440 − 1000 = 440.
    const healthy = account(CONFIG, { id: 'alice', balances: { ETH: '1', USDC: '-1000' } });
    const result = planLiquidation(input({ alice: healthy }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ code: 'NOT_LIQUIDATABLE', maintenance: { healthUsd: 440n * E18 } });
  });
});

// ── Bankrupt path ──────────────────────────────────────────────────────────────────────

describe('planLiquidation: bankrupt accounts', () => {
  // 1 ETH against 1500 USDC with ETH at 1400: equity 1400 − 1500 = −100.
  const bankruptSpot = (): Account => account(CONFIG, { id: 'alice', balances: { ETH: '1', USDC: '-1500' } });
  const CRASH = priceBook({ USDC: '1', ETH: '1400', BTC: '20000' });

  it('the fund covers the deficit, then collateral repays the debt without penalty', () => {
    const result = plan({ alice: bankruptSpot(), prices: CRASH, insuranceUsdc: '1000' });
    expect(result.bankrupt).toBe(true);
    expect(result.steps).toEqual([
      { kind: 'insurance', asset: 'USDC', amount: 100n * E6, rule: 'INSURANCE_COVER' },
      {
        kind: 'swap',
        debtAsset: 'USDC',
        repaid: 1400n * E6,
        collateralAsset: 'ETH',
        seized: E18,
        penaltyWad: 0n,
        toInsurance: 0n,
        valueUsd: 1400n * E18,
        rule: 'BANKRUPTCY_CLOSE',
      },
    ]);
    expect(result.views.get('alice')!.balances.size).toBe(0);
    expect(result.views.get('system:insurance')!.balances.get('USDC')).toBe(900n * E6);
  });

  it('what the fund cannot cover is socialised', () => {
    // Fund 30: it pays 30, ETH repays 1400, and 70 USDC are written off against lenders.
    const result = plan({ alice: bankruptSpot(), prices: CRASH, insuranceUsdc: '30' });
    expect(result.steps.map((step) => [step.kind, step.rule])).toEqual([
      ['insurance', 'INSURANCE_COVER'],
      ['swap', 'BANKRUPTCY_CLOSE'],
      ['socialize', 'SOCIALIZE'],
    ]);
    expect(result.steps[0]).toMatchObject({ amount: 30n * E6 });
    expect(result.steps[2]).toEqual({ kind: 'socialize', asset: 'USDC', amount: 70n * E6, rule: 'SOCIALIZE' });
    expect(result.views.get('system:interest')!.balances.get('USDC')).toBe(-70n * E6);
  });

  it('closes a bankrupt position against the given opposite positions, in their order, at the bankruptcy price', () => {
    /**
     * Alice: 1000 USDC, long 10 ETH-PERP from 1000; ETH at 850: equity 1000 − 1500 = −500,
     * no fund. Bankruptcy price = mark + deficit per unit = 850 + 500 / 10 = 900: selling
     * 10 at 900 realises −1000 and leaves alice at exactly 0. Candidates (already ranked):
     * erin short 4, carol short 10: erin takes 4, carol 6.
     */
    const alice = account(CONFIG, { id: 'alice', balances: { USDC: '1000' }, perps: [{ market: 'ETH-PERP', size: '10', entryPrice: '1000' }] });
    const erin = account(CONFIG, { id: 'erin', balances: { USDC: '1000' }, perps: [{ market: 'ETH-PERP', size: '-4', entryPrice: '1000' }] });
    const carol = account(CONFIG, { id: 'carol', balances: { USDC: '5000' }, perps: [{ market: 'ETH-PERP', size: '-10', entryPrice: '1000' }] });
    const prices = priceBook({ USDC: '1', ETH: '850', BTC: '20000' });
    const result = plan({ alice, prices, candidates: [erin, carol] });
    expect(result.steps).toEqual([
      { kind: 'deleverage', market: 'ETH-PERP', counterparty: 'erin', size: 4n * E18, priceWad: 900n * E18, rule: 'DELEVERAGE' },
      { kind: 'deleverage', market: 'ETH-PERP', counterparty: 'carol', size: 6n * E18, priceWad: 900n * E18, rule: 'DELEVERAGE' },
    ]);
    expect(result.views.get('alice')!.balances.size).toBe(0);
    expect(result.views.get('alice')!.perps.size).toBe(0);
    // erin closed her short at 900: +400 realised; carol keeps −4 and realised +600.
    expect(result.views.get('erin')!.balances.get('USDC')).toBe(1400n * E6);
    expect(result.views.get('carol')!.perps.get('ETH-PERP')?.size).toBe(-4n * E18);
    expect(result.views.get('carol')!.balances.get('USDC')).toBe(5600n * E6);
  });

  it('with too few opposite positions the liquidator takes the rest at the bankruptcy price', () => {
    // Only erin (short 4): she takes 4, bob takes the other 6 at 900.
    const alice = account(CONFIG, { id: 'alice', balances: { USDC: '1000' }, perps: [{ market: 'ETH-PERP', size: '10', entryPrice: '1000' }] });
    const erin = account(CONFIG, { id: 'erin', balances: { USDC: '1000' }, perps: [{ market: 'ETH-PERP', size: '-4', entryPrice: '1000' }] });
    const result = plan({ alice, prices: priceBook({ USDC: '1', ETH: '850', BTC: '20000' }), candidates: [erin] });
    expect(result.steps.map((step) => [step.kind, step.rule, 'size' in step ? step.size : 0n])).toEqual([
      ['deleverage', 'DELEVERAGE', 4n * E18],
      ['perp', 'BANKRUPTCY_CLOSE', 6n * E18],
    ]);
    expect(result.steps[1]).toMatchObject({ priceWad: 900n * E18, penalty: 0n });
  });
});
