/**
 * The PostgreSQL event store (the system of record when the engine runs beside other
 * services). Tables live in one schema, set as every pooled connection's search_path, so the
 * SQL reads like SQLite's and tests can each use a fresh schema. Commits run with
 * synchronous_commit on whatever the server's default: COMMIT returns once the WAL is flushed.
 */
import pg from 'pg';
import type { SealedEvent } from '../core/ledger/ledger.ts';
import { checkContinues, checkEventPage, checkPageLimit, EMPTY_HEAD } from './chain.ts';
import { StoreClosedError } from './errors.ts';
import { GroupCommitQueue, type CommitGroup } from './group-commit.ts';
import { pendingMigrations, type Migration } from './migrations.ts';
import {
  apiKeyFromRow,
  eventFromRow,
  snapshotFromRow,
  toSafeInteger,
  type ApiKeyRow,
  type EventRow,
  type SnapshotRow,
} from './record.ts';
import {
  DEFAULT_MAX_PENDING_EVENTS,
  type ApiKeyRecord,
  type ChainHead,
  type EventRecord,
  type EventStore,
  type SnapshotRecord,
  type StoreOptions,
} from './store.ts';

export const DEFAULT_PG_SCHEMA = 'collateral';
const DEFAULT_POOL_MAX = 4;
/** Rows per INSERT statement: 5 parameters each, far below PostgreSQL's 65,535. */
const INSERT_ROWS_MAX = 1_000;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'event log and snapshots',
    sql: `
      CREATE TABLE events (
        seq       BIGINT PRIMARY KEY,
        key       TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL,
        body      TEXT NOT NULL
      );
      CREATE TABLE snapshots (
        seq  BIGINT PRIMARY KEY,
        hash TEXT NOT NULL,
        body TEXT NOT NULL
      );`,
  },
  {
    version: 2,
    name: 'api keys',
    sql: `
      CREATE TABLE api_keys (
        id            TEXT PRIMARY KEY,
        key_hash      TEXT NOT NULL UNIQUE,
        role          TEXT NOT NULL,
        account       TEXT,
        created_at_ms BIGINT NOT NULL
      );`,
  },
];

export interface PostgresStoreOptions extends StoreOptions {
  /** postgres://user@host:port/database */
  readonly connectionString: string;
  /** Schema holding the tables, created if missing: lower-case letters, digits, underscores. */
  readonly schema?: string;
  /** Pooled connections: commits use one at a time, reads the others. */
  readonly poolMax?: number;
}

