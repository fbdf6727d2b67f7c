/**
 * Crisis test: Black Thursday (12–13 March 2020: ETH −56 %, BTC −52 % in 26 hours) played
 * through the real Ledger against a few hundred seeded accounts.
 *
 * Price path: /work/shared/scenarios/black-thursday-2020.json (copied into the repository as
 * src/sim/scenarios/black-thursday-2020.json), played by src/oracle/feeds/playback.ts as the
 * scenarios README says: four ticks per candle (open, the extreme first reached, the other,
 * close; a falling candle plays high before low), series merged on one clock, each holding
 * its last price. Every tick is a `price` command.
 *
 * Population (own seeded PRNG, no Math.random): ETH vaults, BTC vaults, mixed ETH/BTC/DAI
 * vaults, all borrowing USDC at 30–98 % of their initial borrowing power; perp traders on
 * ETH-PERP and BTC-PERP (mostly long, at up to 10× against USDC) facing two market makers;
 * USDC lenders. BTC collateral is sold by Dutch auction (exponential curve), ETH at a fixed
 * discount. The insurance fund and the backstop are funded by deposits; three keepers bid on
 * auctions, except in the hours Maker's keepers went missing (12 March 10:00–13:00 UTC).
 * Debts are USDC only: a DAI or ETH debt against BTC or USDC collateral hangs the planner
 * (see the BUG test in src/core/ledger/liquidate.test.ts).
 *
 * At each frame of the merged clock: price commands, keeper bids (and resets of stale
 * auctions), then every liquidatable account is liquidated, by the backstop first and by the
 * keepers when the backstop lacks margin, again and again until it is healthy, refused, or
 * 20 rounds have passed. Checked, not against magic numbers but against the invariants:
 *  - conservation (checkInvariants) after every liquidation, bid and reset, and the ledger
 *    never halts; the engine never throws;
 *  - no healthy account is liquidated: only liquidatable accounts are submitted, each accepted
 *    liquidation is checked to have been of a liquidatable account, and at every frame a
 *    sample of healthy accounts is submitted too and must be refused NOT_LIQUIDATABLE;
 *  - at the end of every frame each account still liquidatable is explained: an auction in
 *    progress, LIQUIDATION_CAPPED, or a cap rule (MAX_SHARE_CAP, CASCADE_CAP) on the last step;
 *  - the insurance fund moves, per asset, by exactly Σ penalty shares in − Σ InsuranceCovered
 *    over the whole crisis; it never goes negative;
 *  - bad debt covered + socialised adds up to the badDebtUsd of the LiquidationCompleted events.
 * A summary is printed (console.log).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRiskConfig, type RiskConfig } from '../src/core/config.ts';
import { formatDecimal, WAD } from '../src/core/fixed.ts';
import { evaluateAccount, type AccountHealth } from '../src/core/health.ts';
import type { Command } from '../src/core/ledger/commands.ts';
import type { LedgerEvent, LiquidationCompleted, LiquidationStepEventType } from '../src/core/ledger/events.ts';
import { checkInvariants } from '../src/core/ledger/invariants.ts';
import { Ledger, type Outcome } from '../src/core/ledger/ledger.ts';
import type { Rejection } from '../src/core/ledger/rejections.ts';
import { accountView, SYSTEM, type LedgerState } from '../src/core/ledger/state.ts';
import { auctionPrice } from '../src/core/liquidation/auction.ts';
import type { Result } from '../src/core/result.ts';
import { parseScenario, scenarioFrames, type ScenarioFrame } from '../src/oracle/feeds/playback.ts';

const SCENARIO_PATH = '/work/shared/scenarios/black-thursday-2020.json';
const ACCOUNTS = 300;
const SEED = 20200312;
const ROUNDS_MAX = 20;
/** Maker's keepers went missing in the worst hours (12 March 2020, UTC). */
const KEEPERS_ABSENT = { fromMs: Date.parse('2020-03-12T10:00:00Z'), toMs: Date.parse('2020-03-12T13:00:00Z') };

