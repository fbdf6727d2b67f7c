/**
 * Property tests of the risk monitor (src/monitor):
 *
 *  1. The screen never misses: over random configurations, portfolios (with interest
 *     indexes and pending funding), price books and moves — ±90 %, prices of a few wei,
 *     interest indexes up and down — every threshold the float screen calls certain is what
 *     the core's exact evaluation says, so the screened set of a healthy account contains
 *     every account that is exactly liquidatable or in warning.
 *  2. The incremental path is exact and a full sweep agrees with it: random command streams
 *     through a real Ledger (deposits, borrows, trades, price moves, interest, funding,
 *     liquidations, configuration changes), `onEvents` after each; after every step the
 *     monitor's counts, lists and statuses equal an exact evaluation of every account, and at
 *     the end a sweep on worker threads changes nothing.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { RiskConfig } from '../src/core/config.ts';
import { WAD } from '../src/core/fixed.ts';
import { evaluateAccount } from '../src/core/health.ts';
import type { Command } from '../src/core/ledger/commands.ts';
import { Ledger } from '../src/core/ledger/ledger.ts';
import {
  accountView,
  createLedgerState,
  initialAssetState,
  isSystemAccount,
  SYSTEM,
  type AccountRecord,
  type LedgerState,
} from '../src/core/ledger/state.ts';
import { withPrice, type Price } from '../src/core/prices.ts';
import { LEVEL_NONE, relevantBits } from '../src/monitor/alerts.ts';
import { RiskMonitor, type AccountStatus } from '../src/monitor/monitor.ts';
import { RiskIndex, screenAgrees, UNCERTAIN_SHIFT } from '../src/monitor/risk-index.ts';
import { SweepPool } from '../src/monitor/sweep-pool.ts';
import { exactMask, LIQUIDATABLE, THRESHOLD_COUNT, thresholdsFor, WARNING } from '../src/monitor/thresholds.ts';
import { accountArb, bigIntIn, priceArb, riskConfigJsonArb, toRiskConfig, type RiskConfigJson } from './arbitraries.ts';
import { riskConfig, units, wad } from './fixtures.ts';

// ── 1. The screen never misses ───────────────────────────────────────────────────────────

/** A price move: ±90 % and everything between, none, or down to a few wei. */
const moveArb: fc.Arbitrary<(priceWad: bigint) => bigint> = fc.oneof(
  fc.constantFrom(10n, 190n, 100n).map((percent) => (priceWad: bigint) => maxOne((priceWad * percent) / 100n)),
  fc.integer({ min: 10, max: 190 }).map((percent) => (priceWad: bigint) => maxOne((priceWad * BigInt(percent)) / 100n)),
  fc.bigInt({ min: 1n, max: 1000n }).map((wei) => () => wei),
);

function maxOne(value: bigint): bigint {
  return value < 1n ? 1n : value;
}

interface Market {
  readonly prices: Map<string, Price>;
  /** Supply and borrow index per asset. */
  readonly indexes: Map<string, readonly [bigint, bigint]>;
}

function marketArb(config: RiskConfig): fc.Arbitrary<Market> {
  const ids = [...config.assets.keys()];
  const priceWithMarks = priceArb.chain((price) =>
    fc
      .record({
        mark: fc.option(fc.integer({ min: 50, max: 150 }), { nil: undefined }),
        stable: fc.option(fc.integer({ min: 50, max: 150 }), { nil: undefined }),
      })
      .map(({ mark, stable }): Price => ({
        ...price,
        ...(mark !== undefined && { markPriceWad: maxOne((price.priceWad * BigInt(mark)) / 100n) }),
        ...(stable !== undefined && { stablePriceWad: maxOne((price.priceWad * BigInt(stable)) / 100n) }),
      })),
  );
  const index = bigIntIn(WAD, 3n * WAD);
  return fc
    .tuple(fc.tuple(...ids.map(() => priceWithMarks)), fc.tuple(...ids.map(() => fc.tuple(index, index))))
    .map(([prices, indexes]) => ({
      prices: new Map(ids.map((id, at) => [id, prices[at]!])),
      indexes: new Map(ids.map((id, at) => [id, indexes[at]!])),
    }));
}

