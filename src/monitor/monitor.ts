/**
 * The risk monitor: which accounts are in warning or liquidatable, kept current from the
 * ledger's events over a columnar risk index (risk-index.ts), with debounced alerts.
 *
 * Screen, then confirm. An event re-indexes the accounts it names; a moved price or interest
 * index refreshes that asset's factors, and only the accounts on its exposure list are
 * screened; a moved funding index re-indexes the market's holders; a new configuration
 * re-indexes everyone and sweeps. The float screen either proves that an account's zone (its
 * position relative to the thresholds that matter at its alert level) is unchanged, or makes
 * it a candidate; every candidate is valued by the core (`evaluateAccount`) and only that
 * exact answer changes a status or raises an alert. Decisions are ordered by how far under
 * water the account is, by cross-multiplication of exact values (thresholds.ts).
 *
 * Full sweeps (start-up, reconciliation) value every account exactly on worker threads from
 * the index's shared copy of the records (sweep-pool.ts); a sweep after the incremental path
 * must find nothing to change (`lastSweep.mismatches`).
 *
 * Statuses: counts are exact at all times. The exact numbers of accounts in warning or
 * liquidatable are kept; when a later screen proves such an account's zone unchanged, its
 * numbers are refreshed exactly on the next `list` or `status` that returns it. `status` of
 * any other account values it exactly on demand.
 */
import { availableParallelism } from 'node:os';
import type { Account } from '../core/account.ts';
import { evaluateAccount, type AccountHealth } from '../core/health.ts';
import type { LedgerEvent } from '../core/ledger/events.ts';
import type { Ledger, SealedEvent } from '../core/ledger/ledger.ts';
import { accountView, isSystemAccount } from '../core/ledger/state.ts';
import { liquidationPrices, type LiquidationPrice } from '../core/liquidation-price.ts';
import type { PriceBook } from '../core/prices.ts';
import { LEVEL_NONE, nextAlert, relevantBits, type AlertKind, type AlertLevel } from './alerts.ts';
import { RiskIndex, screenAgrees, type ExposureList } from './risk-index.ts';
import { SweepPool } from './sweep-pool.ts';
import { RESULT_UNVALUED, RESULT_WIDE, type FlaggedHealth } from './sweep-protocol.ts';
import {
  compareUnderwater,
  DEFAULT_BAND_WAD,
  exactMask,
  LIQUIDATABLE,
  MASK_UNKNOWN,
  thresholdsFor,
  WARNING,
  type ThresholdsWad,
} from './thresholds.ts';

export type { AlertKind } from './alerts.ts';

export interface AccountStatus {
  readonly account: string;
  readonly initialHealthUsd: bigint;
  readonly maintenanceHealthUsd: bigint;
  readonly maintenanceRatioWad: bigint | null;
  readonly maintenanceAssetsUsd: bigint;
  readonly maintenanceLiabilitiesUsd: bigint;
  readonly warning: boolean;
  readonly liquidatable: boolean;
}

export interface Alert {
  readonly kind: AlertKind;
  readonly status: AccountStatus;
  /**
   * The distance to liquidation in price terms, for a warning: the account's exact
   * liquidation prices (core/liquidation-price.ts) at the prices of the alert, computed on the
   * first call (a few hundred exact valuations) and remembered. Null for other kinds.
   */
  liquidationPrices(): readonly LiquidationPrice[] | null;
}

export interface MonitorOptions {
  /** Hysteresis band of the alerts, in maintenance ratio (alerts.ts); default 0.02. */
  readonly bandWad?: bigint;
  /** Worker threads of a full sweep; default the machine's available parallelism. */
  readonly sweepWorkers?: number;
  /** Workers shared with other monitors (their owner closes them); default: the monitor's own. */
  readonly sweepPool?: SweepPool;
}

/** What the last incremental pass did (for metrics and the benchmark). */
export interface PassReport {
  readonly screened: number;
  readonly candidates: number;
  readonly alerts: number;
}

export interface SweepReport {
  readonly accounts: number;
  readonly workers: number;
  /**
   * Accounts whose decided zone the sweep changed in a bit that matters at their alert level:
   * a bug, or events not yet delivered to `onEvents`.
   */
  readonly mismatches: number;
}

const FLAGS = LIQUIDATABLE | WARNING;
const INITIAL_SLOTS = 1024;

