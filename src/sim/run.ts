/**
 * One run of a price path over a book: at every frame the prices go through the oracle into
 * the ledger, the screen finds the liquidatable accounts (confirmed exactly), the backstop
 * liquidates them through the ledger, keepers bid on auctions, and the liquidations' sales
 * move the next prices (impact.ts). Everything that happens is a ledger command: the run's
 * log replays to the state it reports.
 *
 * Time is the path's; nothing here reads the clock.
 */
import { abs, formatDecimal, mulDivDown, WAD_DECIMALS } from '../core/fixed.ts';
import { evaluateAccount } from '../core/health.ts';
import { isLiquidationStep, type LedgerEvent, type LiquidationCompleted, type LiquidationStepEventType } from '../core/ledger/events.ts';
import { checkInvariants } from '../core/ledger/invariants.ts';
import { accountView, isSystemAccount, SYSTEM, type LedgerState } from '../core/ledger/state.ts';
import { auctionPrice, staleness } from '../core/liquidation/auction.ts';
import { explainLiquidation } from '../core/liquidation/explain.ts';
import { equityAtMid } from '../core/liquidation/plan.ts';
import type { Book, PriceFeeder } from './book.ts';
import { MarketImpact, type ImpactOptions } from './impact.ts';
import type { PricePath } from './paths.ts';
import { RiskScreen } from './screen.ts';

export interface RunOptions {
  readonly book: Book;
  readonly feeder: PriceFeeder;
  readonly path: PricePath;
  /** True when frame 0's prices are in the oracle and the ledger already (the book's setup). */
  readonly startFed: boolean;
  /** Assets outside the path, held at these prices at every frame (the quote at 1, say). */
  readonly heldPrices: ReadonlyMap<string, bigint>;
  readonly impact: ImpactOptions;
  /** A user account that bids on Dutch auctions (present when the configuration has auctions). */
  readonly keeper?: string;
  /**
   * Also value every account exactly (no screen) every this many frames and compare the
   * liquidatable set and the warning count with the screen's (tests); absent: never.
   */
  readonly crossCheckEveryFrames?: number;
  /** Full invariant check every this many frames (and at the start and end); default every frame up to 5,000 accounts. */
  readonly invariantEveryFrames?: number;
  /** Attempts per account and frame (a liquidation may stop short of the target). */
  readonly attemptsPerFrame?: number;
  readonly onProgress?: (progress: Progress) => void;
}

export interface Progress {
  readonly frame: number;
  readonly frames: number;
  readonly liquidations: number;
}

export interface TimelineEntry {
  readonly timestampMs: number;
  /** Guarded spot prices the engine used, wads. */
  readonly prices: ReadonlyMap<string, bigint>;
  /** The path's own prices (before market impact), wads. */
  readonly pathPrices: ReadonlyMap<string, bigint>;
  readonly accountsWarning: number;
  readonly accountsLiquidatable: number;
  readonly liquidations: number;
  readonly insuranceFundUsd: bigint;
  /** Bad debt recorded so far. */
  readonly badDebtUsd: bigint;
  /** Counts of maintenance ratios per bucket (RATIO_BUCKETS), before this frame's liquidations. */
  readonly ratioHistogram: readonly number[];
}

export interface Totals {
  liquidations: number;
  liquidatedNotionalUsd: bigint;
  penaltiesUsd: bigint;
  badDebtUsd: bigint;
  socializedLossUsd: bigint;
  deleveragingEvents: number;
}

export interface NotableLiquidation {
  readonly seq: number;
  readonly timestampMs: number;
  readonly account: string;
  readonly notionalUsd: bigint;
  readonly penaltiesUsd: bigint;
  readonly badDebtUsd: bigint;
  readonly bankrupt: boolean;
  readonly explanation: string;
}

export interface RunResult {
  readonly timeline: readonly TimelineEntry[];
  readonly totals: Readonly<Totals>;
  readonly insuranceFundStartUsd: bigint;
  readonly insuranceFundEndUsd: bigint;
  readonly insuranceFundMinUsd: bigint;
  /** The 20 largest liquidations by notional, largest first. */
  readonly largest: readonly NotableLiquidation[];
  readonly invariants: {
    readonly conservation: 'held' | 'violated';
    readonly violations: readonly string[];
    readonly healthyLiquidated: number;
  };
  readonly stateHash: string;
  readonly diagnostics: Diagnostics;
}