const CRISIS_RISK_JSON = {
  quote: 'USDC',
  liquidation: {
    insuranceShare: '0.5',
    dustUsd: '10',
    maxShare: '0.5',
    windowMs: 3_600_000,
    notionalCapPerWindowUsd: '1500000',
  },
  assets: [
    { id: 'USDC', decimals: 6, collateral: { initialWeight: '1', maintenanceWeight: '1' }, liability: { initialWeight: '1', maintenanceWeight: '1' } },
    { id: 'DAI', decimals: 18, collateral: { initialWeight: '0.85', maintenanceWeight: '0.9' }, liquidationPenalty: '0.03' },
    { id: 'ETH', decimals: 18, collateral: { initialWeight: '0.7', maintenanceWeight: '0.8' }, liquidationPenalty: '0.08' },
    {
      id: 'BTC',
      decimals: 8,
      collateral: { initialWeight: '0.7', maintenanceWeight: '0.8' },
      liquidationPenalty: '0.08',
      auction: {
        startFactor: '1.2',
        curve: 'exponential',
        stepMs: 90_000,
        stepFactor: '0.99',
        floorFactor: '0.5',
        resetAfterMs: 7_200_000,
        resetBelowFactor: '0.6',
      },
    },
  ],
  markets: [
    { id: 'ETH-PERP', base: 'ETH', initialMarginFraction: '0.1', maintenanceMarginFraction: '0.05', liquidationFee: '0.015' },
    { id: 'BTC-PERP', base: 'BTC', initialMarginFraction: '0.1', maintenanceMarginFraction: '0.05', liquidationFee: '0.015' },
  ],
};

const KEEPERS = ['keeper-1', 'keeper-2', 'keeper-3'] as const;
const MARKET_MAKERS = ['mm-1', 'mm-2'] as const;
const INSURANCE_USDC = 500_000n;
const CAP_RULES = new Set(['MAX_SHARE_CAP', 'CASCADE_CAP', 'KEEPER_LIMIT']);

