/**
 * What the end-to-end suites share: a risk configuration, a service started in-process on a
 * temporary SQLite file (or PostgreSQL) with a clock the test moves, API keys, and a small
 * `fetch` client that returns status and parsed body. Everything goes over real HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey, type ApiKeyRole } from '../../src/service/auth.ts';
import { startService, type RunningService } from '../../src/service/service.ts';

/**
 * USDC (the quote, weight 1, borrowable), ETH and SOL as collateral, and one perp market.
 * The oracle keeps the default deviation guard (10% per update), lets prices live a week (the
 * test clock jumps), and makes the mark and stable prices follow spot at once, so that
 * numbers in the tests can be worked out by hand.
 */
export const RISK_CONFIG = {
  quote: 'USDC',
  warningRatio: '1.5',
  assets: [
    {
      id: 'USDC',
      decimals: 6,
      collateral: { initialWeight: '1', maintenanceWeight: '1' },
      liability: { initialWeight: '1.05', maintenanceWeight: '1.02' },
      liquidationPenalty: '0.02',
    },
    {
      id: 'ETH',
      decimals: 18,
      collateral: { initialWeight: '0.8', maintenanceWeight: '0.85' },
      liability: { initialWeight: '1.1', maintenanceWeight: '1.05' },
      liquidationPenalty: '0.05',
    },
    {
      id: 'SOL',
      decimals: 9,
      collateral: { initialWeight: '0.7', maintenanceWeight: '0.8' },
      liability: { initialWeight: '1.25', maintenanceWeight: '1.2' },
      liquidationPenalty: '0.08',
    },
  ],
  markets: [
    { id: 'ETH-PERP', base: 'ETH', initialMarginFraction: '0.1', maintenanceMarginFraction: '0.05', liquidationFee: '0.01' },
  ],
};

export const SERVICE_CONFIG = {
  ...RISK_CONFIG,
  oracle: {
    defaults: {
      maxAgeMs: 604_800_000,
      maxDeviationPerUpdate: '0.1',
      maxDeviationPerWindow: '0.5',
      stablePriceGrowthPerHour: '100',
      markHalfLifeMs: 1,
    },
  },
};

/** 2023-11-14T22:13:20Z: any fixed start will do. */
export const START_MS = 1_700_000_000_000;

/** A clock the test moves forward; the service reads nothing else. */
export class TestClock {
  nowMs = START_MS;
  readonly read = (): number => this.nowMs;
  /** Moves forward and returns the new time. */
  tick(ms = 1_000): number {
    this.nowMs += ms;
    return this.nowMs;
  }
}

export interface Harness {
  readonly service: RunningService;
  readonly clock: TestClock;
  readonly url: string;
  readonly folder: string;
  readonly dbPath: string;
  key(role: ApiKeyRole, account?: string): Promise<string>;
  /** Stops the service and removes the temporary folder (unless the caller gave it); once. */
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** A postgres:// URL instead of a temporary SQLite file. */
  readonly db?: string;
  readonly schema?: string;
  readonly configJson?: unknown;
  /** Reuse a folder (a restart over the same SQLite file); its removal is then the caller's. */
  readonly folder?: string;
  readonly clock?: TestClock;
  readonly snapshotEveryEvents?: number;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const folder = options.folder ?? mkdtempSync(join(tmpdir(), 'collateral-e2e-'));
  const dbPath = join(folder, 'collateral.db');
  const clock = options.clock ?? new TestClock();
  const service = await startService({
    configJson: options.configJson ?? SERVICE_CONFIG,
    db: options.db ?? dbPath,
    ...(options.schema !== undefined && { schema: options.schema }),
    port: 0,
    host: '127.0.0.1',
    autoLiquidate: false,
    rateLimitPerSecond: 100_000,
    tickMs: 3_600_000,
    clock: clock.read,
    ...(options.snapshotEveryEvents !== undefined && { snapshotEveryEvents: options.snapshotEveryEvents }),
  });
  let closing: Promise<void> | undefined;
  return {
    service,
    clock,
    url: service.url,
    folder,
    dbPath,
    key: async (role, account) => (await createApiKey(service.context.store, role, account, clock.nowMs)).key,
    close() {
      closing ??= (async () => {
        await service.close();
        if (options.folder === undefined) rmSync(folder, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

export interface Reply {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
  readonly text: string;
  readonly headers: Headers;
}

export interface RequestOptions {
  readonly key?: string;
  /** A value sent as JSON. */
  readonly json?: unknown;
  /** Raw body text, sent as application/json as is. */
  readonly raw?: string;
}

/** One HTTP request; the body parsed as JSON when it is JSON. */
export async function call(base: string, method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.json !== undefined) body = JSON.stringify(options.json);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined && { body }) });
  const text = await response.text();
  let parsed: unknown = undefined;
  if ((response.headers.get('content-type') ?? '').includes('application/json')) parsed = JSON.parse(text);
  return { status: response.status, body: parsed, text, headers: response.headers };
}

/** A client bound to one service. */
export function client(base: string) {
  return {
    get: (path: string, key?: string) => call(base, 'GET', path, key === undefined ? {} : { key }),
    post: (path: string, json: unknown, key?: string) => call(base, 'POST', path, { json, ...(key !== undefined && { key }) }),
    raw: (path: string, raw: string, key?: string) => call(base, 'POST', path, { raw, ...(key !== undefined && { key }) }),
  };
}

/**
 * Pushes prices as an oracle source, each a second after the last; pushed twice, so that
 * the mark price (which follows spot over the time spot stood) reaches the new level.
 */
export async function setPrices(
  harness: Harness,
  oracleKey: string,
  prices: Readonly<Record<string, string>>,
  options: { readonly settle?: boolean } = {},
): Promise<Reply[]> {
  const replies: Reply[] = [];
  const rounds = options.settle === false ? 1 : 2;
  for (let round = 0; round < rounds; round += 1) {
    const timestamp = harness.clock.tick();
    const reply = await call(harness.url, 'POST', '/v1/prices', {
      key: oracleKey,
      json: { prices: Object.entries(prices).map(([asset, price]) => ({ asset, price, timestamp })) },
    });
    if (reply.status !== 200) throw new Error(`price push failed: ${reply.status} ${reply.text}`);
    replies.push(reply);
  }
  return replies;
}

/** A unique idempotency key. */
let keyCounter = 0;
export function idem(label = 'cmd'): string {
  keyCounter += 1;
  return `${label}-${process.pid}-${keyCounter}`;
}