export class RiskMonitor {
  private readonly index: RiskIndex;
  private readonly pool: SweepPool;
  private readonly ownsPool: boolean;
  private readonly bandWad: bigint;
  private readonly sweepWorkers: number;
  private thresholds: ThresholdsWad;
  // Per slot: exact zone mask last decided, alert level, numbers out of date, pass stamp.
  private mask = grownTo(new Uint8Array(0), INITIAL_SLOTS, MASK_UNKNOWN);
  private level = grownTo(new Uint8Array(0), INITIAL_SLOTS, LEVEL_NONE);
  private stale = grownTo(new Uint8Array(0), INITIAL_SLOTS, 0);
  private seen = new Uint32Array(INITIAL_SLOTS);
  private pass = 0;
  /** Exact statuses of the accounts in warning or liquidatable, by slot. */
  private readonly flagged = new Map<number, AccountStatus>();
  private valued = 0;
  private liquidatable = 0;
  private warningOnly = 0;
  private passReport: PassReport = { screened: 0, candidates: 0, alerts: 0 };
  private sweepReport: SweepReport | null = null;

  constructor(
    private readonly ledger: Ledger,
    options: MonitorOptions = {},
  ) {
    this.bandWad = options.bandWad ?? DEFAULT_BAND_WAD;
    this.sweepWorkers = options.sweepWorkers ?? availableParallelism();
    this.ownsPool = options.sweepPool === undefined;
    this.pool = options.sweepPool ?? new SweepPool();
    this.index = new RiskIndex(ledger.state);
    this.thresholds = thresholdsFor(ledger.state.config, this.bandWad);
    this.index.setThresholds(this.thresholds);
    this.loadAll();
  }

  /**
   * Values every account exactly across worker threads and makes its decisions match
   * (start-up, reconciliation). Returns the alerts that raises.
   */
  sweep(workers: number = this.sweepWorkers): Alert[] {
    const changes = this.absorbTables();
    // Kept numbers of flagged accounts that moved prices or funding touched are out of date
    // even where the sweep finds the same zone: the workers send those back.
    if (changes !== 'reconfigured') {
      for (const list of changes.moved) for (let at = 0; at < list.length; at++) this.markKeptStale(list.slots[at]!);
      for (const slot of changes.reloaded) this.markKeptStale(slot);
    }
    const state = this.ledger.state;
    const slotCount = this.index.slotCount;
    const { result, flagged } = this.pool.run(
      {
        columns: this.index.sharedColumns(),
        slotCount,
        assetIds: this.index.assetIdsByRow,
        marketIds: this.index.marketIdsByRow,
        config: state.config,
        prices: state.prices,
        assets: state.assets,
        markets: state.markets,
        thresholds: this.thresholds,
        decided: this.mask,
        stale: this.stale,
      },
      workers,
    );
    const healthBySlot = new Map<number, FlaggedHealth>();
    for (const item of flagged) healthBySlot.set(item.slot, item);
    const alerts: Alert[] = [];
    let mismatches = 0;
    for (let slot = 0; slot < slotCount; slot++) {
      const outcome = result[slot]!;
      if (outcome === RESULT_UNVALUED) continue;
      if (outcome === RESULT_WIDE) {
        this.confirm(slot, alerts);
        continue;
      }
      const before = this.mask[slot]!;
      // The same zone again decides nothing new (nextAlert is idempotent); kept numbers are current.
      if (before === outcome && this.stale[slot] === 0) continue;
      const level = this.level[slot] as AlertLevel;
      if (before !== MASK_UNKNOWN && ((before ^ outcome) & relevantBits(level)) !== 0) mismatches += 1;
      const health = healthBySlot.get(slot);
      const needsStatus = (outcome & FLAGS) !== 0 || nextAlert(level, outcome).kind !== null;
      if (health === undefined && needsStatus) {
        this.confirm(slot, alerts);
      } else {
        const status = health === undefined ? null : statusOf(this.index.idOf(slot), health.initial, health.maintenance, outcome);
        this.decide(slot, outcome, status, alerts);
      }
    }
    this.sweepReport = { accounts: slotCount, workers, mismatches };
    return sortAlerts(alerts);
  }

  /**
   * Re-screens every account against the current factors and confirms the candidates: the
   * screened full sweep (cheaper than `sweep`, which does not rely on the screen).
   */
  screenAll(): Alert[] {
    this.absorbTables();
    const stamp = this.nextPass();
    const candidates: number[] = [];
    this.visitAll(stamp, candidates);
    return this.confirmAll(candidates, this.index.slotCount);
  }