/** The market after a move of every price (and mark) and of the interest indexes, down as well as up. */
function movedArb(market: Market): fc.Arbitrary<Market> {
  const ids = [...market.prices.keys()];
  const indexFactor = fc.integer({ min: 50, max: 300 });
  return fc
    .tuple(fc.tuple(...ids.map(() => fc.tuple(moveArb, fc.option(moveArb, { nil: undefined })))), fc.tuple(...ids.map(() => fc.tuple(indexFactor, indexFactor))))
    .map(([moves, factors]) => {
      const prices = new Map<string, Price>();
      const indexes = new Map<string, readonly [bigint, bigint]>();
      ids.forEach((id, at) => {
        const price = market.prices.get(id)!;
        const [move, markMove] = moves[at]!;
        const priceWad = move(price.priceWad);
        const confidenceWad = (price.confidenceWad * priceWad) / price.priceWad;
        const markPriceWad = price.markPriceWad === undefined ? undefined : (markMove ?? move)(price.markPriceWad);
        prices.set(id, { priceWad, confidenceWad, ...(markPriceWad !== undefined && { markPriceWad }) });
        const [supply, borrow] = market.indexes.get(id)!;
        const [supplyFactor, borrowFactor] = factors[at]!;
        indexes.set(id, [maxOne((supply * BigInt(supplyFactor)) / 100n), maxOne((borrow * BigInt(borrowFactor)) / 100n)]);
      });
      return { prices, indexes };
    });
}

/** Records settled at random past indexes, positions at random funding indexes (pending funding). */
function recordsArb(config: RiskConfig): fc.Arbitrary<AccountRecord[]> {
  const settledIndex = bigIntIn(WAD / 2n, 3n * WAD);
  const fundingIndex = fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n });
  const one = (n: number) =>
    fc
      .tuple(accountArb(config, `acct-${n}`), fc.array(settledIndex, { minLength: 8, maxLength: 8 }), fc.array(fundingIndex, { minLength: 4, maxLength: 4 }))
      .map(([account, indexes, fundings]): AccountRecord => ({
        id: account.id,
        owner: account.id,
        balances: new Map([...account.balances].map(([asset, amount], at) => [asset, { amount, indexWad: indexes[at % indexes.length]! }])),
        perps: new Map([...account.perps].map(([market, position], at) => [market, { ...position, fundingIndexWad: fundings[at % fundings.length]! }])),
      }));
  return fc.tuple(...[0, 1, 2, 3, 4, 5].map(one));
}

interface ScreenWorld {
  readonly json: RiskConfigJson;
  readonly config: RiskConfig;
  readonly records: readonly AccountRecord[];
  readonly before: Market;
  readonly after: Market;
  readonly marketFunding: readonly bigint[];
  readonly bandWad: bigint;
}

const screenWorldArb: fc.Arbitrary<ScreenWorld> = riskConfigJsonArb.chain((json) => {
  const config = toRiskConfig(json);
  return marketArb(config).chain((before) =>
    fc.record({
      json: fc.constant(json),
      config: fc.constant(config),
      records: recordsArb(config),
      before: fc.constant(before),
      after: movedArb(before),
      marketFunding: fc.array(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), { minLength: 2, maxLength: 2 }),
      bandWad: fc.oneof(fc.constant(0n), bigIntIn(1n, WAD / 5n)),
    }),
  );
});

function applyMarket(state: LedgerState, market: Market): void {
  state.prices = new Map(market.prices);
  for (const [asset, [supplyIndexWad, borrowIndexWad]] of market.indexes) {
    state.assets.set(asset, { ...initialAssetState(), supplyIndexWad, borrowIndexWad });
  }
}

