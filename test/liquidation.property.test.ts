/**
 * Property test of liquidation through the real Ledger (src/core/ledger + src/core/liquidation).
 *
 * Each run draws a risk configuration (penalties, weights, margin fractions, liquidation fee,
 * target kind, dust, maxShare, insuranceShare, cascade cap, an auction asset, the size of the
 * insurance fund, price confidence), a population of 3 to 9 users (ETH, BTC, USDC or DAI
 * collateral; borrows of USDC or BTC; ETH-PERP / BTC-PERP positions, long or short,
 * against a market maker) sized from their own initial health, and a price path of large moves
 * both ways (ETH and BTC × 0.3 to × 2.5 per step, DAI × 0.85 to × 1.3). After every move the
 * keepers bid on auctions (resetting stale ones) and every user is offered for liquidation,
 * by a keeper (sometimes with a notional limit) or by the backstop, several times per step.
 *
 * Checked after every liquidation command:
 *  - a refusal: NOT_LIQUIDATABLE exactly when the account was not liquidatable (a healthy
 *    account is never liquidated); a liquidatable account is refused only with
 *    LIQUIDATION_CAPPED (and only when a cap or a keeper limit exists), AUCTION_IN_PROGRESS or
 *    LIQUIDATOR_INSUFFICIENT_MARGIN; nothing changed;
 *  - an acceptance: the account was liquidatable before; no other user account's view changed
 *    but the liquidator's and the deleveraged counterparties' (lenders of a socialised asset
 *    may only see that balance shrink);
 *  - the account ends at or above the target (targetHealth ≥ 0), or bankrupt with its deficit
 *    recorded (InsuranceCovered, BadDebtSocialized, PositionDeleveraged or a bankruptcy close at
 *    a price off the mark), or an auction started, or a cap applied (MAX_SHARE_CAP,
 *    CASCADE_CAP, KEEPER_LIMIT); `targetReached` and `bankrupt` in LiquidationCompleted agree
 *    with the ledger's state;
 *  - replaying the steps with movementsOf / applyMovements on the views taken before gives
 *    the views the ledger holds after (for the account and the liquidator);
 *  - minimality: a MINIMAL_TO_TARGET perp or swap step reaches the target and the same step
 *    one base unit smaller (priced independently here) does not;
 *  - a swap's seized collateral is worth at most repaid × (1 + penalty) at the prices used
 *    (penalty 0 when bankrupt); a perp step is at the mark and its fee is ⌈notional × fee⌉;
 *  - the insurance fund moves, per asset, by exactly Σ penalty shares in − Σ InsuranceCovered;
 *  - a write-off (BadDebtSocialized) shrinks the lenders' balances of its asset by the amount
 *    written off in total, to within a base unit per lender;
 *  - conservation: checkInvariants(state) is empty and the ledger is not halted.
 * After every bid: conservation, and the fund moves by exactly the take's `toInsurance`.
 *
 * Known bugs the property finds are collected (with their first counterexample) and reported
 * by the "BUG: …" tests after it, so that the other checks keep running meanwhile.
 *
 * LIQUIDATION_PROPERTY_RUNS (default 120), LIQUIDATION_PROPERTY_SEED and
 * LIQUIDATION_PROPERTY_PATH replay a run; LIQUIDATION_PROPERTY_SHRINK=1 shrinks a failure
 * (slow: every attempt replays a whole population).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Account } from '../src/core/account.ts';
import { parseRiskConfig, type RiskConfig } from '../src/core/config.ts';
import { abs, formatDecimal, WAD } from '../src/core/fixed.ts';
import { evaluateAccount, type AccountHealth } from '../src/core/health.ts';
import type { Command } from '../src/core/ledger/commands.ts';
import type { LiquidationCompleted, LiquidationStepEventType } from '../src/core/ledger/events.ts';
import { checkInvariants } from '../src/core/ledger/invariants.ts';
import { Ledger, type Outcome } from '../src/core/ledger/ledger.ts';
import type { Rejection } from '../src/core/ledger/rejections.ts';
import { accountView, isSystemAccount, liquidationParties, SYSTEM, type LedgerState } from '../src/core/ledger/state.ts';
import { equityAtMid, targetHealth } from '../src/core/liquidation/plan.ts';
import { applyMovements, movementsOf, type LiquidationStep, type Views } from '../src/core/liquidation/steps.ts';
import type { Result } from '../src/core/result.ts';

const RUNS = Number(process.env.LIQUIDATION_PROPERTY_RUNS ?? 120);
const SEED = process.env.LIQUIDATION_PROPERTY_SEED === undefined ? undefined : Number(process.env.LIQUIDATION_PROPERTY_SEED);

const T0_MS = 1_735_689_600_000;
const START_PRICES: Readonly<Record<string, bigint>> = { USDC: WAD, DAI: WAD, ETH: 2000n * WAD, BTC: 30_000n * WAD };
const USERS_MAX = 9;
const KEEPERS = ['keeper-a', 'keeper-b'] as const;
const MARKET_MAKER = 'mm';
const CAP_RULES = new Set(['MAX_SHARE_CAP', 'CASCADE_CAP', 'KEEPER_LIMIT']);

// ── Generated inputs ───────────────────────────────────────────────────────────────────

interface WorldParams {
  readonly penaltyPct: { readonly ETH: number; readonly BTC: number; readonly DAI: number };
  readonly ethInitialPct: number;
  readonly btcInitialPct: number;
  readonly maintenanceDeltaPct: number;
  readonly liabilityInitialPct: number;
  readonly liabilityMaintenancePct: number;
  readonly perpMaintenancePct: number;
  readonly perpFeePct: number;
  readonly targetRatioPct: number | null;
  readonly dustUsd: string;
  readonly maxSharePct: number;
  readonly insuranceSharePct: number;
  readonly capUsd: number | null;
  readonly auction: null | { readonly asset: 'ETH' | 'BTC'; readonly curve: 'linear' | 'exponential' };
  readonly insuranceFundUsdc: number;
  readonly confidenceBps: number;
}

type CollateralAsset = 'ETH' | 'BTC' | 'USDC' | 'DAI';

interface UserSpec {
  readonly collateral: readonly { readonly asset: CollateralAsset; readonly usd: number }[];
  readonly perp: null | { readonly market: 'ETH-PERP' | 'BTC-PERP'; readonly long: boolean; readonly usePct: number };
  readonly borrow: null | { readonly asset: CollateralAsset; readonly usePct: number };
}

interface PriceStep {
  readonly ethPct: number;
  readonly btcPct: number;
  readonly daiPct: number;
  readonly dtMs: number;
}

interface RunInput {
  readonly params: WorldParams;
  readonly users: readonly UserSpec[];
  readonly path: readonly PriceStep[];
  readonly seed: number;
}

/** A step's price move in percent: mostly a few percent, sometimes a crash or a squeeze. */
const movePct = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 94, max: 99 }) },
  { weight: 3, arbitrary: fc.integer({ min: 100, max: 106 }) },
  { weight: 1, arbitrary: fc.integer({ min: 80, max: 93 }) },
  { weight: 1, arbitrary: fc.integer({ min: 107, max: 250 }) },
  { weight: 1, arbitrary: fc.constantFrom(30, 45, 60, 150, 250) },
);