export interface Diagnostics {
  /** Liquidation commands refused, by code (prices failing guards, caps, …). */
  readonly refusals: Readonly<Record<string, number>>;
  readonly exactEvaluations: number;
  /** Accounts still liquidatable after the last frame, and their total maintenance shortfall. */
  readonly liquidatableAtEnd: number;
  readonly shortfallAtEndUsd: bigint;
  /** Σ of negative equity at mid prices of accounts left bankrupt (deficits not yet recorded). */
  readonly unrecordedDeficitUsd: bigint;
  readonly backstopEquityStartUsd: bigint;
  readonly backstopEquityEndUsd: bigint;
  readonly unhealthyPriceRecords: number;
  /** Frames where the screen and a full exact valuation disagreed (cross-check only). */
  readonly crossCheckMismatches: number;
  /** Frames cross-checked. */
  readonly crossChecks: number;
  readonly auctionBids: number;
  readonly auctionResets: number;
  /** Largest price concession per asset from market impact (a fraction). */
  readonly maxConcession: Readonly<Record<string, number>>;
}

/** Upper edges of the maintenance-ratio buckets; a last bucket takes the rest, another "no liabilities". */
export const RATIO_EDGES = [1, 1.05, 1.1, 1.25, 1.5, 2, 3, 5] as const;
export const RATIO_BUCKET_LABELS = ['< 1', '1–1.05', '1.05–1.1', '1.1–1.25', '1.25–1.5', '1.5–2', '2–3', '3–5', '≥ 5', 'no debt'] as const;

const LARGEST_KEPT = 20;
/** A keeper bids when the auction asks at most this share of the oracle price. */
const KEEPER_DISCOUNT = 0.98;

export function runPath(options: RunOptions): RunResult {
  return new Run(options).run();
}

class Run {
  private readonly state: LedgerState;
  private readonly screen: RiskScreen;
  private readonly impact: MarketImpact;
  private readonly totals: Totals = {
    liquidations: 0,
    liquidatedNotionalUsd: 0n,
    penaltiesUsd: 0n,
    badDebtUsd: 0n,
    socializedLossUsd: 0n,
    deleveragingEvents: 0,
  };
  private readonly largest: NotableLiquidation[] = [];
  private readonly violations: string[] = [];
  private healthyLiquidated = 0;
  private crossCheckMismatches = 0;
  private crossChecks = 0;
  private auctionBids = 0;
  private auctionResets = 0;
  private readonly refusals = new Map<string, number>();
  private readonly maxConcession = new Map<string, number>();

  constructor(private readonly options: RunOptions) {
    this.state = options.book.ledger.state;
    this.screen = new RiskScreen(this.state);
    this.impact = new MarketImpact(options.impact);
  }

  run(): RunResult {
    const { path } = this.options;
    const frames = path.frames;
    const accounts = this.screen.size;
    const every = this.options.invariantEveryFrames ?? (accounts <= 5_000 ? 1 : Math.max(1, Math.ceil(frames.length / 10)));
    this.checkInvariants('start');
    const fundStart = this.fundUsd();
    const backstopStart = this.equityUsd(SYSTEM.backstop);
    const timeline: TimelineEntry[] = [];
    let fundMin = fundStart;
    frames.forEach((frame, index) => {
      const nowMs = frame.timestampMs;
      if (index > 0 || !this.options.startFed) this.options.feeder.feed(this.framePrices(frame.prices, nowMs), nowMs);
      const screened = this.screen.screen();
      const crossEvery = this.options.crossCheckEveryFrames;
      if (crossEvery !== undefined && index % crossEvery === 0) this.crossCheck(screened.liquidatable, screened.warningCount);
      const liquidations = this.liquidate(screened.liquidatable, nowMs, index, frames.length);
      if (this.options.keeper !== undefined) this.runAuctions(this.options.keeper, nowMs, frames[index + 1]?.timestampMs);
      for (const [asset, concession] of this.impact.closeStep(nowMs)) {
        this.maxConcession.set(asset, Math.max(this.maxConcession.get(asset) ?? 0, Math.abs(concession)));
      }
      const fundUsd = this.fundUsd();
      if (fundUsd < fundMin) fundMin = fundUsd;
      timeline.push({
        timestampMs: nowMs,
        prices: this.enginePrices(frame.prices),
        pathPrices: frame.prices,
        accountsWarning: screened.warningCount,
        accountsLiquidatable: screened.liquidatable.length,
        liquidations,
        insuranceFundUsd: fundUsd,
        badDebtUsd: this.totals.badDebtUsd,
        ratioHistogram: histogram(screened.ratios),
      });
      if ((index + 1) % every === 0) this.checkInvariants(`frame ${index}`);
      this.options.onProgress?.({ frame: index + 1, frames: frames.length, liquidations: this.totals.liquidations });
    });
    this.checkInvariants('end');
    const end = this.endState();
    const refusals: Record<string, number> = {};
    for (const [code, count] of [...this.refusals].sort(([a], [b]) => (a < b ? -1 : 1))) refusals[code] = count;
    const maxConcession: Record<string, number> = {};
    for (const [asset, value] of [...this.maxConcession].sort(([a], [b]) => (a < b ? -1 : 1))) maxConcession[asset] = value;
    return {
      timeline,
      totals: { ...this.totals },
      insuranceFundStartUsd: fundStart,
      insuranceFundEndUsd: this.fundUsd(),
      insuranceFundMinUsd: fundMin,
      largest: this.largest,
      invariants: {
        conservation: this.violations.length === 0 ? 'held' : 'violated',
        violations: this.violations,
        healthyLiquidated: this.healthyLiquidated,
      },
      stateHash: this.options.book.ledger.stateHash(),
      diagnostics: {
        refusals,
        exactEvaluations: this.screen.exactEvaluationsTotal,
        liquidatableAtEnd: end.liquidatable,
        shortfallAtEndUsd: end.shortfallUsd,
        unrecordedDeficitUsd: end.deficitUsd,
        backstopEquityStartUsd: backstopStart,
        backstopEquityEndUsd: this.equityUsd(SYSTEM.backstop),
        unhealthyPriceRecords: this.options.feeder.unhealthyRecords,
        crossCheckMismatches: this.crossCheckMismatches,
        crossChecks: this.crossChecks,
        auctionBids: this.auctionBids,
        auctionResets: this.auctionResets,
        maxConcession,
      },
    };
  }