/** Every certain answer of the screen is the exact one; returns how many answers were certain. */
function checkScreen(index: RiskIndex, state: LedgerState, records: readonly AccountRecord[], bandWad: bigint): number {
  const thresholds = thresholdsFor(state.config, bandWad);
  let certain = 0;
  for (const record of records) {
    const slot = index.slotOf(record.id)!;
    const result = index.screen(slot);
    const health = evaluateAccount(accountView(state, record), state.prices, state.config);
    if (!health.ok) throw new Error(`test: ${record.id} cannot be valued: ${health.error.code}`);
    const mask = exactMask(health.value.maintenance, thresholds);
    for (let bit = 0; bit < THRESHOLD_COUNT; bit++) {
      const below = ((result >> bit) & 1) === 1;
      const uncertain = ((result >> (UNCERTAIN_SHIFT + bit)) & 1) === 1;
      const exact = ((mask >> bit) & 1) === 1;
      if (!uncertain) {
        certain += 1;
        expect(below, `${record.id} threshold ${bit}: screen ${result.toString(2)}, exact mask ${mask.toString(2)}`).toBe(exact);
      }
    }
    // No false negatives: an account stored healthy is a candidate whenever it is exactly flagged.
    if ((mask & (LIQUIDATABLE | WARNING)) !== 0) expect(screenAgrees(result, 0, relevantBits(LEVEL_NONE))).toBe(false);
  }
  return certain;
}

describe('monitor screen: certain answers are exact (no false negatives)', () => {
  it('over random portfolios, before and after random moves down to a few wei', () => {
    let certain = 0;
    fc.assert(
      fc.property(screenWorldArb, (world) => {
        const state = createLedgerState(world.config, world.json);
        applyMarket(state, world.before);
        [...world.config.markets.keys()].forEach((market, at) => {
          state.markets.set(market, { fundingIndexWad: world.marketFunding[at] ?? 0n, openInterest: 0n });
        });
        for (const record of world.records) state.accounts.set(record.id, record);
        const index = new RiskIndex(state);
        index.setThresholds(thresholdsFor(world.config, world.bandWad));
        for (const record of world.records) index.load(record.id, record);
        certain += checkScreen(index, state, world.records, world.bandWad);
        // Prices and interest move; the index only refreshes its factors, as the monitor does.
        applyMarket(state, world.after);
        index.sync();
        certain += checkScreen(index, state, world.records, world.bandWad);
      }),
      { numRuns: 300 },
    );
    // The screen decides most thresholds by itself (it is not "always uncertain").
    expect(certain).toBeGreaterThan(300 * 2 * 6 * THRESHOLD_COUNT * 0.5);
  });
});

/**
 * Prices of `asset` at which some threshold bit of the account's exact mask flips: both
 * sides of each flip (one wei apart), found by bisection on exact evaluations.
 */
function knifeEdges(state: LedgerState, record: AccountRecord, asset: string, bandWad: bigint): bigint[] {
  const thresholds = thresholdsFor(state.config, bandWad);
  const account = accountView(state, record);
  const maskAt = (priceWad: bigint): number => {
    const health = evaluateAccount(account, withPrice(state.prices, asset, priceWad), state.config);
    if (!health.ok) throw new Error(`test: ${record.id} cannot be valued: ${health.error.code}`);
    return exactMask(health.value.maintenance, thresholds);
  };
  const current = state.prices.get(asset)!.priceWad;
  const currentMask = maskAt(current);
  const edges: bigint[] = [];
  for (let bit = 0; bit < THRESHOLD_COUNT; bit++) {
    const side = (priceWad: bigint): number => (maskAt(priceWad) >> bit) & 1;
    const here = (currentMask >> bit) & 1;
    for (const far of [1n, current * 1024n]) {
      if (far === current || side(far) === here) continue;
      let near = current;
      let away = far;
      while (near - away > 1n || away - near > 1n) {
        const middle = (near + away) / 2n;
        if (side(middle) === here) near = middle;
        else away = middle;
      }
      edges.push(near, away);
    }
  }
  return edges;
}