const paramsArbitrary: fc.Arbitrary<WorldParams> = fc.record({
  penaltyPct: fc.record({ ETH: fc.integer({ min: 0, max: 10 }), BTC: fc.integer({ min: 0, max: 10 }), DAI: fc.integer({ min: 0, max: 8 }) }),
  ethInitialPct: fc.integer({ min: 50, max: 85 }),
  btcInitialPct: fc.integer({ min: 50, max: 85 }),
  maintenanceDeltaPct: fc.integer({ min: 0, max: 5 }),
  liabilityInitialPct: fc.integer({ min: 100, max: 120 }),
  liabilityMaintenancePct: fc.integer({ min: 100, max: 120 }),
  perpMaintenancePct: fc.integer({ min: 2, max: 10 }),
  perpFeePct: fc.integer({ min: 0, max: 9 }),
  targetRatioPct: fc.option(fc.integer({ min: 100, max: 130 }), { nil: null }),
  dustUsd: fc.constantFrom('0', '1', '50'),
  maxSharePct: fc.constantFrom(100, 100, 100, 50, 30),
  insuranceSharePct: fc.integer({ min: 0, max: 100 }),
  capUsd: fc.option(fc.integer({ min: 2000, max: 200_000 }), { nil: null, freq: 2 }),
  auction: fc.option(fc.record({ asset: fc.constantFrom<'ETH' | 'BTC'>('ETH', 'BTC'), curve: fc.constantFrom<'linear' | 'exponential'>('linear', 'exponential') }), { nil: null, freq: 3 }),
  insuranceFundUsdc: fc.constantFrom(0, 0, 50, 5000, 1_000_000),
  confidenceBps: fc.constantFrom(0, 0, 10, 50),
});

const assetArbitrary = fc.constantFrom<CollateralAsset>('ETH', 'BTC', 'USDC', 'DAI');

const userArbitrary: fc.Arbitrary<UserSpec> = fc.record({
  collateral: fc.array(fc.record({ asset: assetArbitrary, usd: fc.integer({ min: 100, max: 200_000 }) }), { minLength: 1, maxLength: 2 }),
  perp: fc.option(
    fc.record({ market: fc.constantFrom<'ETH-PERP' | 'BTC-PERP'>('ETH-PERP', 'BTC-PERP'), long: fc.boolean(), usePct: fc.integer({ min: 20, max: 100 }) }),
    { nil: null },
  ),
  // Debts only in USDC or BTC: a debt in an asset whose base unit is worth far less than the
  // collateral's (ETH or DAI debt against USDC or BTC) hangs the planner (see the BUG test in
  // src/core/ledger/liquidate.test.ts), and a property run cannot time out.
  borrow: fc.option(fc.record({ asset: fc.constantFrom<CollateralAsset>('USDC', 'BTC'), usePct: fc.integer({ min: 20, max: 100 }) }), { nil: null, freq: 4 }),
});

const runArbitrary: fc.Arbitrary<RunInput> = fc.record({
  params: paramsArbitrary,
  users: fc.array(userArbitrary, { minLength: 3, maxLength: USERS_MAX }),
  path: fc.array(
    fc.record({ ethPct: movePct, btcPct: movePct, daiPct: fc.integer({ min: 85, max: 130 }), dtMs: fc.integer({ min: 1000, max: 600_000 }) }),
    { minLength: 5, maxLength: 12 },
  ),
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
});

// ── The world ──────────────────────────────────────────────────────────────────────────

function pct(value: number): string {
  return formatDecimal(BigInt(value), 2);
}

/**
 * risk.json for a run. Weights keep every debt-for-collateral pair restorative at both levels
 * ((1 + penalty) × collateral weight < 1 ≤ liability weight) and the perp fee below the
 * maintenance fraction, so that a liquidation can always move an account towards its target.
 */