/** mulberry32: a small seeded PRNG, floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function usd(valueWad: bigint): string {
  const cents = valueWad / 10n ** 16n;
  const sign = cents < 0n ? '-' : '';
  const magnitude = cents < 0n ? -cents : cents;
  return `${sign}${(magnitude / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${(magnitude % 100n).toString().padStart(2, '0')}`;
}

interface Summary {
  liquidations: number;
  bankruptcies: number;
  steps: Record<string, number>;
  refusals: Record<string, number>;
  penaltiesUsd: bigint;
  badDebtUsd: bigint;
  coveredByFund: Map<string, bigint>;
  socialised: Map<string, bigint>;
  deleveragedPositions: number;
  auctionsStarted: number;
  auctionTakes: number;
  auctionResets: number;
  auctionsEnded: number;
  healthyProbes: number;
  fundMinUsd: bigint;
  unexplained: string[];
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

function add(map: Map<string, bigint>, key: string, amount: bigint): void {
  map.set(key, (map.get(key) ?? 0n) + amount);
}

class Crisis {
  readonly ledger: Ledger;
  readonly config: RiskConfig;
  readonly users: string[] = [];
  readonly random = mulberry32(SEED);
  nowMs = 0;
  private keyCounter = 0;
  /** Σ penalty shares in − Σ covered, per asset, from the events: what the fund must hold on top of its start. */
  readonly fundFlows = new Map<string, bigint>();
  readonly summary: Summary = {
    liquidations: 0,
    bankruptcies: 0,
    steps: {},
    refusals: {},
    penaltiesUsd: 0n,
    badDebtUsd: 0n,
    coveredByFund: new Map(),
    socialised: new Map(),
    deleveragedPositions: 0,
    auctionsStarted: 0,
    auctionTakes: 0,
    auctionResets: 0,
    auctionsEnded: 0,
    healthyProbes: 0,
    fundMinUsd: 0n,
    unexplained: [],
  };

  constructor() {
    const parsed = parseRiskConfig(CRISIS_RISK_JSON);
    if (!parsed.ok) throw new Error(`crisis config: ${JSON.stringify(parsed.error)}`);
    this.config = parsed.value;
    this.ledger = Ledger.create(parsed.value, CRISIS_RISK_JSON);
  }

  get state(): LedgerState {
    return this.ledger.state;
  }

  key(kind: string): string {
    this.keyCounter += 1;
    return `crisis-${kind}-${this.keyCounter}`;
  }

  unit(asset: string): bigint {
    return this.config.assets.get(asset)!.unit;
  }

  /** Executes a command; the engine must never throw, and the ledger must never halt. */
  run(command: Command): Result<Outcome, Rejection> {
    let result: Result<Outcome, Rejection>;
    try {
      result = this.ledger.execute(command);
    } catch (error) {
      throw new Error(`${command.kind} ${JSON.stringify(command, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))} threw: ${String(error)}`);
    }
    expect(this.state.halted).toBeNull();
    return result;
  }

  must(command: Command): Outcome {
    const result = this.run(command);
    if (!result.ok) throw new Error(`setup ${command.kind} refused: ${result.error.code}`);
    return result.value;
  }

  price(asset: string, priceWad: bigint): void {
    this.must({ kind: 'price', idempotencyKey: this.key('price'), asset, priceWad, confidenceWad: 0n });
  }

  deposit(account: string, asset: string, amount: bigint): void {
    if (amount > 0n) this.must({ kind: 'deposit', idempotencyKey: this.key('deposit'), account, asset, amount });
  }

  health(id: string): AccountHealth {
    const health = evaluateAccount(accountView(this.state, this.state.accounts.get(id)!), this.state.prices, this.config);
    if (!health.ok) throw new Error(`cannot value ${id}: ${health.error.code}`);
    return health.value;
  }

  /** `units` whole units with `fractionDigits` random digits, as base units of `asset`. */
  amount(asset: string, min: number, max: number): bigint {
    const wholeMilli = BigInt(Math.floor((min + (max - min) * this.random()) * 1000));
    return (wholeMilli * this.unit(asset)) / 1000n;
  }

  /** Borrows `share` of the account's initial borrowing power in USDC (halving on refusal). */
  borrowUsdc(id: string, share: number): void {
    const healthUsd = this.health(id).initial.healthUsd;
    let amount = (healthUsd * BigInt(Math.floor(share * 1000))) / 1000n / 10n ** 12n;
    for (let i = 0; i < 6 && amount > 0n; i++) {
      if (this.run({ kind: 'withdraw', idempotencyKey: this.key('borrow'), account: id, asset: 'USDC', amount }).ok) return;
      amount /= 2n;
    }
  }

  /** Opens a perp with `share` of the account's initial margin, against a market maker. */
  openPerp(id: string, market: 'ETH-PERP' | 'BTC-PERP', long: boolean, share: number, maker: string): void {
    const base = market === 'ETH-PERP' ? 'ETH' : 'BTC';
    const priceWad = this.state.prices.get(base)!.priceWad;
    const healthUsd = this.health(id).initial.healthUsd;
    // notional = health / 0.10 × share; size = notional / price in base units.
    let size = (healthUsd * 10n * BigInt(Math.floor(share * 1000)) * this.unit(base)) / (1000n * priceWad);
    for (let i = 0; i < 6 && size > 0n; i++) {
      const result = this.run({
        kind: 'trade',
        idempotencyKey: this.key('trade'),
        market,
        priceWad,
        size,
        buyer: long ? id : maker,
        seller: long ? maker : id,
        buyerFeeRateWad: 0n,
        sellerFeeRateWad: 0n,
      });
      if (result.ok) return;
      size /= 2n;
    }
  }

  populate(): void {
    for (const maker of MARKET_MAKERS) this.deposit(maker, 'USDC', 200_000_000n * this.unit('USDC'));
    for (const keeper of KEEPERS) this.deposit(keeper, 'USDC', 10_000_000n * this.unit('USDC'));
    this.deposit(SYSTEM.backstop, 'USDC', 30_000_000n * this.unit('USDC'));
    this.deposit(SYSTEM.insurance, 'USDC', INSURANCE_USDC * this.unit('USDC'));
    for (let index = 0; index < ACCOUNTS; index++) {
      const id = `acct-${String(index).padStart(3, '0')}`;
      const roll = this.random();
      // Borrowing shares: most between 30 % and 98 % of initial borrowing power.
      const share = 0.3 + 0.68 * this.random();
      if (roll < 0.35) {
        this.deposit(id, 'ETH', this.amount('ETH', 1, 400));
        this.borrowUsdc(id, share);
      } else if (roll < 0.55) {
        this.deposit(id, 'BTC', this.amount('BTC', 0.05, 12));
        this.borrowUsdc(id, share);
      } else if (roll < 0.65) {
        this.deposit(id, 'ETH', this.amount('ETH', 1, 100));
        this.deposit(id, 'BTC', this.amount('BTC', 0.05, 3));
        this.deposit(id, 'DAI', this.amount('DAI', 100, 50_000));
        this.borrowUsdc(id, share);
      } else if (roll < 0.92) {
        this.deposit(id, 'USDC', this.amount('USDC', 500, 150_000));
        const market = this.random() < 0.6 ? 'ETH-PERP' : 'BTC-PERP';
        const long = this.random() < 0.8;
        this.openPerp(id, market, long, 0.15 + 0.85 * this.random(), MARKET_MAKERS[index % 2]!);
        // Some traders also pledge ETH and borrow a little.
        if (this.random() < 0.3) {
          this.deposit(id, 'ETH', this.amount('ETH', 1, 50));
          this.borrowUsdc(id, 0.3 * this.random());
        }
      } else {
        this.deposit(id, 'USDC', this.amount('USDC', 10_000, 2_000_000));
      }
      this.users.push(id);
    }
    expect(checkInvariants(this.state)).toEqual([]);
  }

  /** The fund's holdings valued at current prices, USD wad. */
  fundUsd(): bigint {
    let total = 0n;
    for (const [asset, balance] of this.state.accounts.get(SYSTEM.insurance)!.balances) {
      const price = this.state.prices.get(asset)?.priceWad ?? 0n;
      total += (balance.amount * price) / this.unit(asset);
    }
    return total;
  }

  /** Records a liquidation's events: counts, penalties, bad debt, fund flows. */
  record(events: readonly LedgerEvent[]): { steps: LiquidationStepEventType[]; completed: LiquidationCompleted } {
    const steps = events.filter((event): event is LiquidationStepEventType => 'step' in event);
    const completed = events.find((event): event is LiquidationCompleted => event.type === 'LiquidationCompleted');
    if (completed === undefined) throw new Error('no LiquidationCompleted');
    this.summary.liquidations += 1;
    if (completed.bankrupt) this.summary.bankruptcies += 1;
    this.summary.penaltiesUsd += completed.penaltiesUsd;
    this.summary.badDebtUsd += completed.badDebtUsd;
    let badDebtFromSteps = 0n;
    for (const { step } of steps) {
      bump(this.summary.steps, step.kind);
      switch (step.kind) {
        case 'perp':
          add(this.fundFlows, this.config.quote, step.toInsurance);
          break;
        case 'swap':
          add(this.fundFlows, step.collateralAsset, step.toInsurance);
          break;
        case 'insurance':
          add(this.fundFlows, step.asset, -step.amount);
          add(this.summary.coveredByFund, step.asset, step.amount);
          badDebtFromSteps += (step.amount * this.state.prices.get(step.asset)!.priceWad) / this.unit(step.asset);
          break;
        case 'socialize':
          add(this.summary.socialised, step.asset, step.amount);
          badDebtFromSteps += (step.amount * this.state.prices.get(step.asset)!.priceWad) / this.unit(step.asset);
          break;
        case 'deleverage':
          this.summary.deleveragedPositions += 1;
          break;
        case 'auction':
          this.summary.auctionsStarted += 1;
          break;
      }
    }
    // Bad debt: the event's total is the covered and socialised steps valued at the prices used.
    expect(completed.badDebtUsd).toBe(badDebtFromSteps);
    return { steps, completed };
  }

  /** Keepers bid on auctions priced at or below the oracle; stale auctions are reset. */
  auctionRound(keepersPresent: boolean): void {
    for (const auction of [...this.state.auctions.values()]) {
      const config = this.config.assets.get(auction.collateralAsset)!.auction!;
      const oracle = this.state.prices.get(auction.collateralAsset)!.priceWad;
      const askWad = auctionPrice(config, auction, this.nowMs);
      if (keepersPresent && askWad <= oracle) {
        const keeper = KEEPERS[Math.floor(this.random() * KEEPERS.length)]!;
        const result = this.run({
          kind: 'bid',
          idempotencyKey: this.key('bid'),
          auctionId: auction.id,
          taker: keeper,
          amount: auction.lot,
          maxPriceWad: askWad,
          nowMs: this.nowMs,
        });
        expect(checkInvariants(this.state)).toEqual([]);
        if (result.ok) {
          for (const { event } of result.value.events) {
            if (event.type === 'AuctionTaken') {
              this.summary.auctionTakes += 1;
              expect(event.cost).toBeGreaterThan(0n);
              expect(event.repaid + event.toInsurance).toBe(event.cost);
              add(this.fundFlows, event.debtAsset, event.toInsurance);
            }
            if (event.type === 'AuctionEnded') this.summary.auctionsEnded += 1;
          }
          continue;
        }
        bump(this.summary.refusals, `bid:${result.error.code}`);
        if (result.error.code !== 'AUCTION_STALE') continue;
      }
      // Anyone may reset a stale auction (the keepers' bots, or the venue's own).
      const reset = this.run({ kind: 'resetAuction', idempotencyKey: this.key('reset'), auctionId: auction.id, nowMs: this.nowMs });
      if (reset.ok) this.summary.auctionResets += 1;
      else expect(reset.error.code).toBe('AUCTION_NOT_STALE');
      expect(checkInvariants(this.state)).toEqual([]);
    }
  }

  /**
   * Liquidates `id` until it is healthy or refused: the backstop first, the keepers when the
   * backstop cannot meet margin. Returns why the account may still be liquidatable.
   */
  liquidate(id: string): string | null {
    let lastReason: string | null = null;
    for (let round = 0; round < ROUNDS_MAX; round++) {
      const before = this.health(id);
      if (!before.liquidatable) return null;
      let accepted = false;
      for (const liquidator of [SYSTEM.backstop, ...KEEPERS]) {
        const result = this.run({ kind: 'liquidate', idempotencyKey: this.key('liquidate'), account: id, liquidator, nowMs: this.nowMs });
        expect(checkInvariants(this.state)).toEqual([]);
        if (result.ok) {
          const { steps } = this.record(result.value.events.map((sealed) => sealed.event));
          const capRule = steps.map((event) => event.step.rule).find((rule) => CAP_RULES.has(rule));
          lastReason = capRule ?? (steps.some((event) => event.step.kind === 'auction') ? 'AUCTION' : null);
          accepted = true;
          break;
        }
        const code = result.error.code;
        bump(this.summary.refusals, code);
        expect(code, `${id} is liquidatable but was refused ${code}`).not.toBe('NOT_LIQUIDATABLE');
        if (code === 'LIQUIDATOR_INSUFFICIENT_MARGIN') continue;
        return code; // LIQUIDATION_CAPPED or AUCTION_IN_PROGRESS: explained, stop for this frame.
      }
      if (!accepted) return 'NO_LIQUIDATOR_WITH_MARGIN';
    }
    return this.health(id).liquidatable ? (lastReason ?? 'ROUNDS_EXHAUSTED') : null;
  }

  /** A healthy account submitted for liquidation must be refused and change nothing. */
  probeHealthy(): void {
    const healthy = this.users.filter((id) => !this.health(id).liquidatable);
    for (let i = 0; i < 3 && healthy.length > 0; i++) {
      const id = healthy[Math.floor(this.random() * healthy.length)]!;
      const head = this.ledger.headSeq;
      const result = this.run({ kind: 'liquidate', idempotencyKey: this.key('probe'), account: id, liquidator: SYSTEM.backstop, nowMs: this.nowMs });
      const hasAuction = [...this.state.auctions.values()].some((auction) => auction.account === id);
      expect(result.ok ? 'accepted' : result.error.code).toBe(hasAuction ? 'AUCTION_IN_PROGRESS' : 'NOT_LIQUIDATABLE');
      expect(this.ledger.headSeq).toBe(head);
      this.summary.healthyProbes += 1;
    }
  }

  frame(frame: ScenarioFrame): void {
    this.nowMs = frame.timestampMs;
    for (const tick of frame.ticks) this.price(tick.asset, tick.priceWad);
    const keepersPresent = this.nowMs < KEEPERS_ABSENT.fromMs || this.nowMs >= KEEPERS_ABSENT.toMs;
    this.auctionRound(keepersPresent);
    for (const id of this.users) {
      const reason = this.liquidate(id);
      if (reason === null) continue;
      const inAuction = [...this.state.auctions.values()].some((auction) => auction.account === id);
      const explained = inAuction || reason === 'LIQUIDATION_CAPPED' || reason === 'AUCTION_IN_PROGRESS' || CAP_RULES.has(reason) || reason === 'AUCTION';
      if (!explained) this.summary.unexplained.push(`${new Date(this.nowMs).toISOString()} ${id}: ${reason}`);
    }
    this.probeHealthy();
    const fund = this.fundUsd();
    if (fund < this.summary.fundMinUsd) this.summary.fundMinUsd = fund;
    for (const [, balance] of this.state.accounts.get(SYSTEM.insurance)!.balances) expect(balance.amount).toBeGreaterThanOrEqual(0n);
  }
}

