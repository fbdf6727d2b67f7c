/**
 * Read routes for the risk dashboard: the whole book at a glance, the histogram of
 * maintenance ratios, the accounts closest to liquidation, the insurance fund and the
 * liquidation rate over time, an account's own liquidations, and who the calling key is.
 *
 * Every number comes from the core's own evaluation (`evaluateAccount`) or the monitor's;
 * nothing here re-states a margin rule. Work per request is bounded: the book-wide figures
 * are computed at most once per `BOOK_REFRESH_MS` and shared by every caller, pages hold at
 * most `MAX_PAGE` accounts, and the insurance fund history keeps `INSURANCE_SAMPLES_MAX`
 * samples.
 */
import type { FastifyInstance } from 'fastify';
import { abs, formatWad, mulDivDown, mulDivUp, parseDecimal, WAD_DECIMALS } from '../../core/fixed.ts';
import { evaluateAccount } from '../../core/health.ts';
import { accountView, isSystemAccount } from '../../core/ledger/state.ts';
import { formatAmount } from '../../core/present.ts';
import { markPrice } from '../../core/prices.ts';
import type { AccountStatus } from '../../monitor/monitor.ts';
import { API_KEY_ROLES, type ApiKeyRole } from '../auth.ts';
import type { ServiceContext } from '../context.ts';
import type { LiquidationRecord } from '../liquidations.ts';
import { rejectionError } from './errors.ts';

/** The book-wide figures are recomputed at most this often (they evaluate every account). */
export const BOOK_REFRESH_MS = 1_000;
export const MAX_PAGE = 100;
export const INSURANCE_SAMPLE_MS = 5_000;
/** One hour of samples at the default interval. */
export const INSURANCE_SAMPLES_MAX = 720;
export const LIQUIDATION_WINDOW_MINUTES = 60;
const MINUTE_MS = 60_000;

/**
 * Lower edges of the maintenance-ratio histogram buckets ("1.25" = 125 %); the last bucket
 * is open above. The configured warning ratio is added as an edge of its own.
 */
export const RATIO_EDGES = ['0', '0.5', '0.8', '0.9', '1', '1.05', '1.1', '1.25', '1.5', '2', '3', '5'] as const;

export interface RiskViewsOptions {
  /** Roles that may read the whole book. */
  readonly readers: readonly ApiKeyRole[];
  /** A liquidation as the API shows it (`GET /v1/liquidations`). */
  readonly presentLiquidation: (record: LiquidationRecord) => Record<string, unknown>;
  /** The insurance fund's value at current prices, USD wad. */
  readonly insuranceValueUsd: () => bigint;
}

const COUNT = { type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$' } as const;
const RANKING_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sort: { type: 'string', enum: ['ratio', 'health', 'initialHealth'] },
    order: { type: 'string', enum: ['asc', 'desc'] },
    offset: COUNT,
    limit: COUNT,
  },
} as const;
const LIMIT_QUERY = { type: 'object', additionalProperties: false, properties: { limit: COUNT } } as const;
const ACCOUNT_PARAMS = {
  type: 'object',
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' } },
  required: ['id'],
} as const;

type SortKey = 'ratio' | 'health' | 'initialHealth';