  // ── Prices ─────────────────────────────────────────────────────────────────────────────

  private framePrices(pathPrices: ReadonlyMap<string, bigint>, nowMs: number): Map<string, string> {
    const prices = new Map<string, string>();
    for (const [asset, priceWad] of this.options.heldPrices) {
      if (!pathPrices.has(asset)) prices.set(asset, formatDecimal(priceWad, WAD_DECIMALS));
    }
    for (const [asset, priceWad] of pathPrices) prices.set(asset, this.impact.price(asset, priceWad, nowMs));
    return prices;
  }

  private enginePrices(pathPrices: ReadonlyMap<string, bigint>): Map<string, bigint> {
    const prices = new Map<string, bigint>();
    const assets = [...new Set([...pathPrices.keys(), ...this.options.heldPrices.keys()])].sort();
    for (const asset of assets) {
      const price = this.state.prices.get(asset);
      if (price !== undefined) prices.set(asset, price.priceWad);
    }
    return prices;
  }

  // ── Liquidations ───────────────────────────────────────────────────────────────────────

  /** Liquidates the accounts the screen found, worst maintenance health first; returns how many liquidations. */
  private liquidate(candidates: readonly string[], nowMs: number, frame: number, frames: number): number {
    const confirmed: { id: string; healthUsd: bigint }[] = [];
    for (const id of candidates) {
      const exact = this.screen.exact(id);
      if (exact?.liquidatable === true) confirmed.push({ id, healthUsd: exact.maintenanceHealthUsd });
    }
    confirmed.sort((a, b) => (a.healthUsd < b.healthUsd ? -1 : a.healthUsd > b.healthUsd ? 1 : a.id < b.id ? -1 : 1));
    const attempts = this.options.attemptsPerFrame ?? 3;
    let count = 0;
    for (const { id } of confirmed) {
      for (let attempt = 0; attempt < attempts; attempt += 1) {
        // The independent check before every attempt: a liquidation the ledger accepts while
        // this says healthy counts against the "no healthy account liquidated" invariant.
        const before = attempt === 0 ? true : this.screen.exact(id)?.liquidatable === true;
        if (!before) break;
        const result = this.options.book.execute({
          kind: 'liquidate',
          idempotencyKey: `sim:liquidate:${id}:${this.options.book.ledger.headSeq + 1}`,
          account: id,
          liquidator: SYSTEM.backstop,
          nowMs,
        });
        if (!result.ok) {
          this.refusals.set(result.error.code, (this.refusals.get(result.error.code) ?? 0) + 1);
          break;
        }
        count += 1;
        // A crash step can hold tens of thousands of liquidations: keep the progress moving.
        if (count % 256 === 0) this.options.onProgress?.({ frame, frames, liquidations: this.totals.liquidations });
        const completed = this.absorb(result.value.events.map((sealed) => sealed.event), result.value.events[0]?.seq ?? 0, nowMs);
        if (completed === null || completed.targetReached || completed.bankrupt) break;
      }
    }
    return count;
  }