export class PostgresStore implements EventStore {
  private readonly queue: GroupCommitQueue;
  private closed = false;
  /** The one shutdown, shared by every close() call. */
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly pool: pg.Pool,
    snapshotSeq: number,
    options: StoreOptions,
  ) {
    this.queue = new GroupCommitQueue((group) => this.commit(group), {
      maxPendingEvents: options.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS,
      snapshotSeq,
      ...(options.onCommit !== undefined && { onCommit: options.onCommit }),
    });
  }

  /** Connects, creates the schema if needed and migrates. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = options.schema ?? DEFAULT_PG_SCHEMA;
    if (!SCHEMA_NAME.test(schema)) throw new Error(`postgres: invalid schema name '${schema}'`);
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolMax ?? DEFAULT_POOL_MAX,
      options: `-c search_path=${schema}`,
    });
    // An idle connection dropped by the server is reported here; unhandled, it would crash the process.
    pool.on('error', (error) => console.error('event store: idle postgres connection failed', error));
    try {
      await migrate(pool, schema);
      const { rows } = await pool.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM snapshots');
      const snapshotSeq = rows[0]?.seq ?? null;
      return new PostgresStore(pool, snapshotSeq === null ? 0 : toSafeInteger(snapshotSeq, 'snapshots.seq'), options);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  async head(): Promise<ChainHead> {
    this.assertOpen();
    return readHead(this.pool);
  }

  append(events: readonly SealedEvent[]): Promise<void> {
    return this.queue.append(events);
  }

  async read(afterSeq: number, limit: number): Promise<EventRecord[]> {
    this.assertOpen();
    checkEventPage(afterSeq, limit);
    const { rows } = await this.pool.query<EventRow>(
      'SELECT seq, key, prev_hash, hash, body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2',
      [afterSeq, limit],
    );
    return rows.map(eventFromRow);
  }

  async truncateFrom(seq: number): Promise<void> {
    this.assertOpen();
    await this.pool.query('DELETE FROM events WHERE seq >= $1', [seq]);
  }

  saveSnapshot(snapshot: SnapshotRecord): Promise<void> {
    return this.queue.saveSnapshot(snapshot);
  }

  async latestSnapshot(): Promise<SnapshotRecord | null> {
    this.assertOpen();
    const { rows } = await this.pool.query<SnapshotRow>('SELECT seq, hash, body FROM snapshots ORDER BY seq DESC LIMIT 1');
    const row = rows[0];
    return row === undefined ? null : snapshotFromRow(row);
  }

  snapshotSeq(): number {
    return this.queue.snapshotSeq();
  }

  pendingEvents(): number {
    return this.queue.pendingEvents();
  }

  async putApiKey(key: ApiKeyRecord): Promise<void> {
    this.assertOpen();
    await this.pool.query('INSERT INTO api_keys (id, key_hash, role, account, created_at_ms) VALUES ($1, $2, $3, $4, $5)', [
      key.id,
      key.keyHash,
      key.role,
      key.account ?? null,
      key.createdAtMs,
    ]);
  }

  async getApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    this.assertOpen();
    const { rows } = await this.pool.query<ApiKeyRow>(
      'SELECT id, key_hash, role, account, created_at_ms FROM api_keys WHERE key_hash = $1',
      [keyHash],
    );
    const row = rows[0];
    return row === undefined ? null : apiKeyFromRow(row);
  }

  async listApiKeys(afterId: string, limit: number): Promise<ApiKeyRecord[]> {
    this.assertOpen();
    checkPageLimit(limit);
    // COLLATE "C": byte order, the same order as SQLite's, whatever the database's locale.
    const { rows } = await this.pool.query<ApiKeyRow>(
      'SELECT id, key_hash, role, account, created_at_ms FROM api_keys WHERE id > $1 COLLATE "C" ORDER BY id COLLATE "C" LIMIT $2',
      [afterId, limit],
    );
    return rows.map(apiKeyFromRow);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await this.queue.close();
    this.closed = true;
    await this.pool.end();
  }

  private commit(group: CommitGroup): Promise<void> {
    return inTransaction(this.pool, async (client) => {
      // Durable at COMMIT even if the server's default has been relaxed.
      await client.query('SET LOCAL synchronous_commit TO on');
      checkContinues(await readHead(client), group.events, group.snapshot);
      for (let start = 0; start < group.events.length; start += INSERT_ROWS_MAX) {
        await insertEvents(client, group.events.slice(start, start + INSERT_ROWS_MAX));
      }
      if (group.snapshot !== null) await replaceSnapshot(client, group.snapshot);
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

type Queryable = pg.Pool | pg.PoolClient;

async function readHead(db: Queryable): Promise<ChainHead> {
  const { rows } = await db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
  const row = rows[0];
  return row === undefined ? EMPTY_HEAD : { seq: toSafeInteger(row.seq, 'events.seq'), hash: row.hash };
}

async function insertEvents(client: pg.PoolClient, events: readonly EventRecord[]): Promise<void> {
  const values: unknown[] = [];
  const tuples = events.map((event, index) => {
    values.push(event.seq, event.key, event.prevHash, event.hash, event.body);
    const at = index * 5;
    return `($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5})`;
  });
  await client.query(`INSERT INTO events (seq, key, prev_hash, hash, body) VALUES ${tuples.join(', ')}`, values);
}

/** Only the newest snapshot is kept: recovery reads no other. */
async function replaceSnapshot(client: pg.PoolClient, snapshot: SnapshotRecord): Promise<void> {
  await client.query(
    'INSERT INTO snapshots (seq, hash, body) VALUES ($1, $2, $3) ON CONFLICT (seq) DO UPDATE SET hash = EXCLUDED.hash, body = EXCLUDED.body',
    [snapshot.seq, snapshot.hash, snapshot.text],
  );
  await client.query('DELETE FROM snapshots WHERE seq < $1', [snapshot.seq]);
}

/**
 * Creates the schema and applies pending migrations in one transaction, under an advisory
 * lock per schema so that two processes opening at once apply them once.
 */
async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`collateral-migrations:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version       INTEGER PRIMARY KEY,
      name          TEXT NOT NULL,
      applied_at_ms BIGINT NOT NULL
    )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    for (const migration of pendingMigrations(
      MIGRATIONS,
      rows.map((row) => row.version),
    )) {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        Date.now(),
      ]);
    }
  });
}

/** Runs `work` in a transaction on one pooled connection; a connection that cannot roll back is discarded. */
async function inTransaction(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query('COMMIT');
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError as Error;
    }
    throw error;
  } finally {
    client.release(broken);
  }
}
