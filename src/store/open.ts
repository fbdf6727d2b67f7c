/**
 * Chooses the adapter from a `--db` value: a postgres:// (or postgresql://) URL opens
 * PostgreSQL, anything else is a SQLite file path. Without one, DATABASE_URL is used when
 * set, else the embedded default ./data/collateral.db.
 */
import { PostgresStore } from './postgres.ts';
import { DEFAULT_SQLITE_PATH, SqliteStore } from './sqlite.ts';
import type { EventStore, StoreOptions } from './store.ts';

export interface OpenStoreOptions extends StoreOptions {
  /** PostgreSQL schema (default DEFAULT_PG_SCHEMA); ignored for SQLite. */
  readonly schema?: string;
  /** Where DATABASE_URL is read from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

export function openStore(dbSpec?: string, options: OpenStoreOptions = {}): Promise<EventStore> {
  const { schema, env = process.env, ...storeOptions } = options;
  const spec = dbSpec ?? nonEmpty(env.DATABASE_URL) ?? DEFAULT_SQLITE_PATH;
  if (POSTGRES_URL.test(spec)) {
    return PostgresStore.open({ ...storeOptions, connectionString: spec, ...(schema !== undefined && { schema }) });
  }
  return SqliteStore.open({ ...storeOptions, path: spec });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
