import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseDecimal, WAD_DECIMALS } from '../../core/fixed.ts';
import { createApiKey } from '../auth.ts';
import { DEMO_CONFIG, startDemo } from '../demo.ts';
import { startService, type RunningService } from '../service.ts';
import { bucketOf, InsuranceHistory, ratioEdges } from './risk-views.ts';

const wad = (text: string): bigint => {
  const parsed = parseDecimal(text, WAD_DECIMALS);
  if (!parsed.ok) throw new Error(text);
  return parsed.value;
};

describe('ratio histogram edges', () => {
  it('adds the warning ratio as an edge and puts each ratio in the last bucket not above it', () => {
    const edges = ratioEdges(wad('1.2'));
    expect(edges).toContain(wad('1.2'));
    expect([...edges].sort((a, b) => (a < b ? -1 : 1))).toEqual(edges);
    expect(edges[bucketOf(edges, wad('0'))]).toBe(0n);
    expect(edges[bucketOf(edges, wad('0.99'))]).toBe(wad('0.9'));
    expect(edges[bucketOf(edges, wad('1'))]).toBe(wad('1'));
    expect(edges[bucketOf(edges, wad('1.2'))]).toBe(wad('1.2'));
    expect(edges[bucketOf(edges, wad('1000'))]).toBe(wad('5'));
  });

  it('keeps the insurance history bounded, adding a sample only on change or after a minute', () => {
    const history = new InsuranceHistory(3);
    history.sample(0, 1n);
    history.sample(1_000, 1n);
    expect(history.list()).toHaveLength(1);
    history.sample(2_000, 2n);
    history.sample(62_000, 2n);
    history.sample(63_000, 3n);
    expect(history.list().map((entry) => entry.valueUsd)).toEqual([2n, 2n, 3n]);
  });
});

