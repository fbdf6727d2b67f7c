/**
 * HTTP throughput on loopback (issue 6): the service started in this process (temporary
 * SQLite file, WAL + synchronous=FULL, group commit), autocannon in a child process.
 *
 * - reads: `GET /v1/accounts/:id` over a few hundred seeded accounts (target ≥ 15,000/s);
 * - durable deposits: `POST /v1/accounts/:id/deposits`, each with its own idempotency key,
 *   each answered only once its event is committed (target ≥ 5,000/s).
 *
 * Each phase is warmed up first. Every answer must be 2xx, and every deposit answered must
 * be a new command in the log (checked against the ledger's head), so a figure cannot come
 * from errors or from idempotent replays. BENCH_HTTP_SECONDS (default 10) sets the length of
 * the measured runs; BENCH_HTTP_READ_CONNECTIONS and BENCH_HTTP_DEPOSIT_CONNECTIONS the load;
 * BENCH_HTTP_PHASES=reads (or deposits) runs one phase only, e.g. under `node --cpu-prof`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseDecimal } from '../src/core/fixed.ts';
import { createApiKey } from '../src/service/auth.ts';
import { startService, type RunningService } from '../src/service/service.ts';
import type { LoadJob, LoadResult } from './http-load.ts';
import { ETH_ASSET_JSON, USDC_ASSET_JSON } from '../test/fixtures.ts';

const ACCOUNT_COUNT = 300;
const WARMUP_S = 2;
const MEASURE_S = positiveInteger(process.env.BENCH_HTTP_SECONDS, 10);
const READ_CONNECTIONS = positiveInteger(process.env.BENCH_HTTP_READ_CONNECTIONS, 64);
const DEPOSIT_CONNECTIONS = positiveInteger(process.env.BENCH_HTTP_DEPOSIT_CONNECTIONS, 128);
/** BENCH_HTTP_PHASES=reads or =deposits runs one phase (for profiling); default both. */
const PHASES = new Set((process.env.BENCH_HTTP_PHASES ?? 'reads,deposits').split(','));
const READS_PER_SEC_TARGET = 15_000;
const DEPOSITS_PER_SEC_TARGET = 5_000;
/** The service's clockwork (interest accrual, oracle sweep) stays out of the measurement. */
const TICK_MS = 3_600_000;
/** No new event for this long: the service has finished with a run's requests. */
const QUIET_MS = 200;
const LOAD_SCRIPT = fileURLToPath(new URL('./http-load.ts', import.meta.url));

const RISK_CONFIG = {
  quote: 'USDC',
  assets: [
    USDC_ASSET_JSON,
    ETH_ASSET_JSON,
  ],
};