describe('crisis: Black Thursday 2020', () => {
  it(`liquidates ${ACCOUNTS} seeded accounts through the crash within the invariants`, () => {
    const parsed = parseScenario(JSON.parse(readFileSync(SCENARIO_PATH, 'utf8')));
    if (!parsed.ok) throw new Error(`scenario: ${JSON.stringify(parsed.error)}`);
    const frames = scenarioFrames(parsed.value);
    expect(frames.length).toBeGreaterThan(150);

    const crisis = new Crisis();
    const first = frames[0]!;
    crisis.nowMs = first.timestampMs;
    crisis.price('USDC', WAD);
    for (const [asset, price] of first.prices) crisis.price(asset, price.wad);
    crisis.populate();
    const fundStartUsd = crisis.fundUsd();
    crisis.summary.fundMinUsd = fundStartUsd;
    const fundStart = new Map([...crisis.state.accounts.get(SYSTEM.insurance)!.balances].map(([asset, b]) => [asset, b.amount]));
    const liquidatableAtStart = crisis.users.filter((id) => crisis.health(id).liquidatable).length;

    for (const frame of frames) crisis.frame(frame);

    // The fund moved by exactly what the events say, per asset.
    const fundEnd = new Map([...crisis.state.accounts.get(SYSTEM.insurance)!.balances].map(([asset, b]) => [asset, b.amount]));
    for (const asset of new Set([...fundStart.keys(), ...fundEnd.keys(), ...crisis.fundFlows.keys()])) {
      expect((fundEnd.get(asset) ?? 0n) - (fundStart.get(asset) ?? 0n), `insurance fund ${asset}`).toBe(crisis.fundFlows.get(asset) ?? 0n);
    }
    expect(checkInvariants(crisis.state)).toEqual([]);

    const s = crisis.summary;
    const last = frames[frames.length - 1]!;
    const lines = [
      `Black Thursday: ${frames.length} frames, ${ACCOUNTS} accounts (seed ${SEED}); ETH ${formatDecimal(first.prices.get('ETH')!.wad, 18)} → ${formatDecimal(last.prices.get('ETH')!.wad, 18)}, BTC ${formatDecimal(first.prices.get('BTC')!.wad, 18)} → ${formatDecimal(last.prices.get('BTC')!.wad, 18)}`,
      `  liquidatable at start: ${liquidatableAtStart}; still liquidatable at the end: ${crisis.users.filter((id) => crisis.health(id).liquidatable).length}`,
      `  liquidations: ${s.liquidations} (bankrupt ${s.bankruptcies}); steps ${JSON.stringify(s.steps)}`,
      `  refusals: ${JSON.stringify(s.refusals)}`,
      `  penalties: ${usd(s.penaltiesUsd)} USD`,
      `  insurance fund: start ${usd(fundStartUsd)} USD, end ${usd(crisis.fundUsd())} USD, min ${usd(s.fundMinUsd)} USD`,
      `  bad debt: ${usd(s.badDebtUsd)} USD (covered by the fund ${[...s.coveredByFund].map(([a, v]) => `${formatDecimal(v, crisis.config.assets.get(a)!.decimals)} ${a}`).join(', ') || '0'}; socialised ${[...s.socialised].map(([a, v]) => `${formatDecimal(v, crisis.config.assets.get(a)!.decimals)} ${a}`).join(', ') || '0'})`,
      `  deleveraged positions: ${s.deleveragedPositions}; auctions: started ${s.auctionsStarted}, takes ${s.auctionTakes}, resets ${s.auctionResets}, ended ${s.auctionsEnded}, open at the end ${crisis.state.auctions.size}`,
      `  USDC supply index: ${formatDecimal(crisis.state.assets.get('USDC')!.supplyIndexWad, 18)}; healthy accounts probed: ${s.healthyProbes}`,
      `  unexplained liquidatable accounts at frame ends: ${s.unexplained.length}`,
    ];
    console.log(lines.join('\n'));

    expect(s.liquidations).toBeGreaterThan(0);
    expect(s.healthyProbes).toBeGreaterThan(0);
    expect(s.unexplained, s.unexplained.slice(0, 5).join('\n')).toEqual([]);
  });
});