  /** Re-decides what a command's events may have changed; returns the alerts raised. */
  onEvents(events: readonly SealedEvent[]): Alert[] {
    const changes = this.absorbTables();
    if (changes === 'reconfigured') return this.sweep();
    const stamp = this.nextPass();
    const candidates: number[] = [];
    let screened = 0;
    const state = this.ledger.state;
    for (const { event } of events) {
      for (const id of accountsNamed(event)) {
        if (isSystemAccount(id)) continue;
        const record = state.accounts.get(id);
        if (record === undefined) continue;
        const slot = this.index.load(id, record);
        this.ensureSlots();
        if (this.seen[slot] !== stamp) screened += 1;
        this.visit(slot, stamp, candidates);
      }
    }
    for (const slot of changes.reloaded) {
      if (this.seen[slot] !== stamp) screened += 1;
      this.visit(slot, stamp, candidates);
    }
    const exposed = changes.moved.reduce((sum, list) => sum + list.length, 0);
    if (exposed >= this.index.slotCount) {
      // Most of the book moved: one pass in slot order beats walking the lists.
      this.visitAll(stamp, candidates);
      screened = this.index.slotCount;
    } else {
      for (const list of changes.moved) {
        const slots = list.slots;
        for (let at = 0; at < list.length; at++) {
          const slot = slots[at]!;
          if (this.seen[slot] === stamp) continue;
          screened += 1;
          this.visit(slot, stamp, candidates);
        }
      }
    }
    return this.confirmAll(candidates, screened);
  }

  /** The account's exact status at the ledger's current state; undefined for an account never valued. */
  status(account: string): AccountStatus | undefined {
    const slot = this.index.slotOf(account);
    if (slot === undefined || this.mask[slot] === MASK_UNKNOWN) return undefined;
    const kept = this.flagged.get(slot);
    if (kept !== undefined) return this.stale[slot] === 1 ? this.refresh(slot, kept) : kept;
    return this.evaluate(slot)?.status;
  }

  /** Accounts in a state, lowest maintenance ratio first (cross-multiplied), at most `limit`. */
  list(filter: 'warning' | 'liquidatable', limit: number): AccountStatus[] {
    const rows: AccountStatus[] = [];
    for (const [slot, kept] of this.flagged) {
      if (!kept[filter]) continue;
      rows.push(this.stale[slot] === 1 ? this.refresh(slot, kept) : kept);
    }
    rows.sort(compareStatuses);
    return rows.slice(0, limit);
  }

  /** What the last incremental or screened pass did. */
  get lastPass(): PassReport {
    return this.passReport;
  }

  /** What the last full sweep found; null before the first. */
  get lastSweep(): SweepReport | null {
    return this.sweepReport;
  }

  counts(): { readonly accounts: number; readonly warning: number; readonly liquidatable: number } {
    return { accounts: this.valued, warning: this.warningOnly, liquidatable: this.liquidatable };
  }

  /** Bytes of the index's columns and lists and of the per-account decision columns. */
  columnBytes(): number {
    return this.index.columnBytes() + this.mask.byteLength + this.level.byteLength + this.stale.byteLength + this.seen.byteLength;
  }