export function registerRiskViews(app: FastifyInstance, context: ServiceContext, options: RiskViewsOptions): void {
  const book = new BookCache(context);
  const insurance = new InsuranceHistory(INSURANCE_SAMPLES_MAX);
  const sample = () => insurance.sample(context.clock(), options.insuranceValueUsd());
  sample();
  const timer = setInterval(sample, INSURANCE_SAMPLE_MS);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));

  app.get('/v1/session', { config: { roles: API_KEY_ROLES } }, async (request) => ({
    keyId: request.principal?.keyId ?? null,
    role: request.principal?.role ?? null,
    account: request.principal?.account ?? null,
  }));

  app.get('/v1/risk/summary', { config: { roles: options.readers } }, async () => {
    const summary = book.summary();
    return { ...summary, insuranceFundUsd: formatWad(options.insuranceValueUsd()) };
  });

  app.get('/v1/risk/history', { config: { roles: options.readers } }, async () => {
    const nowMs = context.clock();
    return {
      insuranceFund: insurance.list().map((entry) => ({ atMs: entry.atMs, valueUsd: formatWad(entry.valueUsd) })),
      insuranceSampleMs: INSURANCE_SAMPLE_MS,
      liquidationsPerMinute: liquidationsPerMinute(context, nowMs),
    };
  });

  app.get('/v1/risk/ranking', { config: { roles: options.readers }, schema: { querystring: RANKING_QUERY } }, async (request) => {
    const query = request.query as { sort?: SortKey; order?: 'asc' | 'desc'; offset?: string; limit?: string };
    const sort = query.sort ?? 'ratio';
    const order = query.order ?? 'asc';
    const offset = Number(query.offset ?? '0');
    const limit = Math.min(Number(query.limit ?? '20'), MAX_PAGE);
    const rows = book.ranking(sort, order);
    return {
      sort,
      order,
      offset,
      limit,
      total: rows.length,
      accounts: rows.slice(offset, offset + limit).map((status) => rankedAccount(context, status)),
    };
  });

  app.get(
    '/v1/accounts/:id/liquidations',
    { config: { roles: [...options.readers, 'owner'] }, schema: { params: ACCOUNT_PARAMS, querystring: LIMIT_QUERY } },
    async (request) => {
      const { id } = request.params as { id: string };
      const state = context.engine.ledger.state;
      if (!state.accounts.has(id)) throw rejectionError({ code: 'UNKNOWN_ACCOUNT', account: id }, state.config);
      const limit = Math.min(Number((request.query as { limit?: string }).limit ?? '20'), MAX_PAGE);
      return { liquidations: context.liquidations.list(limit, undefined, id).map(options.presentLiquidation) };
    },
  );
}

// ── The book at a glance ─────────────────────────────────────────────────────────────────

interface LevelTotals {
  assetsUsd: bigint;
  liabilitiesUsd: bigint;
}

export interface BookSummary {
  readonly atMs: number;
  readonly seq: number;
  readonly accounts: { total: number; healthy: number; warning: number; liquidatable: number; unpriced: number };
  readonly totals: Record<string, unknown>;
  readonly histogram: { warningRatio: string; buckets: { from: string; to: string | null; count: number }[]; noLiabilities: number };
}

/** The book-wide figures and the ranking, recomputed when the ledger moved and the last is old enough. */
class BookCache {
  private summaryCache: { seq: number; atMs: number; value: BookSummary } | null = null;
  private rankingCache: { seq: number; atMs: number; key: string; rows: AccountStatus[] } | null = null;

  constructor(private readonly context: ServiceContext) {}

  summary(): BookSummary {
    const nowMs = this.context.clock();
    const seq = this.context.engine.ledger.headSeq;
    const cached = this.summaryCache;
    if (cached !== null && (cached.seq === seq || nowMs - cached.atMs < BOOK_REFRESH_MS)) return cached.value;
    const value = summarize(this.context, nowMs);
    this.summaryCache = { seq, atMs: nowMs, value };
    return value;
  }

  ranking(sort: SortKey, order: 'asc' | 'desc'): AccountStatus[] {
    const nowMs = this.context.clock();
    const seq = this.context.engine.ledger.headSeq;
    const key = `${sort}:${order}`;
    const cached = this.rankingCache;
    if (cached !== null && cached.key === key && (cached.seq === seq || nowMs - cached.atMs < BOOK_REFRESH_MS)) return cached.rows;
    const rows: AccountStatus[] = [];
    for (const id of this.context.engine.ledger.state.accounts.keys()) {
      const status = this.context.monitor.status(id);
      if (status !== undefined) rows.push(status);
    }
    rows.sort(compareBy(sort, order));
    this.rankingCache = { seq, atMs: nowMs, key, rows };
    return rows;
  }
}

