/**
 * Configuration changes on a live book: `POST /v1/config/preflight` judges a change on the
 * live book and changes nothing; the service refuses one that makes accounts liquidatable at
 * once unless forced, and records the admin key that forced it; `collateral preflight` judges
 * the same change from the service's event log, offline.
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

  /** What a pre-flight must leave as it was: the log's head, the state hash, the configuration. */
  async function observe(): Promise<unknown> {
    return {
      seq: (await api.get('/healthz')).body.seq,
      stateHash: h.service.context.engine.ledger.stateHash(),
      config: (await api.get('/v1/config', admin)).body,
    };
  }

  describe('POST /v1/config/preflight', () => {
    it('lists the scenarios it replays; judges an acceptable change with all of them by default, for a reader, and changes nothing', async () => {
      const reader = await h.key('reader');
      const listed = await api.get('/v1/config/preflight', reader);
      expect(listed.status, listed.text).toBe(200);
      expect(listed.body.scenarios).toEqual(['black-thursday-2020', 'luna-2022', 'ftx-2022', 'usdc-depeg-2023', 'oct-2025-cascade']);
      const before = await observe();
      const reply = await api.post('/v1/config/preflight', { config: { ...RISK_CONFIG, warningRatio: '1.6' } }, reader);
      expect(reply.status, reply.text).toBe(200);
      expect(await observe()).toEqual(before);
      const report = reply.body;
      expect(report).toMatchObject({
        verdict: 'accept',
        reason: 'no account becomes liquidatable at once',
        seq: (before as { seq: number }).seq,
        stateHash: h.service.context.engine.ledger.stateHash(),
        atOnce: { accounts: 3, current: { liquidatable: 0 }, proposed: { liquidatable: 0 }, newlyLiquidatable: 0, newlyLiquidatableAccounts: [] },
      });
      expect(report.configHash).toMatch(/^[0-9a-f]{64}$/);
      expect(report.config).toBeUndefined();
      expect(report.scenarios.map((judgement: { scenario: string }) => judgement.scenario)).toEqual(listed.body.scenarios);
      const crash = report.scenarios[0];
      expect(crash).toMatchObject({ applies: true, current: { insuranceFundStartUsd: '1000.000000000000000000' } });
      expect(crash.current.liquidations).toBeGreaterThan(0);
      expect(crash.badDebtChangeUsd).toMatch(/^-?\d+\.\d{18}$/);
    });

    it('refuses a change that makes an account liquidatable at once, with the counts and the account; nothing applied', async () => {
      const before = await observe();
      const reply = await api.post('/v1/config/preflight', { config: STRICTER, scenarios: ['ftx-2022'] }, admin);
      expect(reply.status, reply.text).toBe(200);
      expect(await observe()).toEqual(before);
      expect(reply.body).toMatchObject({
        verdict: 'refuse',
        reason: '1 account(s) would be liquidatable as soon as the configuration applies',
        atOnce: {
          accounts: 3,
          current: { liquidatable: 0 },
          proposed: { liquidatable: 1 },
          newlyLiquidatable: 1,
          newlyLiquidatableAccounts: ['alice'],
        },
      });
      expect(reply.body.scenarios.map((judgement: { scenario: string }) => judgement.scenario)).toEqual(['ftx-2022']);
      // No scenario: the at-once judgement alone.
      const quick = await api.post('/v1/config/preflight', { config: STRICTER, scenarios: [] }, admin);
      expect(quick.body).toMatchObject({ verdict: 'refuse', scenarios: [] });
    });

    it('an invalid configuration is 400 INVALID_CONFIG naming the field (every issue listed); the ledger\'s own refusals as POST /v1/config answers them', async () => {
      const before = await observe();
      const invalid = {
        ...RISK_CONFIG,
        warningRatio: '0.9',
        assets: RISK_CONFIG.assets.map((asset) => (asset.id === 'ETH' ? { ...asset, collateral: { initialWeight: '1.5', maintenanceWeight: '0.85' } } : asset)),
      };
      const reply = await api.post('/v1/config/preflight', { config: invalid }, admin);
      expect(reply.status, reply.text).toBe(400);
      const error = reply.body.error;
      expect(error.code).toBe('INVALID_CONFIG');
      const fields = error.issues.map((issue: { field: string }) => issue.field);
      expect(fields).toEqual(expect.arrayContaining(['warningRatio', 'assets[1].collateral.initialWeight']));
      expect(error.field).toBe(fields[0]);
      expect(error.message).toBe(error.issues[0].message);
      // Removing an asset: the ledger's CONFIG_INCOMPATIBLE, as POST /v1/config would answer.
      const removed = await api.post('/v1/config/preflight', { config: { ...RISK_CONFIG, assets: RISK_CONFIG.assets.slice(0, 2) } }, admin);
      expect(removed.status, removed.text).toBe(422);
      expect(removed.body.error).toMatchObject({ code: 'CONFIG_INCOMPATIBLE', field: 'assets[SOL]' });
      // The oracle section is the service's own: POST /v1/config does not take it.
      const oracle = await api.post('/v1/config/preflight', { config: { ...RISK_CONFIG, oracle: {} } }, admin);
      expect(oracle.status, oracle.text).toBe(400);
      expect(oracle.body.error).toMatchObject({ code: 'INVALID_CONFIG', field: 'oracle' });
      // The body's schema: unknown fields, scenarios by built-in name only (never a path).
      for (const [body, field] of [
        [{ config: RISK_CONFIG, force: true }, 'body.force'],
        [{ config: RISK_CONFIG, scenarios: ['/etc/passwd'] }, 'body.scenarios.0'],
        [{ config: RISK_CONFIG, scenarios: 'luna-2022' }, 'body.scenarios'],
        [{ config: 'risk.json' }, 'body.config'],
      ] as const) {
        const refused = await api.post('/v1/config/preflight', body, admin);
        expect(refused.status, refused.text).toBe(400);
        expect(refused.body.error).toMatchObject({ code: 'INVALID_REQUEST', field });
      }
      expect(await observe()).toEqual(before);
    });

    it('is 403 for an owner key and an oracle key, 401 without a key', async () => {
      const owner = await h.key('owner', 'alice');
      const oracle = await h.key('oracle');
      for (const key of [owner, oracle]) {
        const reply = await api.post('/v1/config/preflight', { config: RISK_CONFIG }, key);
        expect(reply.status, reply.text).toBe(403);
        expect(reply.body.error.code).toBe('FORBIDDEN');
        expect((await api.get('/v1/config/preflight', key)).status).toBe(403);
      }
      expect((await api.post('/v1/config/preflight', { config: RISK_CONFIG })).status).toBe(401);
    });

    it('runs one pre-flight at a time: another meanwhile is 503 PREFLIGHT_BUSY', async () => {
      const replies = await Promise.all([0, 1, 2].map(() => api.post('/v1/config/preflight', { config: RISK_CONFIG }, admin)));
      const statuses = replies.map((reply) => reply.status).sort();
      expect(statuses[0], replies.map((reply) => reply.text).join('\n')).toBe(200);
      expect(statuses).toContain(503);
      for (const reply of replies.filter((one) => one.status === 503)) expect(reply.body.error.code).toBe('PREFLIGHT_BUSY');
      // Once they have answered, the next one runs.
      expect((await api.post('/v1/config/preflight', { config: RISK_CONFIG, scenarios: [] }, admin)).status).toBe(200);
    });
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
