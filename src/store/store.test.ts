/**
 * One suite, run against both adapters: SQLite in a temporary folder, and PostgreSQL in a
 * fresh schema per test (all dropped afterwards). PostgreSQL comes from DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test); when it is unreachable its half is skipped with a
 * loud message, or fails when REQUIRE_SERVICES=1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseRiskConfig, type RiskConfig } from '../core/config.ts';
import type { Command } from '../core/ledger/commands.ts';
import { Ledger, type SealedEvent } from '../core/ledger/ledger.ts';
import {
  StoreClosedError,
  StoreConflictError,
  StoreFailedError,
  StoreIntegrityError,
  StoreOverloadedError,
} from './errors.ts';
import { openStore } from './open.ts';
import { PostgresStore } from './postgres.ts';
import { fromRecord } from './record.ts';
import { loadLedger } from './recover.ts';
import { maybeSnapshot } from './snapshot.ts';
import { SqliteStore } from './sqlite.ts';
import type { ApiKeyRecord, CommitInfo, EventStore, StoreOptions } from './store.ts';
import { ETH_ASSET_JSON, USDC_ASSET_JSON } from '../../test/fixtures.ts';

// ── Ledgers to store ──────────────────────────────────────────────────────────────────────

/** The shape of examples/risk.json, cut down: USDC (the quote), ETH, one perp market. */
const RISK_JSON = {
  quote: 'USDC',
  assets: [
    USDC_ASSET_JSON,
    ETH_ASSET_JSON,
  ],
  markets: [{ id: 'ETH-PERP', base: 'ETH', initialMarginFraction: '0.10', maintenanceMarginFraction: '0.05' }],
};

const WAD = 10n ** 18n;
const USDC = 10n ** 6n;
const ETH = 10n ** 18n;

function parseConfig(json: unknown): RiskConfig {
  const parsed = parseRiskConfig(json);
  if (!parsed.ok) throw new Error(`invalid risk config: ${JSON.stringify(parsed.error)}`);
  return parsed.value;
}

function newLedger(): Ledger {
  return Ledger.create(parseConfig(RISK_JSON), RISK_JSON);
}

/** Executes a command that must be accepted; its sealed events. */
function execute(ledger: Ledger, command: Command): readonly SealedEvent[] {
  const outcome = ledger.execute(command);
  if (!outcome.ok) throw new Error(`command ${command.idempotencyKey} refused: ${JSON.stringify(outcome.error)}`);
  return outcome.value.events;
}

const price = (key: string, asset: string, priceWad: bigint): Command => ({
  kind: 'price',
  idempotencyKey: key,
  asset,
  priceWad,
  confidenceWad: 0n,
});
const deposit = (key: string, account: string, asset: string, amount: bigint): Command => ({
  kind: 'deposit',
  idempotencyKey: key,
  account,
  asset,
  amount,
});

/**
 * A varied, always-accepted stream: prices, new and repeat deposits (ETH amounts past 2^53),
 * a perp fill and a borrow, then `extra` price moves and deposits.
 */
function commandStream(extra = 0): Command[] {
  const commands: Command[] = [
    price('p-usdc', 'USDC', WAD),
    price('p-eth', 'ETH', 3000n * WAD),
    deposit('d-alice', 'alice', 'USDC', 100_000n * USDC),
    deposit('d-bob', 'bob', 'ETH', 10n * ETH),
    {
      kind: 'trade',
      idempotencyKey: 't1',
      market: 'ETH-PERP',
      priceWad: 3000n * WAD,
      size: 2n * ETH,
      buyer: 'alice',
      seller: 'bob',
      buyerFeeRateWad: 0n,
      sellerFeeRateWad: WAD / 1000n,
    },
    { kind: 'withdraw', idempotencyKey: 'w-bob', account: 'bob', asset: 'USDC', amount: 1_000n * USDC },
  ];
  for (let i = 0; i < extra; i++) {
    commands.push(
      i % 2 === 0
        ? price(`p-${i}`, 'ETH', (3000n + BigInt(i)) * WAD)
        : deposit(`d-${i}`, `acct-${i % 7}`, 'USDC', BigInt(i + 1) * USDC),
    );
  }
  return commands;
}