describe('monitor screen: at the exact prices where a zone flips', () => {
  it('certain answers stay exact one wei either side of every threshold crossing', () => {
    let edgesChecked = 0;
    fc.assert(
      fc.property(screenWorldArb, fc.nat(), fc.nat(), (world, pickAccount, pickAsset) => {
        const state = createLedgerState(world.config, world.json);
        applyMarket(state, world.before);
        [...world.config.markets.keys()].forEach((market, at) => {
          state.markets.set(market, { fundingIndexWad: world.marketFunding[at] ?? 0n, openInterest: 0n });
        });
        for (const record of world.records) state.accounts.set(record.id, record);
        const index = new RiskIndex(state);
        index.setThresholds(thresholdsFor(world.config, world.bandWad));
        for (const record of world.records) index.load(record.id, record);
        const candidates = world.records.filter((record) => record.balances.size + record.perps.size > 0);
        if (candidates.length === 0) return;
        const record = candidates[pickAccount % candidates.length]!;
        const exposed = [...new Set([...record.balances.keys(), ...[...record.perps.values()].map((position) => world.config.markets.get(position.market)!.base)])];
        const asset = exposed[pickAsset % exposed.length]!;
        const start = state.prices;
        for (const edge of knifeEdges(state, record, asset, world.bandWad)) {
          state.prices = new Map(withPrice(start, asset, edge));
          index.sync();
          checkScreen(index, state, [record], world.bandWad);
          edgesChecked += 1;
        }
      }),
      { numRuns: 300 },
    );
    expect(edgesChecked).toBeGreaterThan(100);
  });
});

// ── 2. Incremental path vs exact evaluation vs full sweep ──────────────────────────────────

const RISK_JSON = {
  quote: 'USDC',
  warningRatio: '1.1',
  assets: [
    {
      id: 'USDC',
      decimals: 6,
      collateral: { initialWeight: '0.95', maintenanceWeight: '0.98' },
      liability: { initialWeight: '1.05', maintenanceWeight: '1.02' },
      interest: { baseRate: '0.02', optimalUtilization: '0.8', slopeBelow: '0.1', slopeAbove: '2', reserveFactor: '0.1' },
    },
    {
      id: 'ETH',
      decimals: 18,
      collateral: { initialWeight: '0.80', maintenanceWeight: '0.85' },
      liability: { initialWeight: '1.10', maintenanceWeight: '1.05' },
      interest: { baseRate: '0.01', optimalUtilization: '0.5', slopeBelow: '0.1', slopeAbove: '3', reserveFactor: '0.1' },
    },
    {
      id: 'BTC',
      decimals: 8,
      collateral: { initialWeight: '0.75', maintenanceWeight: '0.80' },
      liability: { initialWeight: '1.15', maintenanceWeight: '1.10' },
    },
    { id: 'GOV', decimals: 18, liability: { initialWeight: '1.20', maintenanceWeight: '1.10' } },
    { id: 'SOL', decimals: 9, collateral: { initialWeight: '0', maintenanceWeight: '0.5' } },
  ],
  markets: [
    {
      id: 'ETH-PERP',
      base: 'ETH',
      initialMarginFraction: '0.10',
      maintenanceMarginFraction: '0.05',
      sizeScalingFactor: '0.0002',
      positivePnlWeight: { initial: '0.8', maintenance: '0.9' },
    },
    { id: 'BTC-PERP', base: 'BTC', initialMarginFraction: '0.10', maintenanceMarginFraction: '0.05' },
  ],
};
const CONFIG = riskConfig(RISK_JSON);
const ASSETS = ['USDC', 'ETH', 'BTC', 'GOV', 'SOL'] as const;
const START_PRICES: Record<(typeof ASSETS)[number], string> = { USDC: '1', ETH: '3000', BTC: '60000', GOV: '10', SOL: '150' };
const TYPICAL: Record<(typeof ASSETS)[number], string> = { USDC: '1000', ETH: '0.5', BTC: '0.02', GOV: '50', SOL: '5' };
const MARKETS = [
  { id: 'ETH-PERP', base: 'ETH' as const },
  { id: 'BTC-PERP', base: 'BTC' as const },
];
const USERS = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
const START_MS = 1_700_000_000_000;