  /** Stops the monitor's own sweep workers. */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.close();
  }

  private markKeptStale(slot: number): void {
    if ((this.mask[slot]! & FLAGS) !== 0) this.stale[slot] = 1;
  }

  // ── Passes ─────────────────────────────────────────────────────────────────────────────

  /**
   * Syncs the index's tables with the ledger: a new configuration re-indexes every account
   * (its zones are then unknown); moved funding re-indexes the market's holders.
   */
  private absorbTables(): 'reconfigured' | { readonly moved: readonly ExposureList[]; readonly reloaded: readonly number[] } {
    const changes = this.index.sync();
    if (changes.config) {
      this.thresholds = thresholdsFor(this.ledger.state.config, this.bandWad);
      this.index.setThresholds(this.thresholds);
      this.loadAll();
      this.forgetZones();
      return 'reconfigured';
    }
    const reloaded: number[] = [];
    const state = this.ledger.state;
    for (const market of changes.markets) {
      const list = this.index.marketExposure(market);
      for (let at = 0; at < list.length; at++) {
        const slot = list.slots[at]!;
        const id = this.index.idOf(slot);
        const record = state.accounts.get(id);
        if (record !== undefined) this.index.load(id, record);
        reloaded.push(slot);
      }
    }
    return { moved: changes.assets.map((asset) => this.index.assetExposure(asset)), reloaded };
  }

  /** Screens a slot once per pass: a candidate unless the screen proves its zone unchanged. */
  private visit(slot: number, stamp: number, candidates: number[]): void {
    if (this.seen[slot] === stamp) return;
    this.seen[slot] = stamp;
    const mask = this.mask[slot]!;
    if (screenAgrees(this.index.screen(slot), mask, relevantBits(this.level[slot] as AlertLevel))) {
      if ((mask & FLAGS) !== 0) this.stale[slot] = 1;
    } else {
      candidates.push(slot);
    }
  }

  private visitAll(stamp: number, candidates: number[]): void {
    for (let slot = 0; slot < this.index.slotCount; slot++) this.visit(slot, stamp, candidates);
  }

  private confirmAll(candidates: readonly number[], screened: number): Alert[] {
    const alerts: Alert[] = [];
    for (const slot of candidates) this.confirm(slot, alerts);
    this.passReport = { screened, candidates: candidates.length, alerts: alerts.length };
    return sortAlerts(alerts);
  }

  private nextPass(): number {
    this.pass = this.pass === 0xffff_ffff ? 1 : this.pass + 1;
    if (this.pass === 1) this.seen.fill(0);
    return this.pass;
  }

  // ── Exact decisions ────────────────────────────────────────────────────────────────────

  /** Values a slot exactly and decides on the answer; a slot the core cannot value keeps its zone. */
  private confirm(slot: number, alerts: Alert[]): void {
    const valued = this.evaluate(slot);
    if (valued === null) return;
    this.decide(slot, valued.mask, valued.status, alerts, valued.health);
  }

  private evaluate(slot: number): { mask: number; status: AccountStatus; health: Valuation } | null {
    const state = this.ledger.state;
    const id = this.index.idOf(slot);
    const record = state.accounts.get(id);
    if (record === undefined) return null;
    const account = accountView(state, record);
    const health = evaluateAccount(account, state.prices, state.config);
    if (!health.ok) return null;
    const mask = exactMask(health.value.maintenance, this.thresholds);
    checkFlags(id, mask, health.value);
    return {
      mask,
      status: statusOf(id, health.value.initial, health.value.maintenance, mask),
      health: { account, prices: state.prices },
    };
  }

  /** Sets a slot's exact zone, its kept status and its alert level; pushes the alert raised. */
  private decide(slot: number, mask: number, status: AccountStatus | null, alerts: Alert[], valuation?: Valuation): void {
    const before = this.mask[slot]!;
    this.count(before, -1);
    this.count(mask, 1);
    this.mask[slot] = mask;
    this.stale[slot] = 0;
    if ((mask & FLAGS) === 0) this.flagged.delete(slot);
    else if (status !== null) this.flagged.set(slot, status);
    else throw new Error(`monitor: slot ${slot} flagged without its exact status`);
    const step = nextAlert(this.level[slot] as AlertLevel, mask);
    this.level[slot] = step.level;
    if (step.kind === null) return;
    if (status === null) throw new Error(`monitor: an alert for slot ${slot} without its exact status`);
    alerts.push(makeAlert(step.kind, status, step.kind === 'warning' ? (valuation ?? this.valuation(slot)) : null, this.ledger));
  }

  /** The account and prices of a slot now, for a warning's liquidation prices. */
  private valuation(slot: number): Valuation | null {
    const record = this.ledger.state.accounts.get(this.index.idOf(slot));
    return record === undefined ? null : { account: accountView(this.ledger.state, record), prices: this.ledger.state.prices };
  }

  /** Exact numbers for a kept status the screen proved unchanged in zone; its decision stands. */
  private refresh(slot: number, kept: AccountStatus): AccountStatus {
    const valued = this.evaluate(slot);
    // A changed zone here means events the monitor has not been given yet: they will decide it.
    if (valued === null || (valued.mask & FLAGS) !== (this.mask[slot]! & FLAGS)) return kept;
    this.flagged.set(slot, valued.status);
    this.stale[slot] = 0;
    return valued.status;
  }

  private count(mask: number, delta: number): void {
    if (mask === MASK_UNKNOWN) return;
    this.valued += delta;
    if ((mask & LIQUIDATABLE) !== 0) this.liquidatable += delta;
    else if ((mask & WARNING) !== 0) this.warningOnly += delta;
  }

  private forgetZones(): void {
    this.mask.fill(MASK_UNKNOWN);
    this.stale.fill(0);
    this.flagged.clear();
    this.valued = 0;
    this.liquidatable = 0;
    this.warningOnly = 0;
  }

  /** Indexes every user account of the ledger, with columns sized to fit. */
  private loadAll(): void {
    let slots = 0;
    let entries = 0;
    for (const [id, record] of this.ledger.state.accounts) {
      if (isSystemAccount(id)) continue;
      slots += 1;
      entries += record.balances.size + record.perps.size;
    }
    this.index.reserve(slots, entries);
    for (const [id, record] of this.ledger.state.accounts) {
      if (!isSystemAccount(id)) this.index.load(id, record);
    }
    this.index.trimLists();
    this.ensureSlots(1);
  }

  private ensureSlots(growth = 1.5): void {
    const needed = this.index.slotCount;
    if (needed <= this.mask.length) return;
    const length = Math.max(needed, Math.ceil(this.mask.length * growth));
    this.mask = grownTo(this.mask, length, MASK_UNKNOWN);
    this.level = grownTo(this.level, length, LEVEL_NONE);
    this.stale = grownTo(this.stale, length, 0);
    const seen = new Uint32Array(length);
    seen.set(this.seen);
    this.seen = seen;
  }
}

