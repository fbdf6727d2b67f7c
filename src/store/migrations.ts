/**
 * Versioned migrations: each adapter keeps an ordered list (its own SQL dialect) and a
 * `schema_migrations` table of the versions applied. Opening applies what is missing, in
 * order, in one transaction; opening again applies nothing. A database migrated by a newer
 * build is refused rather than written with an older idea of its schema.
 */
import { StoreSchemaError } from './errors.ts';

export interface Migration {
  /** 1, 2, 3, … with no gaps; never renumbered once released. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The migrations of `all` not in `appliedVersions`, in order. */
export function pendingMigrations(all: readonly Migration[], appliedVersions: readonly number[]): Migration[] {
  all.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new StoreSchemaError(`migration list out of order: position ${index + 1} holds version ${migration.version}`);
    }
  });
  const known = all.length;
  const unknown = appliedVersions.filter((version) => version < 1 || version > known);
  if (unknown.length > 0) {
    throw new StoreSchemaError(
      `database schema version ${Math.max(...unknown)} is newer than this build, which knows up to version ${known}`,
    );
  }
  const applied = new Set(appliedVersions);
  return all.filter((migration) => !applied.has(migration.version));
}