  /** Totals, largest liquidations, impact flows and screen rows from a liquidation's events. */
  private absorb(events: readonly LedgerEvent[], seq: number, nowMs: number): LiquidationCompleted | null {
    const steps: LiquidationStepEventType[] = [];
    const touched = new Set<string>();
    let completed: LiquidationCompleted | null = null;
    for (const event of events) {
      if (isLiquidationStep(event)) steps.push(event);
      switch (event.type) {
        case 'PositionDeleveraged': {
          this.totals.deleveragingEvents += 1;
          touched.add(event.step.counterparty);
          const base = this.state.config.markets.get(event.step.market)?.base ?? '';
          const spot = this.state.prices.get(base)?.priceWad ?? event.step.priceWad;
          const unit = this.state.config.assets.get(base)?.unit ?? 1n;
          this.totals.socializedLossUsd += mulDivDown(abs(event.step.size), abs(event.step.priceWad - spot), unit);
          break;
        }
        case 'BadDebtSocialized':
          this.totals.socializedLossUsd += this.valueUsd(event.step.asset, event.step.amount);
          break;
        case 'LiquidationCompleted':
          completed = event;
          touched.add(event.account);
          break;
        default:
          break;
      }
    }
    this.impact.record(events, this.state.prices, this.state.config);
    for (const id of touched) this.screen.refresh(id);
    if (completed === null) return null;
    const done: LiquidationCompleted = completed;
    const notionalUsd = done.notional.reduce((sum, entry) => sum + entry.usd, 0n);
    this.totals.liquidations += 1;
    this.totals.liquidatedNotionalUsd += notionalUsd;
    this.totals.penaltiesUsd += done.penaltiesUsd;
    this.totals.badDebtUsd += done.badDebtUsd;
    if (done.healthBefore.maintenance.healthUsd >= 0n) this.healthyLiquidated += 1;
    this.keepIfLargest(seq, nowMs, done, steps, notionalUsd);
    return done;
  }

  private keepIfLargest(
    seq: number,
    nowMs: number,
    completed: LiquidationCompleted,
    steps: readonly LiquidationStepEventType[],
    notionalUsd: bigint,
  ): void {
    const smallest = this.largest[this.largest.length - 1];
    if (this.largest.length >= LARGEST_KEPT && smallest !== undefined && notionalUsd <= smallest.notionalUsd) return;
    const entry: NotableLiquidation = {
      seq,
      timestampMs: nowMs,
      account: completed.account,
      notionalUsd,
      penaltiesUsd: completed.penaltiesUsd,
      badDebtUsd: completed.badDebtUsd,
      bankrupt: completed.bankrupt,
      explanation: explainLiquidation(steps, completed, this.state.config),
    };
    const at = this.largest.findIndex((kept) => notionalUsd > kept.notionalUsd);
    if (at === -1) this.largest.push(entry);
    else this.largest.splice(at, 0, entry);
    if (this.largest.length > LARGEST_KEPT) this.largest.pop();
  }

  // ── Auctions ───────────────────────────────────────────────────────────────────────────

  /**
   * A keeper's behaviour: reset a stale auction; otherwise buy the whole lot as soon as the
   * asking price is at most 98% of the oracle price, if that moment comes before the next frame.
   */
  private runAuctions(keeper: string, nowMs: number, nextMs: number | undefined): void {
    const auctions = [...this.state.auctions.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const auction of auctions) {
      const config = this.state.config.assets.get(auction.collateralAsset)?.auction;
      const oracle = this.state.prices.get(auction.collateralAsset)?.priceWad;
      if (config === undefined || oracle === undefined) continue;
      if (staleness(config, auction, nowMs, oracle) !== null) {
        const reset = this.options.book.execute({
          kind: 'resetAuction',
          idempotencyKey: `sim:reset:${auction.id}:${this.options.book.ledger.headSeq + 1}`,
          auctionId: auction.id,
          nowMs,
        });
        if (reset.ok) this.auctionResets += 1;
        continue;
      }
      const limitWad = (oracle * BigInt(Math.round(KEEPER_DISCOUNT * 1e6))) / 1_000_000n;
      const horizonMs = (nextMs ?? nowMs + 1) - 1;
      const bidMs = firstTimeAtOrBelow((ms) => auctionPrice(config, auction, ms), limitWad, nowMs, horizonMs);
      if (bidMs === null || staleness(config, auction, bidMs, oracle) !== null) continue;
      const result = this.options.book.execute({
        kind: 'bid',
        idempotencyKey: `sim:bid:${auction.id}:${this.options.book.ledger.headSeq + 1}`,
        auctionId: auction.id,
        taker: keeper,
        amount: auction.lot,
        maxPriceWad: limitWad,
        nowMs: bidMs,
      });
      if (!result.ok) {
        this.refusals.set(result.error.code, (this.refusals.get(result.error.code) ?? 0) + 1);
        continue;
      }
      this.auctionBids += 1;
      const events = result.value.events.map((sealed) => sealed.event);
      this.impact.record(events, this.state.prices, this.state.config);
      this.screen.refresh(auction.account);
    }
  }