/** What a warning's liquidation prices are computed from. */
interface Valuation {
  readonly account: Account;
  readonly prices: PriceBook;
}

function statusOf(
  account: string,
  initial: AccountHealth['initial'],
  maintenance: AccountHealth['maintenance'],
  mask: number,
): AccountStatus {
  return {
    account,
    initialHealthUsd: initial.healthUsd,
    maintenanceHealthUsd: maintenance.healthUsd,
    maintenanceRatioWad: maintenance.ratioWad,
    maintenanceAssetsUsd: maintenance.assetsUsd,
    maintenanceLiabilitiesUsd: maintenance.liabilitiesUsd,
    warning: (mask & WARNING) !== 0,
    liquidatable: (mask & LIQUIDATABLE) !== 0,
  };
}

/** The zone's flags are the core's own: a difference is a bug in thresholds.ts. */
function checkFlags(account: string, mask: number, health: AccountHealth): void {
  if (((mask & LIQUIDATABLE) !== 0) !== health.liquidatable || ((mask & WARNING) !== 0) !== health.warning) {
    throw new Error(`monitor: zone mask ${mask} of ${account} disagrees with the core's flags`);
  }
}

function makeAlert(kind: AlertKind, status: AccountStatus, valuation: Valuation | null, ledger: Ledger): Alert {
  if (valuation === null) return { kind, status, liquidationPrices: () => null };
  // The ledger's price book changes in place: keep the prices of the alert.
  const prices = new Map(valuation.prices);
  const config = ledger.state.config;
  let memo: readonly LiquidationPrice[] | null | undefined;
  return {
    kind,
    status,
    liquidationPrices: () => {
      memo ??= liquidationPrices(valuation.account, prices, config);
      return memo;
    },
  };
}

function compareStatuses(a: AccountStatus, b: AccountStatus): number {
  const byRatio = compareUnderwater(a, b);
  if (byRatio !== 0) return byRatio;
  if (a.maintenanceHealthUsd !== b.maintenanceHealthUsd) return a.maintenanceHealthUsd < b.maintenanceHealthUsd ? -1 : 1;
  return a.account < b.account ? -1 : a.account > b.account ? 1 : 0;
}

function sortAlerts(alerts: Alert[]): Alert[] {
  return alerts.sort((a, b) => compareStatuses(a.status, b.status));
}

/** A larger copy in shared memory (sweep workers read the zone and staleness columns). */
function grownTo(array: Uint8Array, length: number, fill: number): Uint8Array {
  const next = new Uint8Array(new SharedArrayBuffer(length)).fill(fill);
  next.set(array);
  return next;
}

/** The accounts an event changes directly. */
export function accountsNamed(event: LedgerEvent): string[] {
  switch (event.type) {
    case 'AccountOpened':
    case 'AccountSettled':
    case 'CollateralDeposited':
    case 'CollateralWithdrawn':
      return [event.account];
    case 'Transferred':
      return [event.from, event.to];
    case 'TradeFilled':
      return [event.buyer, event.seller];
    case 'PositionLiquidated':
    case 'CollateralSeized':
    case 'InsuranceCovered':
    case 'BadDebtSocialized':
    case 'AuctionStarted':
    case 'LiquidationCompleted':
      return [event.account, event.liquidator];
    case 'PositionDeleveraged':
      return [event.account, event.liquidator, event.step.counterparty];
    case 'AuctionTaken':
      return [event.account, event.taker];
    case 'AuctionEnded':
      return [event.account];
    case 'ConfigUpdated':
    case 'PriceUpdated':
    case 'InterestAccrued':
    case 'FundingUpdated':
    case 'AuctionReset':
      return [];
  }
}