function compareBy(sort: SortKey, order: 'asc' | 'desc'): (a: AccountStatus, b: AccountStatus) => number {
  const direction = order === 'asc' ? 1 : -1;
  const value = (status: AccountStatus): bigint | null =>
    sort === 'ratio' ? status.maintenanceRatioWad : sort === 'health' ? status.maintenanceHealthUsd : status.initialHealthUsd;
  return (a, b) => {
    const left = value(a);
    const right = value(b);
    // No liabilities: an unbounded ratio, after every finite one in ascending order.
    const byValue =
      left === right ? 0 : left === null ? 1 : right === null ? -1 : left < right ? -1 : 1;
    if (byValue !== 0) return byValue * direction;
    return a.account < b.account ? -1 : a.account > b.account ? 1 : 0;
  };
}

function summarize(context: ServiceContext, nowMs: number): BookSummary {
  const state = context.engine.ledger.state;
  const config = state.config;
  const edges = ratioEdges(config.warningRatioWad);
  const buckets = edges.map(() => 0);
  let noLiabilities = 0;
  const accounts = { total: 0, healthy: 0, warning: 0, liquidatable: 0, unpriced: 0 };
  const initial: LevelTotals = { assetsUsd: 0n, liabilitiesUsd: 0n };
  const maintenance: LevelTotals = { assetsUsd: 0n, liabilitiesUsd: 0n };
  let collateralUsd = 0n;
  let debtUsd = 0n;

  for (const record of state.accounts.values()) {
    if (isSystemAccount(record.id)) continue;
    accounts.total += 1;
    const view = accountView(state, record);
    const health = evaluateAccount(view, state.prices, config);
    if (!health.ok) {
      accounts.unpriced += 1;
      continue;
    }
    const { value } = health;
    if (value.liquidatable) accounts.liquidatable += 1;
    else if (value.warning) accounts.warning += 1;
    else accounts.healthy += 1;
    initial.assetsUsd += value.initial.assetsUsd;
    initial.liabilitiesUsd += value.initial.liabilitiesUsd;
    maintenance.assetsUsd += value.maintenance.assetsUsd;
    maintenance.liabilitiesUsd += value.maintenance.liabilitiesUsd;
    const ratio = value.maintenance.ratioWad;
    if (ratio === null) noLiabilities += 1;
    else buckets[bucketOf(edges, ratio)] = (buckets[bucketOf(edges, ratio)] ?? 0) + 1;
    for (const [asset, amount] of view.balances) {
      const price = state.prices.get(asset);
      const unit = config.assets.get(asset)?.unit;
      if (price === undefined || unit === undefined) continue;
      if (amount > 0n) collateralUsd += mulDivDown(amount, price.priceWad, unit);
      else debtUsd += mulDivUp(-amount, price.priceWad, unit);
    }
  }

  const openInterest = [...config.markets.values()].map((market) => {
    const price = state.prices.get(market.base);
    const unit = config.assets.get(market.base)?.unit;
    const size = state.markets.get(market.id)?.openInterest ?? 0n;
    const notionalUsd = price === undefined || unit === undefined ? 0n : mulDivDown(size, markPrice(price), unit);
    return { market: market.id, size: formatAmount(size, market.base, config), notionalUsd };
  });

  return {
    atMs: nowMs,
    seq: context.engine.ledger.headSeq,
    accounts,
    totals: {
      collateralUsd: formatWad(collateralUsd),
      debtUsd: formatWad(debtUsd),
      openInterestUsd: formatWad(openInterest.reduce((sum, entry) => sum + entry.notionalUsd, 0n)),
      openInterest: openInterest.map((entry) => ({ ...entry, notionalUsd: formatWad(entry.notionalUsd) })),
      initial: { assets: formatWad(initial.assetsUsd), liabilities: formatWad(initial.liabilitiesUsd) },
      maintenance: { assets: formatWad(maintenance.assetsUsd), liabilities: formatWad(maintenance.liabilitiesUsd) },
    },
    histogram: {
      warningRatio: formatWad(config.warningRatioWad),
      buckets: edges.map((from, index) => ({
        from: formatWad(from),
        to: edges[index + 1] === undefined ? null : formatWad(edges[index + 1] ?? 0n),
        count: buckets[index] ?? 0,
      })),
      noLiabilities,
    },
  };
}

