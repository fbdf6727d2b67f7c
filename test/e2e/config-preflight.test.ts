/**
 * Configuration changes on a live book: the service refuses one that makes accounts
 * liquidatable at once unless forced, and records the admin key that forced it; `collateral
 * preflight` judges the same change from the service's event log, offline.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { hashApiKey } from '../../src/service/auth.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, idem, RISK_CONFIG, setPrices, startHarness, type Harness } from './harness.ts';

/** ETH worth less as collateral: alice's loan (1,500 USDC against 1 ETH at 2,000) becomes liquidatable. */
const STRICTER = {
  ...RISK_CONFIG,
  assets: RISK_CONFIG.assets.map((asset) =>
    asset.id === 'ETH' ? { ...asset, collateral: { initialWeight: '0.7', maintenanceWeight: '0.75' } } : asset,
  ),
};

describe('POST /v1/config on a live book, and collateral preflight', () => {
  let h: Harness;
  let api: ReturnType<typeof client>;
  let admin = '';
  let adminId = '';

  const folder = mkdtempSync(join(tmpdir(), 'collateral-preflight-'));

  beforeAll(async () => {
    // The folder is ours (the harness leaves it), so the log outlives the service for preflight.
    h = await startHarness({ folder });
    api = client(h.url);
    admin = await h.key('admin');
    adminId = (await h.service.context.store.getApiKeyByHash(hashApiKey(admin)))?.id ?? '';
    const oracle = await h.key('oracle');
    const venue = await h.key('venue');
    await setPrices(h, oracle, { USDC: '1', ETH: '2000', SOL: '150' });
    const ok = async (path: string, body: unknown): Promise<void> => {
      const reply = await api.post(path, body, venue);
      expect(reply.status, reply.text).toBe(200);
    };
    await ok('/v1/accounts/alice/deposits', { asset: 'ETH', amount: '1', idempotencyKey: idem() });
    // Initial: 0.8 × 2000 = 1600 ≥ 1.05 × 1500; maintenance: 1700 ≥ 1530.
    await ok('/v1/accounts/alice/withdrawals', { asset: 'USDC', amount: '1500', idempotencyKey: idem() });
    await ok('/v1/accounts/bob/deposits', { asset: 'USDC', amount: '5000', idempotencyKey: idem() });
    await ok('/v1/accounts/carol/deposits', { asset: 'ETH', amount: '2', idempotencyKey: idem() });
    await ok('/v1/accounts/carol/withdrawals', { asset: 'USDC', amount: '1000', idempotencyKey: idem() });
    // The backstop liquidates and the insurance fund covers: both are funded by deposits.
    await ok('/v1/accounts/system:backstop/deposits', { asset: 'USDC', amount: '100000', idempotencyKey: idem() });
    await ok('/v1/accounts/system:insurance/deposits', { asset: 'USDC', amount: '1000', idempotencyKey: idem() });
  });

  afterAll(async () => {
    await h?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('refuses, without force, a change that makes an account liquidatable at once; nothing is applied', async () => {
    const before = (await api.get('/healthz')).body.seq as number;
    const reply = await api.post('/v1/config', { config: STRICTER, idempotencyKey: idem('cfg') }, admin);
    expect(reply.status, reply.text).toBe(409);
    expect(reply.body.error).toMatchObject({ code: 'CONFIG_WOULD_LIQUIDATE', accounts: 1, sample: ['alice'] });
    expect((await api.get('/healthz')).body.seq).toBe(before);
    expect(reply.body.error.sample).not.toContain('carol');
    expect((await api.get('/v1/config', admin)).body.config).toEqual(RISK_CONFIG);
  });

  it('applies it when forced, and records the admin key that forced it (answer, event key, log line)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const key = idem('cfg');
    const reply = await api.post('/v1/config', { config: STRICTER, idempotencyKey: key, force: true }, admin);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ replayed: false, forcedBy: adminId, liquidatableAtOnce: 1 });
    expect(adminId).toMatch(/^key_/);
    const seq = reply.body.events[0].seq as number;
    const event = await api.get(`/v1/events?after=${seq - 1}&limit=1`, admin);
    expect(event.body.events[0]).toMatchObject({ key: `${key}#forced-by:${adminId}`, event: { type: 'ConfigUpdated' } });
    expect(warn.mock.calls.some(([line]) => String(line).includes(`forced by API key ${adminId}`))).toBe(true);
    // A retry of the same forced request is answered from the first outcome.
    const retry = await api.post('/v1/config', { config: STRICTER, idempotencyKey: key, force: true }, admin);
    expect(retry.body).toMatchObject({ replayed: true, forcedBy: adminId });
    expect(retry.body.events[0].seq).toBe(seq);
    warn.mockRestore();
    const alice = await api.get('/v1/accounts/alice', admin);
    expect(alice.body.liquidatable).toBe(true);
  });

  it('a change that liquidates nobody needs no force', async () => {
    const reply = await api.post('/v1/config', { config: { ...STRICTER, warningRatio: '1.2' }, idempotencyKey: idem('cfg') }, admin);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.forcedBy).toBeUndefined();
    expect(await api.post('/v1/config', { config: STRICTER, idempotencyKey: idem('cfg'), force: 'yes' }, admin)).toMatchObject({ status: 400 });
  });

  it('collateral preflight judges a configuration on the book in the event log', async () => {
    await h.close();
    // ETH at a quarter of its value: carol (1,000 USDC against 2 ETH at 2,000) too becomes liquidatable.
    const strictest = {
      ...RISK_CONFIG,
      assets: RISK_CONFIG.assets.map((asset) =>
        asset.id === 'ETH' ? { ...asset, collateral: { initialWeight: '0.25', maintenanceWeight: '0.25' } } : asset,
      ),
    };
    const configPath = join(folder, 'strictest.json');
    writeFileSync(configPath, JSON.stringify(strictest));
    let stdout = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      stdout += String(chunk);
      return true;
    });
    let code: number;
    try {
      code = await main(['preflight', '--config', configPath, '--db', h.dbPath, '--scenarios', 'black-thursday-2020,ftx-2022']);
    } finally {
      write.mockRestore();
    }
    expect(code).toBe(0);
    const output = JSON.parse(stdout);
    expect(output.verdict).toBe('refuse');
    expect(output.atOnce.accounts).toBe(3);
    // alice is liquidatable already (the forced change), carol would be; bob has no debt.
    expect(output.atOnce.current.liquidatable).toBe(1);
    expect(output.atOnce.newlyLiquidatable).toBe(1);
    expect(output.atOnce.newlyLiquidatableAccounts).toEqual(['carol']);
    expect(output.scenarios.map((judgement: { scenario: string }) => judgement.scenario)).toEqual(['black-thursday-2020', 'ftx-2022']);
    const [crash, ftx] = output.scenarios;
    expect(crash.applies).toBe(true);
    expect(crash.current.liquidations).toBeGreaterThan(0);
    expect(crash.current.insuranceFundStartUsd).toBe('1000.000000000000000000');
    expect(crash.proposed.liquidations).toBeGreaterThanOrEqual(crash.current.liquidations);
    expect(crash.proposed.badDebtUsd).toMatch(/^\d+\.\d{18}$/);
    // FTX moved SOL, which the book prices (nobody holds it): it applies, and liquidates only
    // alice, liquidatable already, at its first step.
    expect(ftx.applies).toBe(true);
    expect(ftx.current.liquidations).toBe(1);
  }, 60_000);
});