  // ── Measures ───────────────────────────────────────────────────────────────────────────

  private valueUsd(asset: string, amount: bigint): bigint {
    const price = this.state.prices.get(asset)?.priceWad ?? 0n;
    const unit = this.state.config.assets.get(asset)?.unit ?? 1n;
    return mulDivDown(amount, price, unit);
  }

  /** The insurance fund's holdings at current prices (rounded down). */
  private fundUsd(): bigint {
    const record = this.state.accounts.get(SYSTEM.insurance);
    let total = 0n;
    for (const [asset, balance] of record?.balances ?? []) total += this.valueUsd(asset, balance.amount);
    return total;
  }

  private equityUsd(id: string): bigint {
    const record = this.state.accounts.get(id);
    return record === undefined ? 0n : equityAtMid(accountView(this.state, record), this.state.prices, this.state.config);
  }

  private endState(): { liquidatable: number; shortfallUsd: bigint; deficitUsd: bigint } {
    const screened = this.screen.screen();
    let shortfallUsd = 0n;
    let deficitUsd = 0n;
    for (const id of screened.liquidatable) {
      const exact = this.screen.exact(id);
      if (exact !== null && exact.maintenanceHealthUsd < 0n) shortfallUsd -= exact.maintenanceHealthUsd;
      const equity = this.equityUsd(id);
      if (equity < 0n) deficitUsd -= equity;
    }
    return { liquidatable: screened.liquidatable.length, shortfallUsd, deficitUsd };
  }

  private checkInvariants(where: string): void {
    if (this.state.halted !== null) this.violations.push(`${where}: ledger halted: ${this.state.halted}`);
    for (const violation of checkInvariants(this.state)) this.violations.push(`${where}: ${violation.invariant} ${violation.message}`);
  }

  /** Values every user account exactly and compares with what the screen found. */
  private crossCheck(liquidatable: readonly string[], warningCount: number): void {
    this.crossChecks += 1;
    const exact: string[] = [];
    let warning = 0;
    for (const record of this.state.accounts.values()) {
      if (isSystemAccount(record.id)) continue;
      const health = evaluateAccount(accountView(this.state, record), this.state.prices, this.state.config);
      if (!health.ok) continue;
      if (health.value.liquidatable) exact.push(record.id);
      else if (health.value.warning) warning += 1;
    }
    const screened = new Set(liquidatable);
    const same = warning === warningCount && exact.length === screened.size && exact.every((id) => screened.has(id));
    if (!same) this.crossCheckMismatches += 1;
  }
}

/** Bucket counts of maintenance ratios (NaN: no liabilities). */
function histogram(ratios: Float64Array): number[] {
  const counts = new Array<number>(RATIO_EDGES.length + 2).fill(0);
  for (const ratio of ratios) {
    if (Number.isNaN(ratio)) {
      counts[RATIO_EDGES.length + 1]! += 1;
      continue;
    }
    let bucket = RATIO_EDGES.findIndex((edge) => ratio < edge);
    if (bucket === -1) bucket = RATIO_EDGES.length;
    counts[bucket]! += 1;
  }
  return counts;
}

/** The first time in [fromMs, toMs] at which `priceAt` (non-increasing) is at most `limit`, or null. */
function firstTimeAtOrBelow(priceAt: (ms: number) => bigint, limit: bigint, fromMs: number, toMs: number): number | null {
  if (toMs < fromMs || priceAt(toMs) > limit) return null;
  if (priceAt(fromMs) <= limit) return fromMs;
  let lo = fromMs;
  let hi = toMs;
  while (hi - lo > 1) {
    const middle = Math.floor((lo + hi) / 2);
    if (priceAt(middle) <= limit) hi = middle;
    else lo = middle;
  }
  return hi;
}