/** The histogram's lower edges in wad, the warning ratio among them, ascending. */
export function ratioEdges(warningRatioWad: bigint): bigint[] {
  const edges = new Set<bigint>([warningRatioWad]);
  for (const text of RATIO_EDGES) {
    const parsed = parseDecimal(text, WAD_DECIMALS);
    if (parsed.ok) edges.add(parsed.value);
  }
  return [...edges].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Index of the bucket holding `ratioWad` (the last edge not above it; ratios are never negative). */
export function bucketOf(edges: readonly bigint[], ratioWad: bigint): number {
  let index = 0;
  for (let k = 0; k < edges.length; k += 1) if ((edges[k] ?? 0n) <= ratioWad) index = k;
  return index;
}

// ── One ranked account and what it is exposed to ─────────────────────────────────────────

function rankedAccount(context: ServiceContext, status: AccountStatus): Record<string, unknown> {
  const state = context.engine.ledger.state;
  const config = state.config;
  const record = state.accounts.get(status.account);
  const exposures: Record<string, unknown>[] = [];
  if (record !== undefined) {
    const view = accountView(state, record);
    for (const [asset, amount] of view.balances) {
      const price = state.prices.get(asset);
      const unit = config.assets.get(asset)?.unit;
      const valueUsd = price === undefined || unit === undefined ? null : mulDivDown(abs(amount), price.priceWad, unit);
      exposures.push({
        kind: 'balance',
        asset,
        amount: formatAmount(amount, asset, config),
        valueUsd: valueUsd === null ? null : formatWad(amount < 0n ? -valueUsd : valueUsd),
      });
    }
    for (const position of view.perps.values()) {
      const base = config.markets.get(position.market)?.base ?? '';
      const price = state.prices.get(base);
      const unit = config.assets.get(base)?.unit;
      const notionalUsd = price === undefined || unit === undefined ? null : mulDivDown(abs(position.size), markPrice(price), unit);
      exposures.push({
        kind: 'perp',
        market: position.market,
        size: formatAmount(position.size, base, config),
        notionalUsd: notionalUsd === null ? null : formatWad(notionalUsd),
      });
    }
  }
  return {
    id: status.account,
    maintenanceRatio: status.maintenanceRatioWad === null ? null : formatWad(status.maintenanceRatioWad),
    maintenanceHealth: formatWad(status.maintenanceHealthUsd),
    initialHealth: formatWad(status.initialHealthUsd),
    warning: status.warning,
    liquidatable: status.liquidatable,
    exposures,
  };
}

// ── Over time ────────────────────────────────────────────────────────────────────────────

/** A ring of (time, value) samples, a new one only when the value changed or a minute passed. */
export class InsuranceHistory {
  private readonly samples: { atMs: number; valueUsd: bigint }[] = [];

  constructor(private readonly max: number) {}

  sample(atMs: number, valueUsd: bigint): void {
    const last = this.samples[this.samples.length - 1];
    if (last !== undefined && last.valueUsd === valueUsd && atMs - last.atMs < MINUTE_MS) return;
    this.samples.push({ atMs, valueUsd });
    if (this.samples.length > this.max) this.samples.splice(0, this.samples.length - this.max);
  }

  list(): readonly { atMs: number; valueUsd: bigint }[] {
    return this.samples;
  }
}

/** Liquidations completed in each of the last `LIQUIDATION_WINDOW_MINUTES` minutes, oldest first. */
function liquidationsPerMinute(context: ServiceContext, nowMs: number): { minuteMs: number; count: number }[] {
  const currentMinuteMs = nowMs - (nowMs % MINUTE_MS);
  const firstMinuteMs = currentMinuteMs - (LIQUIDATION_WINDOW_MINUTES - 1) * MINUTE_MS;
  const counts = new Array<number>(LIQUIDATION_WINDOW_MINUTES).fill(0);
  for (const record of context.liquidations.list(10_000)) {
    const atMs = record.completed.nowMs;
    if (atMs < firstMinuteMs) break;
    const index = Math.floor((atMs - firstMinuteMs) / MINUTE_MS);
    if (index >= 0 && index < counts.length) counts[index] = (counts[index] ?? 0) + 1;
  }
  return counts.map((count, index) => ({ minuteMs: firstMinuteMs + index * MINUTE_MS, count }));
}