function riskJson(p: WorldParams): unknown {
  const liabilityInitial = Math.max(p.liabilityInitialPct, p.liabilityMaintenancePct);
  const liability = { initialWeight: pct(liabilityInitial), maintenanceWeight: pct(p.liabilityMaintenancePct) };
  const collateral = (initialPct: number) => ({ initialWeight: pct(initialPct), maintenanceWeight: pct(Math.min(initialPct + p.maintenanceDeltaPct, 90)) });
  const auction = (asset: string) =>
    p.auction?.asset !== asset
      ? {}
      : {
          auction:
            p.auction.curve === 'linear'
              ? { startFactor: '1.1', curve: 'linear', durationMs: 900_000, floorFactor: '0.5', resetAfterMs: 1_800_000, resetBelowFactor: '0.7' }
              : { startFactor: '1.2', curve: 'exponential', stepMs: 60_000, stepFactor: '0.97', floorFactor: '0.5', resetAfterMs: 1_800_000, resetBelowFactor: '0.6' },
        };
  const perpFee = Math.min(p.perpFeePct, p.perpMaintenancePct - 1);
  return {
    quote: 'USDC',
    liquidation: {
      ...(p.targetRatioPct !== null && { targetMaintenanceRatio: pct(p.targetRatioPct) }),
      dustUsd: p.dustUsd,
      maxShare: pct(p.maxSharePct),
      insuranceShare: pct(p.insuranceSharePct),
      windowMs: 60_000,
      ...(p.capUsd !== null && { notionalCapPerWindowUsd: String(p.capUsd) }),
    },
    assets: [
      { id: 'USDC', decimals: 6, collateral: { initialWeight: '0.95', maintenanceWeight: '0.98' }, liability: { initialWeight: '1', maintenanceWeight: '1' }, liquidationPenalty: '0.02' },
      { id: 'DAI', decimals: 18, collateral: { initialWeight: '0.85', maintenanceWeight: '0.9' }, liability, liquidationPenalty: pct(p.penaltyPct.DAI) },
      { id: 'ETH', decimals: 18, collateral: collateral(p.ethInitialPct), liability, liquidationPenalty: pct(p.penaltyPct.ETH), ...auction('ETH') },
      { id: 'BTC', decimals: 8, collateral: collateral(p.btcInitialPct), liability, liquidationPenalty: pct(p.penaltyPct.BTC), ...auction('BTC') },
    ],
    markets: ['ETH', 'BTC'].map((base) => ({
      id: `${base}-PERP`,
      base,
      initialMarginFraction: pct(2 * p.perpMaintenancePct),
      maintenanceMarginFraction: pct(p.perpMaintenancePct),
      liquidationFee: pct(Math.max(perpFee, 0)),
    })),
  };
}

/** xorshift32: the run's own decisions (liquidator, limits, bids), seeded by fast-check. */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

let keySeq = 0;
function key(): string {
  keySeq += 1;
  return `p-${keySeq}`;
}

class World {
  readonly ledger: Ledger;
  readonly config: RiskConfig;
  readonly users: string[] = [];
  nowMs = T0_MS;
  readonly prices = new Map<string, bigint>(Object.entries(START_PRICES));

  constructor(readonly params: WorldParams) {
    const json = riskJson(params);
    const parsed = parseRiskConfig(json);
    if (!parsed.ok) throw new Error(`invalid generated config: ${JSON.stringify(parsed.error)}`);
    this.config = parsed.value;
    this.ledger = Ledger.create(parsed.value, json);
  }

  get state(): LedgerState {
    return this.ledger.state;
  }

  unit(asset: string): bigint {
    return this.config.assets.get(asset)!.unit;
  }

  run(command: Command): Result<Outcome, Rejection> {
    return this.ledger.execute(command);
  }