export async function benchHttp(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'collateral-bench-http-'));
  let service: RunningService | null = null;
  try {
    service = await startService({
      configJson: RISK_CONFIG,
      db: join(dir, 'bench.db'),
      port: 0,
      host: '127.0.0.1',
      autoLiquidate: false,
      rateLimitPerSecond: 1_000_000_000,
      tickMs: TICK_MS,
    });
    const apiKey = (await createApiKey(service.context.store, 'venue', undefined, Date.now())).key;
    const accounts = await seed(service);
    const job = { url: service.url, apiKey, accounts };
    const [load1m] = loadavg();
    console.log(
      `http: service in this process, autocannon in a child process, ${availableParallelism()} CPUs, ` +
        `load average ${load1m?.toFixed(1) ?? '?'} at start; ${ACCOUNT_COUNT} accounts, ${MEASURE_S} s per run after ${WARMUP_S} s of warm-up`,
    );
    const figures: Record<string, number> = {};
    const line: string[] = [];

    if (PHASES.has('reads')) {
      await runLoad({ ...job, kind: 'reads', durationS: WARMUP_S, connections: READ_CONNECTIONS, runId: 'warm-reads' });
      const reads = await runLoad({ ...job, kind: 'reads', durationS: MEASURE_S, connections: READ_CONNECTIONS, runId: 'reads' });
      report('GET /v1/accounts/:id', reads, READ_CONNECTIONS, READS_PER_SEC_TARGET);
      Object.assign(figures, { readsPerSec: Math.round(reads.requestsPerSec), readP50Ms: reads.latencyP50Ms, readP99Ms: reads.latencyP99Ms });
      line.push(`readsPerSec=${figures.readsPerSec} readP99Ms=${figures.readP99Ms}`);
    }

    if (PHASES.has('deposits')) {
      const load = { ...job, kind: 'deposits' as const, connections: DEPOSIT_CONNECTIONS };
      await runDeposits(service, { ...load, durationS: WARMUP_S, runId: 'warm-deposits' });
      const commitsBefore = await commitTotals(service);
      const deposits = await runDeposits(service, { ...load, durationS: MEASURE_S, runId: 'deposits' });
      const commitsAfter = await commitTotals(service);
      report('POST /v1/accounts/:id/deposits (durable)', deposits, DEPOSIT_CONNECTIONS, DEPOSITS_PER_SEC_TARGET);
      const commits = commitsAfter.commits - commitsBefore.commits;
      const events = commitsAfter.events - commitsBefore.events;
      const eventsPerCommit = commits === 0 ? 0 : round1(events / commits);
      const commitMsMean = commits === 0 ? 0 : round1(((commitsAfter.seconds - commitsBefore.seconds) * 1000) / commits);
      console.log(
        `http: group commit: ${commits.toLocaleString('en-US')} transactions (fsyncs) for ` +
          `${events.toLocaleString('en-US')} events, ${eventsPerCommit} events and ${commitMsMean} ms each ` +
          `(the service's event loop waits for each: the SQLite driver is synchronous)`,
      );
      Object.assign(figures, {
        depositsPerSec: Math.round(deposits.requestsPerSec),
        depositP50Ms: deposits.latencyP50Ms,
        depositP99Ms: deposits.latencyP99Ms,
        eventsPerCommit,
      });
      line.push(`depositsPerSec=${figures.depositsPerSec} depositP99Ms=${figures.depositP99Ms}`);
    }
    console.log(`http: ${line.join(' ')}`);
    return figures;
  } finally {
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prices for both assets, and ACCOUNT_COUNT accounts holding USDC and ETH. */
async function seed(service: RunningService): Promise<string[]> {
  const { context } = service;
  const nowMs = context.clock();
  const pushed = await context.prices.push([
    { source: 'bench', asset: 'USDC', price: '1', timestampMs: nowMs },
    { source: 'bench', asset: 'ETH', price: '3000', timestampMs: nowMs },
  ]);
  for (const result of pushed) if (result.status !== 'accepted') throw new Error(`bench: price ${result.asset} refused`);
  const accounts = Array.from({ length: ACCOUNT_COUNT }, (_, index) => `bench-${index}`);
  const seeded = accounts.flatMap((account) => [
    context.engine.submit({ kind: 'deposit', idempotencyKey: `seed:${account}:usdc`, account, asset: 'USDC', amount: units('10000', USDC_ASSET_JSON.decimals) }),
    context.engine.submit({ kind: 'deposit', idempotencyKey: `seed:${account}:eth`, account, asset: 'ETH', amount: units('2', ETH_ASSET_JSON.decimals) }),
  ]);
  for (const result of await Promise.all(seeded)) if (!result.ok) throw new Error(`bench: seeding refused: ${result.error.code}`);
  return accounts;
}

/**
 * A deposit run, checked: every 2xx answer is a new command, one new event each (the accounts
 * exist and no interest is configured, so there is no settlement event).
 */
async function runDeposits(service: RunningService, job: LoadJob): Promise<Measured> {
  const seqBefore = await quietHead(service);
  const result = await runLoad(job);
  const newEvents = (await quietHead(service)) - seqBefore;
  // A repeated key would be answered 2xx (replayed) with no new event. Deposits in flight
  // when the run ends are appended but not counted, hence the range.
  if (newEvents < result.ok || newEvents > result.built) {
    throw new Error(`bench: ${result.ok} deposits answered 2xx (${result.built} built) but ${newEvents} events appended: keys were not unique`);
  }
  return result;
}

/** The head once requests of an earlier run, still arriving after it ended, have all been applied. */
async function quietHead(service: RunningService): Promise<number> {
  const ledger = service.context.engine.ledger;
  for (;;) {
    const seq = ledger.headSeq;
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    if (ledger.headSeq === seq && service.context.store.pendingEvents() === 0) return seq;
  }
}

/** What the load process measured, and what the service spent meanwhile. */
interface Measured extends LoadResult {
  /** Share of the run's wall time the service's event loop was busy (0..1). */
  readonly serviceLoopBusy: number;
  /** CPU time (user + system) of this process, the service, per 2xx answer. */
  readonly serviceCpuUsPerRequest: number;
}

async function runLoad(job: LoadJob): Promise<Measured> {
  const loopBefore = performance.eventLoopUtilization();
  const cpuBefore = process.cpuUsage();
  const result = await runLoadProcess(job);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    ...result,
    serviceLoopBusy: performance.eventLoopUtilization(loopBefore).utilization,
    serviceCpuUsPerRequest: result.ok === 0 ? 0 : Math.round((cpu.user + cpu.system) / result.ok),
  };
}

function runLoadProcess(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_SCRIPT, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`bench: load process exited with ${code}`));
      const result = JSON.parse(stdout.trim()) as LoadResult;
      if (result.non2xx > 0 || result.errors > 0) {
        return reject(new Error(`bench: ${job.kind}: ${result.non2xx} non-2xx answers, ${result.errors} errors (${result.timeouts} timeouts)`));
      }
      resolve(result);
    });
  });
}

/** Totals of the service's commit metrics: transactions, events, and seconds spent committing. */
async function commitTotals(service: RunningService): Promise<{ commits: number; events: number; seconds: number }> {
  const events = await service.context.metrics.commitEvents.get();
  const seconds = await service.context.metrics.commitSeconds.get();
  const value = (metric: typeof events, name: string): number => metric.values.find((sample) => sample.metricName === name)?.value ?? 0;
  return {
    commits: value(events, 'collateral_commit_events_count'),
    events: value(events, 'collateral_commit_events_sum'),
    seconds: value(seconds, 'collateral_commit_seconds_sum'),
  };
}

function report(name: string, result: Measured, connections: number, targetPerSec: number): void {
  const verdict = result.requestsPerSec >= targetPerSec ? 'meets' : 'BELOW';
  console.log(
    `http: ${name}: ${Math.round(result.requestsPerSec).toLocaleString('en-US')} req/s, ` +
      `p50 ${result.latencyP50Ms} ms, p99 ${result.latencyP99Ms} ms ` +
      `(${result.ok.toLocaleString('en-US')} answers in ${result.durationS} s, ${connections} connections, ` +
      `service: event loop ${Math.round(result.serviceLoopBusy * 100)}% busy, ${result.serviceCpuUsPerRequest} µs CPU per request; ` +
      `${verdict} the target of ${targetPerSec.toLocaleString('en-US')}/s)`,
  );
}

function units(text: string, decimals: number): bigint {
  const parsed = parseDecimal(text, decimals);
  if (!parsed.ok) throw new Error(`bench: bad amount ${text}`);
  return parsed.value;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function positiveInteger(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`expected a positive integer, got "${text}"`);
  return value;
}
