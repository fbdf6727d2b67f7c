/**
 * The service: store, ledger, oracle, monitor, liquidation and API wired together, in the
 * order data flows. Start-up rebuilds the ledger from the durable log (snapshot + tail),
 * records the configuration if the log does not have it yet, sweeps the monitor, and only
 * then opens the port. Shutdown stops intake, waits for what is queued to be durable, and
 * closes the store.
 */
import type { FastifyInstance } from 'fastify';
import { parseRiskConfig, type RiskConfig } from '../core/config.ts';
import { encodeCanonical } from '../core/ledger/codec.ts';
import type { SealedEvent } from '../core/ledger/ledger.ts';
import { SYSTEM } from '../core/ledger/state.ts';
import { formatWad } from '../core/fixed.ts';
import { formatIssues } from '../core/input.ts';
import { RiskMonitor, type Alert } from '../monitor/monitor.ts';
import { parseOracleConfig } from '../oracle/config.ts';
import { Oracle } from '../oracle/oracle.ts';
import { openStore } from '../store/open.ts';
import { fromRecord } from '../store/record.ts';
import { loadLedger } from '../store/recover.ts';
import type { EventStore } from '../store/store.ts';
import { AccountAnswerCache } from './account-answers.ts';
import { ApiKeyCache, RateLimiter } from './auth.ts';
import type { ServiceContext } from './context.ts';
import { DEFAULT_ENGINE_OPTIONS, Engine } from './engine.ts';
import { buildApp } from './http/app.ts';
import { LiquidationHistory } from './liquidations.ts';
import { Metrics } from './metrics.ts';
import { PriceBridge } from './prices.ts';
import { StreamHub } from './stream.ts';

export interface ServiceOptions {
  /** The risk configuration (risk.json), with an optional `oracle` section. */
  readonly configJson: unknown;
  /** A SQLite path or a postgres:// URL; default DATABASE_URL, else ./data/collateral.db. */
  readonly db?: string;
  /** PostgreSQL schema for a postgres:// `db` (default the store's); ignored for SQLite. */
  readonly schema?: string;
  readonly port: number;
  readonly host: string;
  /** Liquidate liquidatable accounts against the backstop automatically. */
  readonly autoLiquidate: boolean;
  /** Requests per second per API key. */
  readonly rateLimitPerSecond: number;
  /** Interval of the oracle staleness sweep, interest accrual and auto-liquidation pass. */
  readonly tickMs: number;
  readonly snapshotEveryEvents?: number;
  readonly clock?: () => number;
}

export interface RunningService {
  readonly app: FastifyInstance;
  readonly context: ServiceContext;
  readonly url: string;
  close(): Promise<void>;
}

/** Bounds of the in-memory caches in front of the store and the account valuation. */
const API_KEYS_CACHED_MAX = 10_000;
const API_KEY_CACHE_AGE_MS_MAX = 60_000;
const ACCOUNT_ANSWERS_CACHED_MAX = 10_000;

/** Thrown for configuration the service cannot start with; the message names the field. */
export class ServiceConfigError extends Error {}