/** Executes the stream, appending each command's events (awaited one by one). */
async function appendAll(store: EventStore, ledger: Ledger, commands: readonly Command[]): Promise<void> {
  for (const command of commands) await store.append(execute(ledger, command));
}

async function readAll(store: EventStore): Promise<SealedEvent[]> {
  return (await store.read(0, 10_000)).map(fromRecord);
}

// ── The adapters under test ───────────────────────────────────────────────────────────────

/** One database location nobody else uses. */
interface Location {
  open(options?: StoreOptions): Promise<EventStore>;
  /** Raw SQL on this location's tables, past the store: tampering, torn writes, inspection. */
  rows(sql: string): Promise<Record<string, unknown>[]>;
  exec(sql: string): Promise<void>;
}

interface Adapter {
  readonly name: string;
  location(): Location;
  cleanup(): Promise<void>;
}

function sqliteAdapter(): Adapter {
  const folder = mkdtempSync(join(tmpdir(), 'collateral-store-'));
  let count = 0;
  return {
    name: 'sqlite',
    location() {
      count += 1;
      // A nested folder, so the adapter's folder creation is exercised.
      const path = join(folder, String(count), 'data', 'collateral.db');
      const withDb = <T>(use: (db: Database.Database) => T): T => {
        const db = new Database(path);
        try {
          return use(db);
        } finally {
          db.close();
        }
      };
      return {
        open: (options) => SqliteStore.open({ ...options, path }),
        rows: async (sql) => withDb((db) => db.prepare(sql).all() as Record<string, unknown>[]),
        exec: async (sql) => withDb((db) => void db.exec(sql)),
      };
    },
    async cleanup() {
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function postgresAdapter(): Adapter {
  const schemas: string[] = [];
  const run = async (schema: string | null, sql: string): Promise<Record<string, unknown>[]> => {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      if (schema !== null) await client.query(`SET search_path TO ${schema}`);
      return (await client.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  return {
    name: 'postgres',
    location() {
      const schema = `store_test_${process.pid}_${schemas.length + 1}`;
      schemas.push(schema);
      return {
        open: (options) => PostgresStore.open({ ...options, connectionString: DATABASE_URL, schema }),
        rows: (sql) => run(schema, sql),
        exec: async (sql) => void (await run(schema, sql)),
      };
    },
    async cleanup() {
      for (const schema of schemas) await run(null, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

/** Null when PostgreSQL answers, else why not. */
async function postgresProblem(): Promise<string | null> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const pgProblem = await postgresProblem();
const adapters: { name: string; make: () => Adapter }[] = [{ name: 'sqlite', make: sqliteAdapter }];
if (pgProblem === null) {
  adapters.push({ name: 'postgres', make: postgresAdapter });
} else if (process.env.REQUIRE_SERVICES === '1') {
  describe('postgres', () => {
    it('is reachable (REQUIRE_SERVICES=1)', () => {
      throw new Error(`PostgreSQL at ${DATABASE_URL} is unreachable: ${pgProblem}`);
    });
  });
} else {
  console.warn(
    `\n*** SKIPPING the PostgreSQL half of the store suite: ${DATABASE_URL} is unreachable (${pgProblem}).\n` +
      '*** Set DATABASE_URL, or REQUIRE_SERVICES=1 to make this a failure. ***\n',
  );
  describe.skip('event store on postgres (unreachable)', () => {
    it('needs PostgreSQL', () => undefined);
  });
}

// ── The suite ─────────────────────────────────────────────────────────────────────────────

describe.each(adapters)('event store on $name', ({ make }) => {
  const adapter = make();
  const opened: EventStore[] = [];
  const open = async (location: Location, options?: StoreOptions): Promise<EventStore> => {
    const store = await location.open(options);
    opened.push(store);
    return store;
  };

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });
  afterAll(() => adapter.cleanup());

  it('appends and reads back events with bigints intact', async () => {
    const store = await open(adapter.location());
    const ledger = newLedger();
    await appendAll(store, ledger, commandStream(4));

    const events = await readAll(store);
    expect(events.map((event) => event.seq)).toEqual(range(1, ledger.headSeq));
    expect(events.at(-1)?.hash).toBe(ledger.headHash);
    expect(await store.head()).toEqual({ seq: ledger.headSeq, hash: ledger.headHash });
    // 10 ETH in base units is past 2^53: it must come back as the same bigint.
    expect(events).toContainEqual(
      expect.objectContaining({ event: { type: 'CollateralDeposited', account: 'bob', asset: 'ETH', amount: 10n * ETH } }),
    );
    const replayed = newLedger();
    for (const event of events) replayed.apply(event);
    expect(replayed.stateHash()).toBe(ledger.stateHash());

    expect((await store.read(2, 3)).map((record) => record.seq)).toEqual([3, 4, 5]);
    expect(await store.read(ledger.headSeq, 10)).toEqual([]);
    await expect(store.read(0, 0)).rejects.toThrow(RangeError);
    await expect(store.read(-1, 10)).rejects.toThrow(RangeError);
  });

  it('group commit: concurrent appends share transactions, all durable, in order', async () => {
    const commits: CommitInfo[] = [];
    const store = await open(adapter.location(), { onCommit: (commit) => commits.push(commit) });
    const ledger = newLedger();
    const committedEvents = (): number => commits.reduce((sum, commit) => sum + commit.events, 0);

    /** Each caller checks, when answered, that its events were in a committed transaction. */
    const appendChecked = (command: Command): Promise<void> => {
      const events = execute(ledger, command);
      const lastSeq = events.at(-1)?.seq ?? 0;
      return store.append(events).then(() => expect(committedEvents()).toBeGreaterThanOrEqual(lastSeq));
    };
    const commands = commandStream(200);
    const firstWave = commands.slice(0, 100).map(appendChecked);
    // The second wave arrives while the first transaction is in flight (PostgreSQL) or
    // just committed (SQLite): either way it goes in later transactions, after the first.
    await new Promise((resolve) => setImmediate(resolve));
    const secondWave = commands.slice(100).map(appendChecked);
    await Promise.all([...firstWave, ...secondWave]);

    expect(commits.length).toBeLessThan(commands.length / 10);
    expect(commits.reduce((sum, commit) => sum + commit.writes, 0)).toBe(commands.length);
    expect(committedEvents()).toBe(ledger.headSeq);
    expect(store.pendingEvents()).toBe(0);
    const events = await readAll(store);
    expect(events.map((event) => event.seq)).toEqual(range(1, ledger.headSeq));
    expect(events.at(-1)?.hash).toBe(ledger.headHash);
  });

  it('refuses appends past the queue bound with a clear error', async () => {
    const store = await open(adapter.location(), { maxPendingEvents: 5 });
    const ledger = newLedger();
    const first = ['a', 'b', 'c'].flatMap((key) => execute(ledger, price(key, 'ETH', 3000n * WAD)));
    const second = ['d', 'e', 'f', 'g'].flatMap((key) => execute(ledger, price(key, 'ETH', 3000n * WAD)));

    const accepted = store.append(first);
    const refused = store.append(second);
    await expect(refused).rejects.toThrow(StoreOverloadedError);
    await expect(refused).rejects.toThrow('commit queue full: 3 events pending, 4 more requested, at most 5 may wait');
    await accepted;
    expect((await store.head()).seq).toBe(3);
  });

  it('refuses an append that does not continue the log, then every later one', async () => {
    const store = await open(adapter.location());
    const ledger = newLedger();
    const events = commandStream().flatMap((command) => execute(ledger, command));

    await expect(store.append(events.slice(1))).rejects.toThrow(StoreConflictError);
    await expect(store.append(events)).rejects.toThrow(StoreFailedError);
    expect((await store.head()).seq).toBe(0);
  });

  it('close commits what is queued; a closed store refuses appends', async () => {
    const location = adapter.location();
    const store = await open(location);
    const ledger = newLedger();
    const queued = store.append(execute(ledger, price('p', 'ETH', 3000n * WAD)));
    await store.close();
    await queued;
    await expect(store.append(execute(ledger, price('q', 'ETH', 3001n * WAD)))).rejects.toThrow(StoreClosedError);
    await expect(store.head()).rejects.toThrow(StoreClosedError);

    const reopened = await open(location);
    expect((await reopened.head()).seq).toBe(1);
  });

  it('migrations are versioned and idempotent (opening twice, even at once, applies nothing new)', async () => {
    const location = adapter.location();
    const store = await open(location);
    const ledger = newLedger();
    await appendAll(store, ledger, commandStream());
    await store.close();

    const [again, concurrent] = await Promise.all([open(location), open(location)]);
    expect(await again!.head()).toEqual({ seq: ledger.headSeq, hash: ledger.headHash });
    expect((await concurrent!.head()).seq).toBe(ledger.headSeq);
    const versions = await location.rows('SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.map((row) => Number(row.version))).toEqual([1, 2]);
  });

  it('refuses a database migrated by a newer build', async () => {
    const location = adapter.location();
    await (await open(location)).close();
    await location.exec("INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (99, 'future', 0)");
    await expect(location.open()).rejects.toThrow('database schema version 99 is newer than this build');
  });

  it('saves snapshots every N events, keeps only the newest, and finds it after reopening', async () => {
    const location = adapter.location();
    const store = await open(location);
    const ledger = newLedger();
    const taken: number[] = [];
    for (const command of commandStream(30)) {
      const appended = store.append(execute(ledger, command));
      const snapshot = maybeSnapshot(ledger, store, 10);
      await appended;
      if (await snapshot) taken.push(ledger.headSeq);
    }
    expect(taken.length).toBeGreaterThanOrEqual(3);
    const newest = taken.at(-1)!;
    expect(store.snapshotSeq()).toBe(newest);

    const latest = await store.latestSnapshot();
    expect(latest?.seq).toBe(newest);
    expect(latest?.hash).toBe((await store.read(newest - 1, 1))[0]?.hash);
    expect(Ledger.fromSnapshot(latest!.text, parseConfig).headSeq).toBe(newest);
    expect(await location.rows('SELECT seq FROM snapshots')).toHaveLength(1);
    await store.close();

    const reopened = await open(location);
    expect(reopened.snapshotSeq()).toBe(newest);
    expect(await reopened.latestSnapshot()).toEqual(latest);
  });

  it('recovery: the snapshot plus the tail reaches the state hash of a full replay', async () => {
    const location = adapter.location();
    const store = await open(location);
    const live = newLedger();
    for (const command of commandStream(60)) {
      const appended = store.append(execute(live, command));
      void maybeSnapshot(live, store, 25);
      await appended;
    }
    await store.close();

    const reopened = await open(location);
    const warnings: string[] = [];
    const fromSnapshot = await loadLedger(reopened, parseConfig, RISK_JSON, { warn: (line) => warnings.push(line) });
    const fullReplay = await loadLedger(reopened, parseConfig, RISK_JSON, { fromSnapshot: false });

    expect(fromSnapshot.snapshotSeq).toBeGreaterThan(0);
    expect(fromSnapshot.replayedEvents).toBeGreaterThan(0);
    expect(fromSnapshot.snapshotSeq + fromSnapshot.replayedEvents).toBe(live.headSeq);
    expect(fullReplay).toMatchObject({ snapshotSeq: 0, replayedEvents: live.headSeq, droppedEvents: 0 });
    expect(fromSnapshot.ledger.stateHash()).toBe(fullReplay.ledger.stateHash());
    expect(fromSnapshot.ledger.stateHash()).toBe(live.stateHash());
    expect(fromSnapshot.ledger.headHash).toBe(live.headHash);
    expect(warnings).toEqual([]);

    // The recovered ledger answers retries from before the snapshot, and carries on the chain.
    const retry = fromSnapshot.ledger.execute(commandStream()[2]!);
    expect(retry.ok && retry.value.replayed).toBe(true);
    await reopened.append(execute(fromSnapshot.ledger, price('after', 'ETH', 2999n * WAD)));
    expect((await reopened.head()).seq).toBe(live.headSeq + 1);
  });

  it('refuses to start on a tampered event in the middle, naming its seq', async () => {
    const location = adapter.location();
    const store = await open(location);
    const ledger = newLedger();
    await appendAll(store, ledger, commandStream(6));
    await store.close();
    // Event 2 is the ETH price: raise every amount in it.
    await location.exec(`UPDATE events SET body = replace(body, '"$n":"', '"$n":"9') WHERE seq = 2`);

    const reopened = await open(location);
    const refusal = loadLedger(reopened, parseConfig, RISK_JSON);
    await expect(refusal).rejects.toThrow(StoreIntegrityError);
    await expect(refusal).rejects.toMatchObject({ seq: 2, message: expect.stringContaining('event log broken at event 2') });
    expect((await reopened.head()).seq).toBe(ledger.headSeq);
  });

  it('a full replay finds tampering under the snapshot that a snapshot start skips', async () => {
    const location = adapter.location();
    const store = await open(location);
    const ledger = newLedger();
    await appendAll(store, ledger, commandStream(6));
    await maybeSnapshot(ledger, store, 1);
    await store.close();
    await location.exec(`UPDATE events SET key = 'forged' WHERE seq = 3`);

    const reopened = await open(location);
    expect((await loadLedger(reopened, parseConfig, RISK_JSON)).ledger.stateHash()).toBe(ledger.stateHash());
    await expect(loadLedger(reopened, parseConfig, RISK_JSON, { fromSnapshot: false })).rejects.toMatchObject({ seq: 3 });
  });

  it('refuses a snapshot that does not match the log', async () => {
    const location = adapter.location();
    const store = await open(location);
    const ledger = newLedger();
    await appendAll(store, ledger, commandStream(6));
    await maybeSnapshot(ledger, store, 1);
    await store.close();
    await location.exec(`UPDATE events SET hash = 'f${'0'.repeat(63)}' WHERE seq = ${ledger.headSeq}`);

    const reopened = await open(location);
    await expect(loadLedger(reopened, parseConfig, RISK_JSON)).rejects.toMatchObject({
      seq: ledger.headSeq,
      message: expect.stringContaining(`snapshot at event ${ledger.headSeq} does not match the log`),
    });
  });

  it('drops a torn last record with a warning', async () => {
    const location = adapter.location();
    const store = await open(location);
    const ledger = newLedger();
    await appendAll(store, ledger, commandStream(6));
    const before = { seq: ledger.headSeq, stateHash: ledger.stateHash() };
    await appendAll(store, ledger, [price('last', 'ETH', 2500n * WAD)]);
    await store.close();
    await location.exec(`UPDATE events SET body = substr(body, 1, 15) WHERE seq = ${ledger.headSeq}`);

    const reopened = await open(location);
    const warnings: string[] = [];
    const loaded = await loadLedger(reopened, parseConfig, RISK_JSON, { warn: (line) => warnings.push(line) });
    expect(loaded.droppedEvents).toBe(1);
    expect(loaded.ledger.headSeq).toBe(before.seq);
    expect(loaded.ledger.stateHash()).toBe(before.stateHash);
    expect(warnings).toEqual([expect.stringContaining(`dropping events ${before.seq + 1}..${before.seq + 1} of command 'last'`)]);
    expect((await reopened.head()).seq).toBe(before.seq);

    // Gone for good: the next start is clean, and the command can be sent again.
    const again = await loadLedger(reopened, parseConfig, RISK_JSON, { warn: (line) => warnings.push(line) });
    expect(warnings).toHaveLength(1);
    await reopened.append(execute(again.ledger, price('last', 'ETH', 2500n * WAD)));
  });

  it('drops every event of a torn last command, so none is half-applied', async () => {
    const location = adapter.location();
    const store = await open(location);
    const ledger = newLedger();
    await appendAll(store, ledger, commandStream(6));
    const before = { seq: ledger.headSeq, stateHash: ledger.stateHash() };
    const last = execute(ledger, deposit('carol-opens', 'carol', 'USDC', 500n * USDC));
    expect(last.length).toBeGreaterThan(1); // AccountOpened, CollateralDeposited
    await store.append(last);
    await store.close();
    await location.exec(`UPDATE events SET hash = 'torn' WHERE seq = ${ledger.headSeq}`);

    const reopened = await open(location);
    const loaded = await loadLedger(reopened, parseConfig, RISK_JSON, { warn: () => undefined });
    expect(loaded.droppedEvents).toBe(last.length);
    expect(loaded.ledger.stateHash()).toBe(before.stateHash);
    expect(loaded.ledger.state.accounts.has('carol')).toBe(false);
    expect((await reopened.head()).seq).toBe(before.seq);
  });

  it('stores API keys by hash: put, get, list by page; duplicates refused', async () => {
    const store = await open(adapter.location());
    const keys: ApiKeyRecord[] = [
      { id: 'k1', keyHash: 'h1', role: 'admin', createdAtMs: 1_700_000_000_000 },
      { id: 'k2', keyHash: 'h2', role: 'owner', account: 'alice', createdAtMs: 1_700_000_000_001 },
      { id: 'k3', keyHash: 'h3', role: 'keeper', createdAtMs: 1_700_000_000_002 },
    ];
    for (const key of keys) await store.putApiKey(key);

    expect(await store.getApiKeyByHash('h2')).toEqual(keys[1]);
    expect(await store.getApiKeyByHash('h1')).toEqual(keys[0]);
    expect(await store.getApiKeyByHash('nope')).toBeNull();
    expect(await store.listApiKeys('', 2)).toEqual(keys.slice(0, 2));
    expect(await store.listApiKeys('k2', 2)).toEqual(keys.slice(2));
    await expect(store.putApiKey({ ...keys[0]!, keyHash: 'other' })).rejects.toThrow();
    await expect(store.putApiKey({ ...keys[0]!, id: 'k4' })).rejects.toThrow();
    await expect(store.listApiKeys('', 0)).rejects.toThrow(RangeError);
  });
});

describe('openStore', () => {
  it('opens SQLite for a path', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'collateral-open-'));
    try {
      const store = await openStore(join(folder, 'x.db'), { env: {} });
      expect(store).toBeInstanceOf(SqliteStore);
      await store.close();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it.skipIf(pgProblem !== null)('opens PostgreSQL for a postgres:// URL, or DATABASE_URL when no --db is given', async () => {
    const schema = `store_test_${process.pid}_open`;
    try {
      const fromSpec = await openStore(DATABASE_URL, { schema, env: {} });
      expect(fromSpec).toBeInstanceOf(PostgresStore);
      await fromSpec.close();
      const fromEnv = await openStore(undefined, { schema, env: { DATABASE_URL } });
      expect(fromEnv).toBeInstanceOf(PostgresStore);
      await fromEnv.close();
    } finally {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}
