/**
 * The embedded event store: one SQLite file (better-sqlite3), the default under ./data/.
 * WAL with synchronous=FULL: a commit returns only after the WAL is fsynced, so an
 * acknowledged event survives a crash or power loss. The driver is synchronous; the group
 * commit queue still batches, because appends made in one turn of the event loop share a
 * transaction.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { SealedEvent } from '../core/ledger/ledger.ts';
import { checkContinues, checkEventPage, checkPageLimit, EMPTY_HEAD } from './chain.ts';
import { StoreClosedError } from './errors.ts';
import { GroupCommitQueue, type CommitGroup } from './group-commit.ts';
import { pendingMigrations, type Migration } from './migrations.ts';
import {
  apiKeyFromRow,
  eventFromRow,
  snapshotFromRow,
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

export const DEFAULT_SQLITE_PATH = './data/collateral.db';

/** How long a connection waits for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'event log and snapshots',
    // INTEGER PRIMARY KEY makes seq the rowid: the log is stored in seq order.
    sql: `
      CREATE TABLE events (
        seq       INTEGER PRIMARY KEY,
        key       TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL,
        body      TEXT NOT NULL
      );
      CREATE TABLE snapshots (
        seq  INTEGER PRIMARY KEY,
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
        created_at_ms INTEGER NOT NULL
      );`,
  },
];

export interface SqliteStoreOptions extends StoreOptions {
  /** Database file; its folder is created. Default DEFAULT_SQLITE_PATH. */
  readonly path?: string;
}

export class SqliteStore implements EventStore {
  private readonly queue: GroupCommitQueue;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly writeGroup: Database.Transaction<(group: CommitGroup) => void>;
  private closed = false;
  /** The one shutdown, shared by every close() call. */
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly db: Database.Database,
    options: StoreOptions,
  ) {
    this.statements = prepareStatements(db);
    this.writeGroup = db.transaction((group: CommitGroup) => this.writeInTransaction(group));
    const latest = this.statements.latestSnapshotSeq.get() as { seq: number | null };
    this.queue = new GroupCommitQueue((group) => this.commit(group), {
      maxPendingEvents: options.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS,
      snapshotSeq: latest.seq ?? 0,
      ...(options.onCommit !== undefined && { onCommit: options.onCommit }),
    });
  }

  /** Opens (creating the file and folder if needed) and migrates. */
  static async open(options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const path = options.path ?? DEFAULT_SQLITE_PATH;
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      configureDurability(db);
      migrate(db);
      return new SqliteStore(db, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  async head(): Promise<ChainHead> {
    this.assertOpen();
    return this.readHead();
  }

  append(events: readonly SealedEvent[]): Promise<void> {
    return this.queue.append(events);
  }

  async read(afterSeq: number, limit: number): Promise<EventRecord[]> {
    this.assertOpen();
    checkEventPage(afterSeq, limit);
    return (this.statements.readEvents.all(afterSeq, limit) as EventRow[]).map(eventFromRow);
  }

  async truncateFrom(seq: number): Promise<void> {
    this.assertOpen();
    this.statements.truncate.run(seq);
  }

  saveSnapshot(snapshot: SnapshotRecord): Promise<void> {
    return this.queue.saveSnapshot(snapshot);
  }

  async latestSnapshot(): Promise<SnapshotRecord | null> {
    this.assertOpen();
    const row = this.statements.latestSnapshot.get() as SnapshotRow | undefined;
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
    this.statements.putApiKey.run(key.id, key.keyHash, key.role, key.account ?? null, key.createdAtMs);
  }

  async getApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    this.assertOpen();
    const row = this.statements.apiKeyByHash.get(keyHash) as ApiKeyRow | undefined;
    return row === undefined ? null : apiKeyFromRow(row);
  }

  async listApiKeys(afterId: string, limit: number): Promise<ApiKeyRecord[]> {
    this.assertOpen();
    checkPageLimit(limit);
    return (this.statements.listApiKeys.all(afterId, limit) as ApiKeyRow[]).map(apiKeyFromRow);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await this.queue.close();
    this.closed = true;
    this.db.close();
  }

  /** One group, one IMMEDIATE transaction (the write lock taken up front, so it cannot deadlock upgrading). */
  private async commit(group: CommitGroup): Promise<void> {
    this.writeGroup.immediate(group);
  }

  /** Runs inside the transaction: verify against the stored head, then write. */
  private writeInTransaction(group: CommitGroup): void {
    checkContinues(this.readHead(), group.events, group.snapshot);
    for (const event of group.events) {
      this.statements.insertEvent.run(event.seq, event.key, event.prevHash, event.hash, event.body);
    }
    if (group.snapshot !== null) {
      this.statements.insertSnapshot.run(group.snapshot.seq, group.snapshot.hash, group.snapshot.text);
      this.statements.pruneSnapshots.run(group.snapshot.seq);
    }
  }

  private readHead(): ChainHead {
    const row = this.statements.head.get() as { seq: number; hash: string } | undefined;
    return row === undefined ? EMPTY_HEAD : { seq: row.seq, hash: row.hash };
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

/** WAL lets readers run beside the writer; FULL fsyncs the WAL at every commit (durability). */
function configureDurability(db: Database.Database): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw new Error(`sqlite: could not enable WAL (journal_mode is ${String(mode)})`);
  db.pragma('synchronous = FULL');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
}

/** Applies pending migrations in one IMMEDIATE transaction, so two processes opening at once apply them once. */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version       INTEGER PRIMARY KEY,
      name          TEXT NOT NULL,
      applied_at_ms INTEGER NOT NULL
    )`);
    const applied = (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
      (row) => row.version,
    );
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)');
    for (const migration of pendingMigrations(MIGRATIONS, applied)) {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
    }
  }).immediate();
}

function prepareStatements(db: Database.Database) {
  return {
    head: db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1'),
    insertEvent: db.prepare('INSERT INTO events (seq, key, prev_hash, hash, body) VALUES (?, ?, ?, ?, ?)'),
    readEvents: db.prepare('SELECT seq, key, prev_hash, hash, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
    truncate: db.prepare('DELETE FROM events WHERE seq >= ?'),
    insertSnapshot: db.prepare('INSERT OR REPLACE INTO snapshots (seq, hash, body) VALUES (?, ?, ?)'),
    pruneSnapshots: db.prepare('DELETE FROM snapshots WHERE seq < ?'),
    latestSnapshot: db.prepare('SELECT seq, hash, body FROM snapshots ORDER BY seq DESC LIMIT 1'),
    latestSnapshotSeq: db.prepare('SELECT max(seq) AS seq FROM snapshots'),
    putApiKey: db.prepare(
      'INSERT INTO api_keys (id, key_hash, role, account, created_at_ms) VALUES (?, ?, ?, ?, ?)',
    ),
    apiKeyByHash: db.prepare('SELECT id, key_hash, role, account, created_at_ms FROM api_keys WHERE key_hash = ?'),
    listApiKeys: db.prepare(
      'SELECT id, key_hash, role, account, created_at_ms FROM api_keys WHERE id > ? ORDER BY id LIMIT ?',
    ),
  };
}