export function parseServiceConfig(json: unknown): { risk: RiskConfig; oracle: ReturnType<typeof parseOracleConfig> } {
  const { oracle: oracleJson, ...riskJson } = (json ?? {}) as Record<string, unknown>;
  const risk = parseRiskConfig(riskJson);
  if (!risk.ok) throw new ServiceConfigError(formatIssues(risk.error));
  const oracle = parseOracleConfig(oracleJson, [...risk.value.assets.keys()]);
  if (!oracle.ok) throw new ServiceConfigError(formatIssues(oracle.error.map((issue) => ({ ...issue, field: `oracle.${issue.field}` }))));
  return { risk: risk.value, oracle };
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const clock = options.clock ?? (() => Date.now());
  const { oracle: oracleConfig } = parseServiceConfig(options.configJson);
  if (!oracleConfig.ok) throw new ServiceConfigError('invalid oracle configuration');
  const riskJson = withoutOracle(options.configJson);

  const metrics = new Metrics();
  const store = await openStore(options.db, {
    ...(options.schema !== undefined && { schema: options.schema }),
    onCommit: (commit) => {
      metrics.commitSeconds.observe(commit.durationMs / 1000);
      metrics.commitEvents.observe(commit.events);
    },
  });
  try {
    const loaded = await loadLedger(store, parseConfigOrThrow, riskJson);
    const engine = new Engine(loaded.ledger, store, {
      ...DEFAULT_ENGINE_OPTIONS,
      ...(options.snapshotEveryEvents !== undefined && { snapshotEveryEvents: options.snapshotEveryEvents }),
    });
    await recordConfiguration(engine, riskJson, clock);

    const oracle = new Oracle(oracleConfig.value);
    const monitor = new RiskMonitor(engine.ledger);
    monitor.sweep();
    const liquidations = new LiquidationHistory();
    await rebuildHistory(store, liquidations, engine.ledger.state.config);
    const stream = new StreamHub();
    const context: ServiceContext = {
      engine,
      store,
      oracle,
      prices: new PriceBridge(oracle, engine, clock),
      monitor,
      liquidations,
      stream,
      metrics,
      limiter: new RateLimiter(options.rateLimitPerSecond),
      apiKeys: new ApiKeyCache(store, { maxKeys: API_KEYS_CACHED_MAX, maxAgeMs: API_KEY_CACHE_AGE_MS_MAX, clock }),
      accountAnswers: new AccountAnswerCache(ACCOUNT_ANSWERS_CACHED_MAX),
      clock,
    };
    engine.onApplied((events) => context.accountAnswers.onApplied(events));
    engine.onDurable((events) => publish(context, events));

    const app = await buildApp(context);
    try {
      await app.listen({ port: options.port, host: options.host });
    } catch (error) {
      await app.close();
      throw error;
    }
    const timers = startTimers(context, options);
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : options.port;
    return {
      app,
      context,
      url: `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port}`,
      async close() {
        timers.stop();
        stream.closeAll();
        await app.close();
        await engine.close();
        await monitor.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

function withoutOracle(json: unknown): unknown {
  const { oracle: _oracle, ...rest } = (json ?? {}) as Record<string, unknown>;
  return rest;
}

function parseConfigOrThrow(json: unknown): RiskConfig {
  const parsed = parseRiskConfig(json);
  if (!parsed.ok) throw new ServiceConfigError(`stored configuration is invalid: ${formatIssues(parsed.error)}`);
  return parsed.value;
}

/**
 * The log starts with the configuration, so that a replay needs nothing but the log; a
 * different configuration at a later start is recorded as a change (validated by the ledger).
 */
async function recordConfiguration(engine: Engine, riskJson: unknown, clock: () => number): Promise<void> {
  const state = engine.ledger.state;
  if (engine.ledger.headSeq > 0 && encodeCanonical(state.configJson) === encodeCanonical(riskJson)) return;
  const result = await engine.submit({ kind: 'config', idempotencyKey: `config:${clock()}:${engine.ledger.headSeq}`, config: riskJson });
  if (!result.ok) {
    const problem = result.error;
    const detail = 'message' in problem ? `${problem.field}: ${problem.message}` : '';
    throw new ServiceConfigError(`the configuration cannot replace the stored one: ${problem.code} ${detail}`);
  }
}

async function rebuildHistory(store: EventStore, history: LiquidationHistory, config: RiskConfig): Promise<void> {
  let after = 0;
  for (;;) {
    const records = await store.read(after, 1_000);
    if (records.length === 0) return;
    const events: SealedEvent[] = records.map((record) => fromRecord(record));
    history.add(events, config);
    after = records[records.length - 1]?.seq ?? after;
  }
}

/** After events are durable: monitor, liquidation history, metrics and the stream. */
function publish(context: ServiceContext, events: readonly SealedEvent[]): void {
  const config = context.engine.ledger.state.config;
  for (const record of context.liquidations.add(events, config)) {
    context.metrics.liquidations.inc();
    context.stream.publish(
      'liquidations',
      { type: 'liquidation', seq: record.seq, account: record.completed.account, explanation: record.explanation },
      record.completed.account,
    );
  }
  for (const { event, seq } of events) {
    if (event.type !== 'PriceUpdated') continue;
    context.stream.publish('prices', {
      type: 'price',
      seq,
      asset: event.asset,
      price: formatWad(event.priceWad),
      confidence: formatWad(event.confidenceWad),
      healthy: event.healthy,
      reasons: event.reasons,
    });
  }
  for (const alert of context.monitor.onEvents(events)) publishAlert(context, alert);
}

function publishAlert(context: ServiceContext, alert: Alert): void {
  const status = alert.status;
  const message = {
    type: alert.kind,
    account: status.account,
    maintenanceHealth: formatWad(status.maintenanceHealthUsd),
    maintenanceRatio: status.maintenanceRatioWad === null ? null : formatWad(status.maintenanceRatioWad),
    liquidatable: status.liquidatable,
    // A margin call says how far liquidation is, in prices.
    ...(alert.kind === 'warning' && {
      liquidationPrices:
        alert.liquidationPrices()?.map((entry) => ({
          asset: entry.asset,
          current: formatWad(entry.currentPriceWad),
          down: entry.downWad === null ? null : formatWad(entry.downWad),
          up: entry.upWad === null ? null : formatWad(entry.upWad),
        })) ?? null,
    }),
  };
  context.stream.publish('warnings', message, status.account);
  context.stream.publish('accounts', message, status.account);
}

/**
 * The service's own clockwork: the oracle sweep (prices that go stale with no update),
 * interest accrual, the monitor's reconciliation sweep, and automatic liquidation against the
 * backstop. One pass at a time.
 */
function startTimers(context: ServiceContext, options: ServiceOptions): { stop(): void } {
  let running = false;
  const reconciliation = { atMs: context.clock() };
  const timer = setInterval(() => {
    if (running || context.engine.failed !== null) return;
    running = true;
    runTick(context, options, reconciliation)
      .catch((error: unknown) => console.error('collateral: tick failed:', error))
      .finally(() => {
        running = false;
      });
  }, options.tickMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** Interest is accrued at most this often: an accrual is an event for every asset. */
const ACCRUAL_INTERVAL_MS = 60_000;

/**
 * The monitor re-decides every account exactly (on worker threads) at most this often, and
 * reports any decision its incremental path got wrong. The sweep blocks the event loop for
 * accounts × ~8 µs ÷ workers.
 */
const RECONCILE_INTERVAL_MS = 300_000;

async function runTick(context: ServiceContext, options: ServiceOptions, reconciliation: { atMs: number }): Promise<void> {
  await context.prices.sweep();
  const ledger = context.engine.ledger;
  const now = context.clock();
  const lastAccrualMs = [...ledger.state.assets.values()].reduce((latest, asset) => Math.max(latest, asset.accruedAtMs ?? 0), 0);
  if (now - lastAccrualMs >= ACCRUAL_INTERVAL_MS) {
    await context.engine.submit({ kind: 'accrueInterest', idempotencyKey: `accrue:${ledger.headSeq + 1}`, nowMs: now });
  }
  if (now - reconciliation.atMs >= RECONCILE_INTERVAL_MS) {
    reconciliation.atMs = now;
    for (const alert of context.monitor.sweep()) publishAlert(context, alert);
    const mismatches = context.monitor.lastSweep?.mismatches ?? 0;
    if (mismatches > 0) console.error(`collateral: reconciliation changed ${mismatches} monitor decisions`);
  }
  if (!options.autoLiquidate) return;
  for (const status of context.monitor.list('liquidatable', 50)) {
    const result = await context.engine.submit({
      kind: 'liquidate',
      idempotencyKey: `auto:${status.account}:${ledger.headSeq + 1}`,
      account: status.account,
      liquidator: SYSTEM.backstop,
      nowMs: context.clock(),
    });
    if (!result.ok) context.metrics.rejections.inc({ code: result.error.code });
  }
}