type Op =
  | { readonly op: 'deposit' | 'withdraw'; readonly user: number; readonly asset: number; readonly permille: number }
  | { readonly op: 'trade'; readonly market: number; readonly buyer: number; readonly seller: number; readonly permille: number; readonly offsetBps: number }
  | { readonly op: 'price'; readonly asset: number; readonly percent: number; readonly confidenceBps: number }
  | { readonly op: 'accrue'; readonly hours: number }
  | { readonly op: 'funding'; readonly market: number; readonly rateMicro: number }
  | { readonly op: 'liquidate'; readonly user: number }
  | { readonly op: 'config'; readonly warningRatio: string };

const user = fc.integer({ min: 0, max: USERS.length - 1 });
const asset = fc.integer({ min: 0, max: ASSETS.length - 1 });
const permille = fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 50_000 }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('deposit' as const), user, asset, permille }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('withdraw' as const), user, asset, permille }) },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('trade' as const),
      market: fc.integer({ min: 0, max: MARKETS.length - 1 }),
      buyer: user,
      seller: user,
      permille,
      offsetBps: fc.integer({ min: -500, max: 500 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('price' as const),
      asset,
      percent: fc.oneof(fc.integer({ min: 95, max: 105 }), fc.constantFrom(10, 50, 80, 120, 190), fc.integer({ min: 10, max: 190 })),
      confidenceBps: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('accrue' as const), hours: fc.constantFrom(1, 24, 24 * 30, 24 * 365) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('funding' as const),
      market: fc.integer({ min: 0, max: MARKETS.length - 1 }),
      rateMicro: fc.integer({ min: -20_000, max: 20_000 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('liquidate' as const), user }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('config' as const), warningRatio: fc.constantFrom('1', '1.05', '1.1', '1.3', '2') }) },
);

class Stream {
  private key = 0;
  private nowMs = START_MS;
  readonly prices = new Map<string, bigint>(ASSETS.map((id) => [id, wad(START_PRICES[id])]));

  /** The command of an intent; a liquidation targets one of `liquidatable` when there is one. */
  command(op: Op, liquidatable: readonly string[]): Command {
    const key = `k${this.key++}`;
    switch (op.op) {
      case 'deposit':
      case 'withdraw': {
        const id = ASSETS[op.asset]!;
        const amount = (units(TYPICAL[id], CONFIG.assets.get(id)!.decimals) * BigInt(op.permille)) / 1000n + 1n;
        return { kind: op.op, idempotencyKey: key, account: USERS[op.user]!, asset: id, amount };
      }
      case 'trade': {
        const market = MARKETS[op.market]!;
        const size = (units(TYPICAL[market.base], CONFIG.assets.get(market.base)!.decimals) * BigInt(op.permille)) / 1000n + 1n;
        const priceWad = (this.prices.get(market.base)! * BigInt(10_000 + op.offsetBps)) / 10_000n;
        return {
          kind: 'trade',
          idempotencyKey: key,
          market: market.id,
          priceWad,
          size,
          buyer: USERS[op.buyer]!,
          seller: USERS[op.seller]!,
          buyerFeeRateWad: 0n,
          sellerFeeRateWad: 0n,
        };
      }
      case 'price': {
        const id = ASSETS[op.asset]!;
        const priceWad = maxOne((this.prices.get(id)! * BigInt(op.percent)) / 100n);
        this.prices.set(id, priceWad);
        return { kind: 'price', idempotencyKey: key, asset: id, priceWad, confidenceWad: (priceWad * BigInt(op.confidenceBps)) / 10_000n };
      }
      case 'accrue':
        this.nowMs += op.hours * 3_600_000;
        return { kind: 'accrueInterest', idempotencyKey: key, nowMs: this.nowMs };
      case 'funding':
        return { kind: 'funding', idempotencyKey: key, market: MARKETS[op.market]!.id, rateWad: BigInt(op.rateMicro) * 10n ** 12n };
      case 'liquidate': {
        const account = liquidatable.length > 0 ? liquidatable[op.user % liquidatable.length]! : USERS[op.user]!;
        return { kind: 'liquidate', idempotencyKey: key, account, liquidator: SYSTEM.backstop, nowMs: this.nowMs };
      }
      case 'config':
        return { kind: 'config', idempotencyKey: key, config: { ...RISK_JSON, warningRatio: op.warningRatio } };
    }
  }
}