  must(command: Command): Outcome {
    const result = this.run(command);
    if (!result.ok) throw new Error(`setup command refused: ${command.kind} ${JSON.stringify(result.error, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    return result.value;
  }

  setPrice(asset: string, priceWad: bigint): void {
    this.prices.set(asset, priceWad);
    const confidenceWad = (priceWad * BigInt(this.params.confidenceBps)) / 10_000n;
    this.must({ kind: 'price', idempotencyKey: key(), asset, priceWad, confidenceWad });
  }

  view(id: string): Account {
    return accountView(this.state, this.state.accounts.get(id)!);
  }

  health(id: string): AccountHealth {
    const health = evaluateAccount(this.view(id), this.state.prices, this.config);
    if (!health.ok) throw new Error(`cannot value ${id}: ${health.error.code}`);
    return health.value;
  }

  /** USD amount of an asset at the current price, in base units (rounded down). */
  unitsForUsd(asset: string, usdWad: bigint): bigint {
    return (usdWad * this.unit(asset)) / this.prices.get(asset)!;
  }

  deposit(account: string, asset: string, amount: bigint, owner?: string): void {
    if (amount <= 0n) return;
    this.must({ kind: 'deposit', idempotencyKey: key(), account, asset, amount, ...(owner !== undefined && { owner }) });
  }

  /** Tries `attempt(amount)` with the amount halved on each refusal, at most 8 times. */
  tryHalving(amount: bigint, attempt: (amount: bigint) => Command): void {
    let current = amount;
    for (let i = 0; i < 8 && current > 0n; i++) {
      if (this.run(attempt(current)).ok) return;
      current /= 2n;
    }
  }
}

function buildWorld(input: RunInput): World {
  const world = new World(input.params);
  for (const [asset, priceWad] of Object.entries(START_PRICES)) world.setPrice(asset, priceWad);
  // Deep pockets: a market maker on the other side of every perp, two keepers, the backstop.
  world.deposit(MARKET_MAKER, 'USDC', 1_000_000_000n * world.unit('USDC'));
  for (const keeper of KEEPERS) world.deposit(keeper, 'USDC', 100_000_000n * world.unit('USDC'));
  world.deposit(SYSTEM.backstop, 'USDC', 100_000_000n * world.unit('USDC'));
  world.deposit(SYSTEM.backstop, 'DAI', 100_000_000n * world.unit('DAI'));
  world.deposit(SYSTEM.backstop, 'ETH', 50_000n * world.unit('ETH'));
  world.deposit(SYSTEM.backstop, 'BTC', 3_000n * world.unit('BTC'));
  world.deposit(SYSTEM.insurance, 'USDC', BigInt(input.params.insuranceFundUsdc) * world.unit('USDC'));
  // A lender of each borrowable asset (the socialised losses fall on them).
  world.deposit('lender', 'USDC', 1_000_000n * world.unit('USDC'));
  world.deposit('lender', 'DAI', 1_000_000n * world.unit('DAI'));
  world.deposit('lender', 'ETH', 500n * world.unit('ETH'));
  world.deposit('lender', 'BTC', 30n * world.unit('BTC'));

  input.users.forEach((spec, index) => {
    const id = `user-${index}`;
    world.users.push(id);
    for (const { asset, usd } of spec.collateral) world.deposit(id, asset, world.unitsForUsd(asset, BigInt(usd) * WAD));
    if (spec.perp !== null) {
      const market = world.config.markets.get(spec.perp.market)!;
      const base = market.base;
      const healthUsd = world.health(id).initial.healthUsd;
      // Notional the initial health carries: health / initial fraction; use a share of it.
      const notionalUsd = (healthUsd * WAD * BigInt(spec.perp.usePct)) / (market.marginFraction.initialWad * 100n);
      const size = world.unitsForUsd(base, notionalUsd);
      const { long } = spec.perp;
      world.tryHalving(size, (amount) => ({
        kind: 'trade',
        idempotencyKey: key(),
        market: market.id,
        priceWad: world.prices.get(base)!,
        size: amount,
        buyer: long ? id : MARKET_MAKER,
        seller: long ? MARKET_MAKER : id,
        buyerFeeRateWad: 0n,
        sellerFeeRateWad: 0n,
      }));
    }
    if (spec.borrow !== null && !spec.collateral.some((c) => c.asset === spec.borrow!.asset)) {
      const asset = world.config.assets.get(spec.borrow.asset)!;
      const healthUsd = world.health(id).initial.healthUsd;
      const usd = (healthUsd * WAD * BigInt(spec.borrow.usePct)) / (asset.liability!.initialWad * 100n);
      world.tryHalving(world.unitsForUsd(asset.id, usd), (amount) => ({ kind: 'withdraw', idempotencyKey: key(), account: id, asset: asset.id, amount }));
    }
  });
  expect(checkInvariants(world.state)).toEqual([]);
  return world;
}

// ── Checks ─────────────────────────────────────────────────────────────────────────────

interface Stats {
  runs: number;
  liquidations: number;
  refusals: Record<string, number>;
  steps: Record<string, number>;
  rules: Record<string, number>;
  minimalChecked: number;
  bankrupt: number;
  auctionsTaken: number;
  auctionsEnded: number;
  resets: number;
}

const STATS: Stats = { runs: 0, liquidations: 0, refusals: {}, steps: {}, rules: {}, minimalChecked: 0, bankrupt: 0, auctionsTaken: 0, auctionsEnded: 0, resets: 0 };

function bump(record: Record<string, number>, name: string): void {
  record[name] = (record[name] ?? 0) + 1;
}

function allViews(state: LedgerState): Map<string, Account> {
  const views = new Map<string, Account>();
  for (const record of state.accounts.values()) views.set(record.id, accountView(state, record));
  return views;
}

function sameView(a: Account, b: Account): boolean {
  if (a.balances.size !== b.balances.size || a.perps.size !== b.perps.size) return false;
  for (const [asset, amount] of a.balances) if (b.balances.get(asset) !== amount) return false;
  for (const [market, position] of a.perps) {
    const other = b.perps.get(market);
    if (other === undefined || other.size !== position.size || other.entryPriceWad !== position.entryPriceWad) return false;
  }
  return true;
}

/**
 * The same view, but that positive balances of socialised assets may have shrunk (the supply
 * index cut applies to every lender, the liquidator included).
 */
function sameOrHaircut(expected: Account, actual: Account, socialised: ReadonlySet<string>): boolean {
  if (socialised.size === 0) return sameView(expected, actual);
  if (expected.perps.size !== actual.perps.size) return false;
  for (const [market, position] of expected.perps) {
    const other = actual.perps.get(market);
    if (other === undefined || other.size !== position.size || other.entryPriceWad !== position.entryPriceWad) return false;
  }
  for (const asset of new Set([...expected.balances.keys(), ...actual.balances.keys()])) {
    const e = expected.balances.get(asset) ?? 0n;
    const a = actual.balances.get(asset) ?? 0n;
    if (a !== e && !(socialised.has(asset) && e > 0n && a >= 0n && a <= e)) return false;
  }
  return true;
}

function describeView(account: Account | undefined): string {
  if (account === undefined) return 'none';
  const balances = [...account.balances].map(([asset, amount]) => `${asset}=${amount}`).join(',');
  const perps = [...account.perps.values()].map((p) => `${p.market}=${p.size}@${p.entryPriceWad}`).join(',');
  return `{${balances}}{${perps}}`;
}

function insuranceBalances(state: LedgerState): Map<string, bigint> {
  const balances = new Map<string, bigint>();
  for (const [asset, balance] of state.accounts.get(SYSTEM.insurance)!.balances) balances.set(asset, balance.amount);
  return balances;
}

function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator;
}

/** The step one base unit smaller, priced here independently of plan.ts. */
function oneUnitLess(step: LiquidationStep, config: RiskConfig, prices: LedgerState['prices']): LiquidationStep | null {
  const share = config.liquidation.insuranceShareWad;
  if (step.kind === 'perp') {
    const market = config.markets.get(step.market)!;
    const baseUnit = config.assets.get(market.base)!.unit;
    const quoteUnit = config.assets.get(config.quote)!.unit;
    const size = step.size - (step.size > 0n ? 1n : -1n);
    const penalty = ceilDiv(abs(size) * step.priceWad * market.liquidationFeeWad * quoteUnit, baseUnit * WAD * WAD);
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
  return null;
}

/**
 * No positions, debts left, and every holding a crumb: worth less than one base unit of every
 * debt at (1 + penalty), so that no swap can use it.
 */
function onlyCrumbsLeft(account: Account, state: LedgerState): boolean {
  if (account.perps.size > 0) return false;
  const debts = [...account.balances].filter(([, amount]) => amount < 0n).map(([asset]) => asset);
  if (debts.length === 0) return false;
  return [...account.balances].every(([asset, amount]) => {
    if (amount <= 0n) return true;
    const collateral = state.config.assets.get(asset)!;
    const collateralPrice = state.prices.get(asset)!.priceWad;
    return debts.every((debtId) => {
      const debt = state.config.assets.get(debtId)!;
      const debtPrice = state.prices.get(debtId)!.priceWad;
      return amount * collateralPrice * debt.unit * WAD < (WAD + collateral.liquidationPenaltyWad) * debtPrice * collateral.unit;
    });
  });
}

/** Counterexamples of known bugs, collected by the main property and reported by their own tests. */
const KNOWN: { crumbs: string[]; silentCaps: string[]; haircuts: string[] } = { crumbs: [], silentCaps: [], haircuts: [] };

/**
 * Markets and collateral assets of the account whose cascade window has less than 1 USD of
 * room left at the command's time (nothing of them can be liquidated now).
 */
function exhaustedKeys(world: World, account: Account): string[] {
  const { config, state } = world;
  const cap = config.liquidation.notionalCapPerWindowUsd;
  if (cap === undefined) return [];
  const keys = [...account.perps.keys(), ...[...account.balances].filter(([, amount]) => amount > 0n).map(([asset]) => asset)];
  return keys.filter((capKey) => {
    const window = state.liquidationWindows.get(capKey);
    const active = window !== undefined && world.nowMs - window.startMs < config.liquidation.windowMs;
    const room = active ? cap - window.usedUsd : cap;
    return room < WAD;
  });
}

function targetHealthOf(account: Account, state: LedgerState): bigint {
  const health = evaluateAccount(account, state.prices, state.config);
  if (!health.ok) throw new Error(`cannot value ${account.id}: ${health.error.code}`);
  return targetHealth(health.value, state.config);
}

/**
 * Offers `account` for liquidation by `liquidator` and checks everything the header lists.
 * Returns the refusal code, or null when accepted.
 */
function liquidateAndCheck(world: World, account: string, liquidator: string, maxNotionalUsd: bigint | undefined): string | null {
  const { state, config } = world;
  const context = `liquidate ${account} by ${liquidator}${maxNotionalUsd === undefined ? '' : ` (limit ${maxNotionalUsd})`} at ${world.nowMs}`;
  const before = allViews(state);
  const accountBefore = before.get(account)!;
  const healthBefore = world.health(account);
  const equityBefore = equityAtMid(accountBefore, state.prices, config);
  const fundBefore = insuranceBalances(state);
  const headBefore = world.ledger.headSeq;
  const exhausted = exhaustedKeys(world, accountBefore);
  let result: Result<Outcome, Rejection>;
  try {
    result = world.run({
      kind: 'liquidate',
      idempotencyKey: key(),
      account,
      liquidator,
      nowMs: world.nowMs,
      ...(maxNotionalUsd !== undefined && { maxNotionalUsd }),
    });
  } catch (error) {
    throw new Error(`${context}: Ledger.execute threw ${String(error)}; account before ${describeView(accountBefore)}`);
  }
  expect(checkInvariants(state), context).toEqual([]);
  expect(state.halted, context).toBeNull();

  if (!result.ok) {
    const code = result.error.code;
    bump(STATS.refusals, code);
    expect(world.ledger.headSeq, `${context}: a refusal changed the log`).toBe(headBefore);
    if (!healthBefore.liquidatable) {
      expect(['NOT_LIQUIDATABLE', 'AUCTION_IN_PROGRESS'], `${context}: healthy account refused with ${code}`).toContain(code);
    } else {
      expect(['LIQUIDATION_CAPPED', 'AUCTION_IN_PROGRESS', 'LIQUIDATOR_INSUFFICIENT_MARGIN'], `${context}: liquidatable account refused with ${code}`).toContain(code);
      if (code === 'LIQUIDATION_CAPPED') {
        expect(
          config.liquidation.notionalCapPerWindowUsd !== undefined || maxNotionalUsd !== undefined,
          `${context}: LIQUIDATION_CAPPED with no cap and no keeper limit; account ${describeView(accountBefore)}`,
        ).toBe(true);
      }
    }
    return code;
  }

  // Accepted.
  STATS.liquidations += 1;
  expect(healthBefore.liquidatable, `${context}: a healthy account was liquidated`).toBe(true);
  const events = result.value.events.map((sealed) => sealed.event);
  const stepEvents = events.filter((event): event is LiquidationStepEventType => 'step' in event);
  const completed = events.find((event): event is LiquidationCompleted => event.type === 'LiquidationCompleted');
  if (completed === undefined) throw new Error(`${context}: no LiquidationCompleted`);
  const steps = stepEvents.map((event) => event.step);
  for (const step of steps) {
    bump(STATS.steps, step.kind);
    bump(STATS.rules, step.rule);
  }
  if (completed.bankrupt) STATS.bankrupt += 1;
  const after = allViews(state);
  const accountAfter = after.get(account)!;
  const priceText = [...state.prices].map(([asset, p]) => `${asset}=${formatDecimal(p.priceWad, 18)}±${formatDecimal(p.confidenceWad, 18)}`).join(' ');
  const windows = [...state.liquidationWindows].map(([k, w]) => `${k}:${formatDecimal(w.usedUsd, 18)}@${w.startMs}`).join(' ');
  const detail = `${context}\n  prices ${priceText}; windows after ${windows}\n  before ${describeView(accountBefore)}\n  after  ${describeView(accountAfter)}\n  steps ${JSON.stringify(steps, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`;

  // Only the account, the liquidator and the deleveraged counterparties changed; lenders of
  // a socialised asset may only see that balance shrink.
  const touched = new Set([account, liquidator]);
  for (const step of steps) if (step.kind === 'deleverage') touched.add(step.counterparty);
  const socialised = new Set(steps.flatMap((step) => (step.kind === 'socialize' ? [step.asset] : [])));
  for (const [id, viewBefore] of before) {
    if (isSystemAccount(id) || touched.has(id)) continue;
    const viewAfter = after.get(id)!;
    expect(sameOrHaircut(viewBefore, viewAfter, socialised), `${detail}\n  ${id} changed: ${describeView(viewBefore)} → ${describeView(viewAfter)}`).toBe(true);
  }

  // Bankrupt exactly when the equity at mid prices was negative; the event agrees with the state.
  expect(completed.bankrupt, detail).toBe(equityBefore < 0n);
  const targetAfter = targetHealthOf(accountAfter, state);
  expect(completed.targetReached, detail).toBe(targetAfter >= 0n);

  // At the target, or bankrupt with the deficit recorded, or an auction, or a cap.
  const auctionStarted = steps.some((step) => step.kind === 'auction');
  const capped = steps.some((step) => CAP_RULES.has(step.rule));
  if (completed.bankrupt) {
    const recorded = steps.some(
      (step) =>
        step.kind === 'insurance' ||
        step.kind === 'socialize' ||
        step.kind === 'deleverage' ||
        (step.kind === 'perp' && step.rule === 'BANKRUPTCY_CLOSE' && step.priceWad !== state.prices.get(config.markets.get(step.market)!.base)!.priceWad),
    );
    expect(recorded, `${detail}\n  bankrupt (equity ${equityBefore}) but no deficit recorded`).toBe(true);
  }
  const explained = targetAfter >= 0n || completed.bankrupt || auctionStarted || capped || completed.untouched.length > 0;
  const stepKeys = new Set(steps.flatMap((step) => (step.kind === 'perp' ? [step.market] : step.kind === 'swap' ? [step.collateralAsset] : [])));
  const silentlyCapped = exhausted.filter((capKey) => !stepKeys.has(capKey));
  if (!explained && onlyCrumbsLeft(accountAfter, state)) {
    // Known bugs (see the BUG tests below): recorded, and the other checks still run.
    KNOWN.crumbs.push(`${detail}\n  ends below target (${targetAfter}) with only crumbs of collateral and an unrecorded debt`);
  } else if (!explained && silentlyCapped.length > 0) {
    KNOWN.silentCaps.push(`${detail}\n  ends below target (${targetAfter}); the cascade window of ${silentlyCapped.join(', ')} was full, and no step says so`);
  } else {
    expect(explained, `${detail}\n  ends below target (${targetAfter}) without bankruptcy, auction or cap`).toBe(true);
  }

  // Replay: the steps applied to the views before give the ledger's views after; minimality.
  const parties = liquidationParties(account, liquidator);
  let views: Views = before;
  for (const step of steps) {
    if (step.rule === 'MINIMAL_TO_TARGET' && (step.kind === 'perp' || step.kind === 'swap')) {
      const smaller = oneUnitLess(step, config, state.prices);
      const reached = applyMovements(views, movementsOf(step, parties, config), config);
      expect(targetHealthOf(reached.get(account)!, state), `${detail}\n  a MINIMAL_TO_TARGET step does not reach the target`).toBeGreaterThanOrEqual(0n);
      if (smaller !== null && (step.kind === 'perp' ? step.size !== 0n : step.repaid > 1n)) {
        const short = applyMovements(views, movementsOf(smaller, parties, config), config);
        expect(targetHealthOf(short.get(account)!, state), `${detail}\n  one unit less also reaches the target`).toBeLessThan(0n);
        STATS.minimalChecked += 1;
      }
    }
    views = applyMovements(views, movementsOf(step, parties, config), config);
  }
  // A write-off is borne by the lenders of the asset: their balances (replayed without the
  // haircut, against the ledger's) shrink by at least the socialised amount in total and by at
  // most two base units per lender more (the index rounds against the lenders).
  for (const asset of socialised) {
    const written = steps.reduce((sum, step) => sum + (step.kind === 'socialize' && step.asset === asset ? step.amount : 0n), 0n);
    let shrink = 0n;
    let lenders = 0n;
    for (const [id, replayed] of views) {
      const amount = replayed.balances.get(asset) ?? 0n;
      if (isSystemAccount(id) || amount <= 0n) continue;
      lenders += 1n;
      shrink += amount - (after.get(id)!.balances.get(asset) ?? 0n);
    }
    if (shrink < written || shrink - written > 2n * lenders) {
      KNOWN.haircuts.push(`${detail}\n  ${asset}: ${written} written off, lenders' balances shrank by ${shrink} (${lenders} lenders)`);
    }
  }
  for (const id of [account, liquidator]) {
    const replayed = views.get(id)!;
    const held = after.get(id)!;
    expect(sameOrHaircut(replayed, held, socialised), `${detail}\n  the plan and the ledger disagree on ${id}: ${describeView(replayed)} ≠ ${describeView(held)}`).toBe(true);
  }

  // What changes hands, at the prices used.
  const fundDelta = new Map<string, bigint>();
  const addFund = (asset: string, delta: bigint): void => void fundDelta.set(asset, (fundDelta.get(asset) ?? 0n) + delta);
  for (const step of steps) {
    if (step.kind === 'swap') {
      const debt = config.assets.get(step.debtAsset)!;
      const collateral = config.assets.get(step.collateralAsset)!;
      const penaltyWad = step.rule === 'BANKRUPTCY_CLOSE' ? 0n : collateral.liquidationPenaltyWad;
      const debtPrice = state.prices.get(step.debtAsset)!.priceWad;
      const collateralPrice = state.prices.get(step.collateralAsset)!.priceWad;
      if (step.repaid > 0n) {
        // seized × price_c / unit_c ≤ repaid × price_d / unit_d × (1 + penalty), cross-multiplied.
        expect(step.seized * collateralPrice * debt.unit * WAD <= step.repaid * debtPrice * collateral.unit * (WAD + penaltyWad), `${detail}\n  seized more than repaid × (1 + penalty)`).toBe(true);
      } else {
        expect(step.toInsurance, `${detail}\n  a sweep of leftover collateral gave the liquidator something`).toBe(step.seized);
      }
      expect(step.toInsurance >= 0n && step.toInsurance <= step.seized, detail).toBe(true);
      addFund(step.collateralAsset, step.toInsurance);
    } else if (step.kind === 'perp') {
      const market = config.markets.get(step.market)!;
      const mark = state.prices.get(market.base)!.priceWad;
      if (step.rule !== 'BANKRUPTCY_CLOSE') {
        expect(step.priceWad, `${detail}\n  a perp step off the mark`).toBe(mark);
        const fee = ceilDiv(abs(step.size) * mark * market.liquidationFeeWad * world.unit(config.quote), world.unit(market.base) * WAD * WAD);
        expect(step.penalty, `${detail}\n  perp fee`).toBe(fee);
      } else {
        expect(step.penalty, detail).toBe(0n);
      }
      expect(step.toInsurance, detail).toBe((step.penalty * config.liquidation.insuranceShareWad) / WAD);
      addFund(config.quote, step.toInsurance);
    } else if (step.kind === 'insurance') {
      addFund(step.asset, -step.amount);
    }
  }
  const fundAfter = insuranceBalances(state);
  for (const asset of new Set([...fundBefore.keys(), ...fundAfter.keys(), ...fundDelta.keys()])) {
    expect((fundAfter.get(asset) ?? 0n) - (fundBefore.get(asset) ?? 0n), `${detail}\n  insurance fund ${asset}`).toBe(fundDelta.get(asset) ?? 0n);
  }
  return null;
}

/** A keeper bids on each auction (resetting stale ones); the fund moves by the take's penalty part. */
function bidOnAuctions(world: World, random: () => number): void {
  for (const auction of [...world.state.auctions.values()]) {
    if (random() < 0.3) continue;
    const oracle = world.state.prices.get(auction.collateralAsset)!.priceWad;
    const amount = (auction.lot * BigInt(1 + Math.floor(random() * 100))) / 100n;
    const fundBefore = insuranceBalances(world.state);
    const result = world.run({
      kind: 'bid',
      idempotencyKey: key(),
      auctionId: auction.id,
      taker: KEEPERS[0],
      amount,
      maxPriceWad: (oracle * 13n) / 10n,
      nowMs: world.nowMs,
    });
    expect(checkInvariants(world.state)).toEqual([]);
    if (result.ok) {
      for (const sealed of result.value.events) {
        const event = sealed.event;
        if (event.type === 'AuctionTaken') {
          STATS.auctionsTaken += 1;
          expect(event.cost > 0n && event.amount > 0n, 'a take for nothing').toBe(true);
          expect(event.repaid + event.toInsurance).toBe(event.cost);
          const fundAfter = insuranceBalances(world.state);
          expect((fundAfter.get(event.debtAsset) ?? 0n) - (fundBefore.get(event.debtAsset) ?? 0n)).toBe(event.toInsurance);
        }
        if (event.type === 'AuctionEnded') STATS.auctionsEnded += 1;
      }
    } else if (result.error.code === 'AUCTION_STALE') {
      const reset = world.run({ kind: 'resetAuction', idempotencyKey: key(), auctionId: auction.id, nowMs: world.nowMs });
      expect(reset.ok).toBe(true);
      STATS.resets += 1;
    } else {
      expect(['AUCTION_PRICE_ABOVE_LIMIT', 'ZERO_BID', 'INSUFFICIENT_MARGIN']).toContain(result.error.code);
    }
  }
}

function playRun(input: RunInput): void {
  STATS.runs += 1;
  const world = buildWorld(input);
  const random = prng(input.seed);
  for (const move of input.path) {
    world.nowMs += move.dtMs;
    // Moved by the step's percentages, within [floor, ceiling].
    const scaled = (asset: string, percent: number, floorWad: bigint, ceilingWad: bigint): bigint => {
      const next = (world.prices.get(asset)! * BigInt(percent)) / 100n;
      return next < floorWad ? floorWad : next > ceilingWad ? ceilingWad : next;
    };
    world.setPrice('ETH', scaled('ETH', move.ethPct, WAD, 1_000_000n * WAD));
    world.setPrice('BTC', scaled('BTC', move.btcPct, WAD, 10_000_000n * WAD));
    world.setPrice('DAI', scaled('DAI', move.daiPct, WAD / 2n, 2n * WAD));
    bidOnAuctions(world, random);
    for (let round = 0; round < 3; round++) {
      const order = [...world.users].sort(() => random() - 0.5);
      for (const user of order) {
        const useBackstop = random() < 0.35;
        const liquidator = useBackstop ? SYSTEM.backstop : KEEPERS[random() < 0.5 ? 0 : 1];
        const limit = !useBackstop && random() < 0.2 ? BigInt(100 + Math.floor(random() * 20_000)) * WAD : undefined;
        liquidateAndCheck(world, user, liquidator, limit);
      }
      world.nowMs += 1000;
    }
  }
}

describe('liquidation properties (real Ledger, random populations and price paths)', () => {
  it(`every liquidation is of a liquidatable account, reaches the target or says why, minimal, fair and conserving (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(runArbitrary, (input) => playRun(input)),
      { numRuns: RUNS, endOnFailure: process.env.LIQUIDATION_PROPERTY_SHRINK !== "1", ...(SEED !== undefined && { seed: SEED }), ...(process.env.LIQUIDATION_PROPERTY_PATH !== undefined && { path: process.env.LIQUIDATION_PROPERTY_PATH }) },
    );
    console.log(`liquidation property: ${JSON.stringify(STATS)}`);
    // The runs must have exercised the paths the properties are about.
    expect(STATS.liquidations).toBeGreaterThan(RUNS);
    expect(STATS.minimalChecked).toBeGreaterThanOrEqual(10);
    expect(STATS.bankrupt).toBeGreaterThan(0);
    for (const kind of ['perp', 'swap', 'insurance', 'socialize', 'deleverage', 'auction']) {
      expect(STATS.steps[kind] ?? 0, `no ${kind} step in any run`).toBeGreaterThan(0);
    }
    expect(STATS.refusals['NOT_LIQUIDATABLE'] ?? 0).toBeGreaterThan(0);
  });

  it('a liquidation that takes all the collateral leaves no unrecorded debt behind', () => {
    // Found by the property above (which records it and checks everything else). Hand-shrunk
    // in src/core/ledger/liquidate.test.ts ("BUG: … crumb …"): the swap that takes "all" the
    // collateral leaves a crumb worth less than one base unit of the debt; planner.coverBadDebt
    // skips any account that still holds seizable collateral, so the debt left over is neither
    // covered nor socialised, the account ends below target, not marked bankrupt, nothing
    // recorded. Runs after the property (vitest runs a file's tests in order).
    expect(KNOWN.crumbs.length, `${KNOWN.crumbs.length} cases; first:\n${KNOWN.crumbs[0] ?? ''}`).toBe(0);
  });

  it('a liquidation that misses its target because a cascade window is full says so in its events', () => {
    // Found by the property above; hand-shrunk in src/core/ledger/liquidate.test.ts ("BUG: a
    // perp reduction the cascade window does not allow …"). A market or collateral asset
    // whose window has no room is skipped without a step, so the events show no CASCADE_CAP
    // and the explanation gives no reason for "target not yet reached".
    expect(KNOWN.silentCaps.length, `${KNOWN.silentCaps.length} cases; first:\n${KNOWN.silentCaps[0] ?? ''}`).toBe(0);
  });

  it('socialised bad debt is borne in full by the lenders of the asset', () => {
    // Found by hand and confirmed by the property above; shrunk in
    // src/core/ledger/liquidate.test.ts ("BUG: socialised bad debt is taken from lenders in
    // full when the liquidator is itself a lender"). The haircut index is computed from the
    // deposit totals before the liquidation, so when the liquidator repays with deposits of
    // the written-off asset the lenders lose less than the write-off, and system:interest is
    // left with the difference forever.
    expect(KNOWN.haircuts.length, `${KNOWN.haircuts.length} cases; first:\n${KNOWN.haircuts[0] ?? ''}`).toBe(0);
  });

  it('a healthy account is never liquidated: NOT_LIQUIDATABLE, and nothing changes', () => {
    fc.assert(
      fc.property(paramsArbitrary, userArbitrary, fc.integer({ min: 50, max: 100 }), (params, spec, movePercent) => {
        const world = buildWorld({ params, users: [spec], path: [], seed: 1 });
        // A small move down that keeps the account healthy at maintenance, if any.
        world.setPrice('ETH', (START_PRICES['ETH']! * BigInt(movePercent)) / 100n);
        const id = world.users[0]!;
        fc.pre(!world.health(id).liquidatable);
        const hash = world.ledger.stateHash();
        for (const liquidator of [KEEPERS[0], SYSTEM.backstop]) {
          const result = world.run({ kind: 'liquidate', idempotencyKey: key(), account: id, liquidator, nowMs: world.nowMs });
          expect(result.ok ? 'accepted' : result.error.code).toBe('NOT_LIQUIDATABLE');
        }
        expect(world.ledger.stateHash()).toBe(hash);
      }),
      { numRuns: 100 },
    );
  });
});