describe('dashboard read routes', () => {
  let directory: string;
  let service: RunningService;
  let stopDemo: () => void;
  const keys: Record<'admin' | 'reader' | 'owner' | 'oracle', string> = { admin: '', reader: '', owner: '', oracle: '' };

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'ce-views-'));
    service = await startService({
      configJson: DEMO_CONFIG,
      db: join(directory, 'db.sqlite'),
      port: 0,
      host: '127.0.0.1',
      autoLiquidate: false,
      rateLimitPerSecond: 10_000,
      tickMs: 60_000,
    });
    const demo = await startDemo(service.context, { seed: 3, accounts: 40, tickMs: 3_600_000 });
    stopDemo = () => demo.stop();
    const store = service.context.store;
    keys.admin = (await createApiKey(store, 'admin', undefined, 0)).key;
    keys.reader = (await createApiKey(store, 'reader', undefined, 0)).key;
    keys.owner = (await createApiKey(store, 'owner', 'demo-001', 0)).key;
    keys.oracle = (await createApiKey(store, 'oracle', undefined, 0)).key;
  });

  afterAll(async () => {
    stopDemo();
    await service.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const get = async (url: string, key: string) => {
    const response = await service.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
    return { status: response.statusCode, body: response.json() as Record<string, unknown> };
  };

  it('tells a key who it is', async () => {
    expect((await get('/v1/session', keys.reader)).body).toMatchObject({ role: 'reader', account: null });
    expect((await get('/v1/session', keys.owner)).body).toMatchObject({ role: 'owner', account: 'demo-001' });
    expect((await get('/v1/session', keys.oracle)).body).toMatchObject({ role: 'oracle' });
    expect((await service.app.inject({ method: 'GET', url: '/v1/session' })).statusCode).toBe(401);
  });

  it('summarises the book: every user account counted once, in one status and one bucket', async () => {
    const { status, body } = await get('/v1/risk/summary', keys.reader);
    expect(status).toBe(200);
    const accounts = body.accounts as Record<string, number>;
    const histogram = body.histogram as { buckets: { count: number }[]; noLiabilities: number; warningRatio: string };
    expect(accounts.total).toBe(41); // 40 demo accounts and the market maker
    expect(accounts.healthy! + accounts.warning! + accounts.liquidatable! + accounts.unpriced!).toBe(accounts.total);
    expect(histogram.buckets.reduce((sum, bucket) => sum + bucket.count, 0) + histogram.noLiabilities + accounts.unpriced!).toBe(accounts.total);
    expect(histogram.warningRatio).toBe('1.250000000000000000');
    const totals = body.totals as Record<string, unknown>;
    for (const field of ['collateralUsd', 'debtUsd', 'openInterestUsd']) expect(totals[field]).toMatch(/^-?(0|[1-9][0-9]*)\.[0-9]{18}$/);
    expect(body.insuranceFundUsd).toMatch(/^(0|[1-9][0-9]*)\.[0-9]{18}$/);
  });

  it('ranks accounts by maintenance ratio, lowest first, unbounded ratios last, in pages', async () => {
    const all = (await get('/v1/risk/ranking?limit=100', keys.reader)).body as { total: number; accounts: { id: string; maintenanceRatio: string | null; exposures: unknown[] }[] };
    expect(all.total).toBe(41);
    const ratios = all.accounts.map((account) => account.maintenanceRatio);
    const finite = ratios.filter((ratio): ratio is string => ratio !== null).map(wad);
    expect(finite).toEqual([...finite].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(ratios.slice(finite.length).every((ratio) => ratio === null)).toBe(true);
    expect(all.accounts.every((account) => account.exposures.length > 0)).toBe(true);
    const second = (await get('/v1/risk/ranking?limit=5&offset=5', keys.reader)).body as { accounts: { id: string }[] };
    expect(second.accounts.map((account) => account.id)).toEqual(all.accounts.slice(5, 10).map((account) => account.id));
    const byHealth = (await get('/v1/risk/ranking?sort=health&order=desc&limit=100', keys.reader)).body as { accounts: { maintenanceHealth: string }[] };
    const healths = byHealth.accounts.map((account) => wad(account.maintenanceHealth));
    expect(healths).toEqual([...healths].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
    expect((await get('/v1/risk/ranking?limit=1000', keys.reader)).body.limit).toBe(100);
    expect((await get('/v1/risk/ranking?sort=size', keys.reader)).status).toBe(400);
  });

  it('keeps the book from owner keys, but gives them their own account and its liquidations', async () => {
    for (const url of ['/v1/risk/summary', '/v1/risk/history', '/v1/risk/ranking', '/v1/liquidations', '/v1/config']) {
      expect((await get(url, keys.owner)).status).toBe(403);
    }
    expect((await get('/v1/accounts/demo-001', keys.owner)).status).toBe(200);
    expect((await get('/v1/accounts/demo-002', keys.owner)).status).toBe(403);
    expect((await get('/v1/accounts/demo-001/liquidations', keys.owner)).body).toEqual({ liquidations: [] });
    expect((await get('/v1/accounts/demo-002/liquidations', keys.owner)).status).toBe(403);
    expect((await get('/v1/accounts/nobody/liquidations', keys.reader)).status).toBe(404);
    expect((await get('/v1/prices', keys.owner)).status).toBe(200);
  });

  it('has an insurance fund history and a liquidation count per minute for the last hour', async () => {
    const body = (await get('/v1/risk/history', keys.reader)).body as { insuranceFund: unknown[]; liquidationsPerMinute: { minuteMs: number; count: number }[] };
    expect(body.insuranceFund.length).toBeGreaterThan(0);
    expect(body.liquidationsPerMinute).toHaveLength(60);
    const minutes = body.liquidationsPerMinute.map((entry) => entry.minuteMs);
    expect(minutes.every((minute, index) => index === 0 || minute - (minutes[index - 1] ?? 0) === 60_000)).toBe(true);
  });

  it('takes the key as ?key= on the stream, and only there', async () => {
    const url = service.url.replace('http:', 'ws:');
    const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const socket = new WebSocket(`${url}/v1/stream?key=${encodeURIComponent(keys.reader)}`);
      socket.once('message', (data: Buffer) => {
        resolve(JSON.parse(data.toString()) as Record<string, unknown>);
        socket.close();
      });
      socket.once('error', reject);
    });
    expect(hello.type).toBe('hello');
    const refused = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${url}/v1/stream?key=ce_not-a-key`);
      socket.on('error', () => undefined);
      socket.once('unexpected-response', (request, response) => {
        resolve(response.statusCode ?? 0);
        request.destroy();
      });
      socket.once('open', () => resolve(101));
    });
    expect(refused).toBe(401);
    const query = await service.app.inject({ method: 'GET', url: `/v1/prices?key=${encodeURIComponent(keys.reader)}` });
    expect(query.statusCode).toBe(401);
  });
});
