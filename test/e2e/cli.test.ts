/**
 * The `collateral` command as a user runs it (`node bin/collateral.js …`), against the
 * SQLite file of a service started in-process: `keys create` prints the key alone on the
 * first line and the running service accepts it; `replay` reaches the service's state hash
 * and fails, without changing the log, when an event was tampered with.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, idem, setPrices, startHarness, type Harness } from './harness.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function collateral(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/collateral.js', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: '' } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('collateral keys create', () => {
  let folder: string;
  let h: Harness;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'collateral-cli-'));
    h = await startHarness({ folder });
  });

  afterAll(async () => {
    await h?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('prints the key alone on the first line; it is stored hashed and the running service accepts it', async () => {
    const run = await collateral('keys', 'create', '--role', 'reader', '--db', h.dbPath);
    expect(run.code, run.stderr).toBe(0);
    const [first, second] = run.stdout.split('\n');
    expect(first).toMatch(/^ce_[A-Za-z0-9_-]{43}$/);
    expect(second).toMatch(/^id key_[0-9a-f]+ role reader$/);
    const key = first!;

    const reply = await client(h.url).get('/v1/prices', key);
    expect(reply.status, reply.text).toBe(200);
    expect((await client(h.url).post('/v1/accounts/a/deposits', { asset: 'USDC', amount: '1', idempotencyKey: idem() }, key)).status).toBe(403);

    const db = new Database(h.dbPath, { readonly: true });
    try {
      const rows = db.prepare('SELECT * FROM api_keys').all() as Record<string, unknown>[];
      const row = rows.find((entry) => entry.key_hash === createHash('sha256').update(key).digest('hex'));
      expect(row).toMatchObject({ role: 'reader', account: null });
      expect(JSON.stringify(rows)).not.toContain(key);
    } finally {
      db.close();
    }
  });

  it('an owner key is bound to its account', async () => {
    const run = await collateral('keys', 'create', '--role', 'owner', '--account', 'alice', '--db', h.dbPath);
    expect(run.code, run.stderr).toBe(0);
    const key = run.stdout.split('\n')[0]!;
    expect(run.stdout.split('\n')[1]).toMatch(/role owner account alice$/);
    const api = client(h.url);
    expect((await api.get('/v1/accounts/bob', key)).body.error.code).toBe('FORBIDDEN');
  });

  it('--role owner without --account, or an unknown role, exits non-zero with a message and makes no key', async () => {
    const countKeys = (): number => {
      const db = new Database(h.dbPath, { readonly: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM api_keys').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const before = countKeys();
    const [owner, role] = await Promise.all([
      collateral('keys', 'create', '--role', 'owner', '--db', h.dbPath),
      collateral('keys', 'create', '--role', 'wizard', '--db', h.dbPath),
    ]);
    expect(owner.code).not.toBe(0);
    expect(owner.stdout).toBe('');
    expect(owner.stderr).toContain('--account is required for an owner key');
    expect(role.code).not.toBe(0);
    expect(role.stderr).toContain('--role: "wizard" is not one of');
    expect(countKeys()).toBe(before);
  });
});

describe('collateral replay', () => {
  let folder: string;
  let h: Harness;
  let stateHash: string;
  let eventCount: number;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'collateral-cli-'));
    // Snapshots every 5 events: replay also checks that snapshot + tail reaches the same hash.
    h = await startHarness({ folder, snapshotEveryEvents: 5 });
    const api = client(h.url);
    const venue = await h.key('venue');
    await setPrices(h, await h.key('oracle'), { USDC: '1', ETH: '3000', SOL: '150' });
    for (const [id, asset, amount] of [
      ['mm', 'USDC', '100000'],
      ['alice', 'ETH', '2'],
      ['bob', 'USDC', '1000'],
    ] as const) {
      expect((await api.post(`/v1/accounts/${id}/deposits`, { asset, amount, idempotencyKey: idem() }, venue)).status).toBe(200);
    }
    expect((await api.post('/v1/accounts/alice/withdrawals', { asset: 'USDC', amount: '500', idempotencyKey: idem() }, venue)).status).toBe(200);
    const trade = await api.post(
      '/v1/trades',
      { market: 'ETH-PERP', price: '3000', size: '1', buyer: 'bob', seller: 'mm', idempotencyKey: idem() },
      venue,
    );
    expect(trade.status, trade.text).toBe(200);
    stateHash = h.service.context.engine.ledger.stateHash();
    eventCount = h.service.context.engine.ledger.headSeq;
  });

  afterAll(async () => {
    await h?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  function events(): { seq: number; body: string }[] {
    const db = new Database(h.dbPath, { readonly: true });
    try {
      return db.prepare('SELECT seq, body FROM events ORDER BY seq').all() as { seq: number; body: string }[];
    } finally {
      db.close();
    }
  }

  function setBody(seq: number, body: string): void {
    const db = new Database(h.dbPath);
    try {
      db.prepare('UPDATE events SET body = ? WHERE seq = ?').run(body, seq);
    } finally {
      db.close();
    }
  }

  it("prints JSON with the service's state hash and match: true", async () => {
    expect(h.service.context.store.snapshotSeq()).toBeGreaterThan(0);
    const run = await collateral('replay', '--db', h.dbPath);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(result).toEqual({
      seq: eventCount,
      headHash: h.service.context.engine.ledger.headHash,
      stateHash,
      events: eventCount,
      match: true,
    });
    expect(result.stateHash).toBe(h.service.context.engine.ledger.stateHash());
  });

  it('exits non-zero when an event in the middle of the log was tampered with', async () => {
    await h.close(); // the folder stays: it is this suite's
    const original = events();
    const target = original.find((row) => row.body.includes('"CollateralDeposited"'))!;
    expect(target.seq).toBeLessThan(eventCount);
    const tampered = target.body.replace(/"\$n":"(\d+)"/, (_match, digits: string) => `"$n":"${digits}1"`);
    expect(tampered).not.toBe(target.body);
    setBody(target.seq, tampered);
    try {
      const run = await collateral('replay', '--db', h.dbPath);
      expect(run.code).not.toBe(0);
      expect(run.stdout).not.toContain('"match":true');
      expect(run.stderr).toContain(`event ${target.seq}`);
      expect(events()).toEqual(original.map((row) => (row.seq === target.seq ? { ...row, body: tampered } : row)));
    } finally {
      setBody(target.seq, target.body);
    }
  });

  it('exits non-zero when the last event was tampered with, and leaves the log as it was', async () => {
    const original = events();
    const last = original.at(-1)!;
    const tampered = last.body.replace(/"\$n":"(\d+)"/, (_match, digits: string) => `"$n":"${digits}1"`);
    expect(tampered).not.toBe(last.body);
    setBody(last.seq, tampered);
    try {
      const run = await collateral('replay', '--db', h.dbPath);
      expect(run.code).not.toBe(0);
      expect(run.stdout).not.toContain('"match":true');
      expect(run.stderr).toContain('do not verify');
      // Replay only reads: the events are all still there, the tampered one as it was found.
      expect(events()).toEqual(original.map((row) => (row.seq === last.seq ? { ...row, body: tampered } : row)));
    } finally {
      setBody(last.seq, last.body);
    }
  });
});