/** The monitor's view equals an exact evaluation of every account. */
function checkAgainstExact(monitor: RiskMonitor, ledger: Ledger): void {
  const state = ledger.state;
  const liquidatable: string[] = [];
  const warning: string[] = [];
  let valued = 0;
  for (const [id, record] of state.accounts) {
    if (isSystemAccount(id)) continue;
    const health = evaluateAccount(accountView(state, record), state.prices, state.config);
    if (!health.ok) continue;
    valued += 1;
    if (health.value.liquidatable) liquidatable.push(id);
    if (health.value.warning) warning.push(id);
    const status = monitor.status(id);
    expect(status).toEqual({
      account: id,
      initialHealthUsd: health.value.initial.healthUsd,
      maintenanceHealthUsd: health.value.maintenance.healthUsd,
      maintenanceRatioWad: health.value.maintenance.ratioWad,
      maintenanceAssetsUsd: health.value.maintenance.assetsUsd,
      maintenanceLiabilitiesUsd: health.value.maintenance.liabilitiesUsd,
      warning: health.value.warning,
      liquidatable: health.value.liquidatable,
    } satisfies AccountStatus);
  }
  expect(monitor.counts()).toEqual({
    accounts: valued,
    liquidatable: liquidatable.length,
    warning: warning.length - liquidatable.length,
  });
  const ids = (rows: readonly AccountStatus[]): string[] => rows.map((row) => row.account).sort();
  expect(ids(monitor.list('liquidatable', 100))).toEqual(liquidatable.sort());
  expect(ids(monitor.list('warning', 100))).toEqual(warning.sort());
}

describe('monitor: incremental path, exact evaluation and full sweep agree', () => {
  const pool = new SweepPool();
  afterAll(async () => {
    await pool.close();
  });

  it('after every command of random streams through a real ledger', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 40, maxLength: 90 }), (ops) => {
        const ledger = Ledger.create(CONFIG, RISK_JSON);
        const monitor = new RiskMonitor(ledger, { sweepPool: pool, sweepWorkers: 1 });
        const stream = new Stream();
        const run = (command: Command): void => {
          const outcome = ledger.execute(command);
          if (outcome.ok) monitor.onEvents(outcome.value.events);
        };
        for (const id of ASSETS) run({ kind: 'price', idempotencyKey: `start:${id}`, asset: id, priceWad: stream.prices.get(id)!, confidenceWad: 0n });
        for (const id of USERS) run({ kind: 'deposit', idempotencyKey: `start:${id}`, account: id, asset: 'USDC', amount: units('5000', 6) });
        for (const op of ops) {
          run(stream.command(op, monitor.list('liquidatable', USERS.length).map((status) => status.account)));
          checkAgainstExact(monitor, ledger);
        }
        expect(monitor.sweep(1)).toEqual([]);
        expect(monitor.lastSweep?.mismatches).toBe(0);
        checkAgainstExact(monitor, ledger);
      }),
      { numRuns: 40 },
    );
  });
});
