/**
 * Sealed events to stored rows and back. The body holds what the hash covers besides the
 * columns (the event and, on a batch's first event, its command) as canonical text, so the
 * row is exactly what Ledger.apply re-hashes: a change to any column or to the body breaks
 * the chain, and no field is stored twice to disagree with itself.
 *
 * Also: rows of both drivers to records (one mapping, so the adapters cannot drift apart).
 */
import { decodeCanonical, encodeCanonical } from '../core/ledger/codec.ts';
import type { LedgerEvent } from '../core/ledger/events.ts';
import type { Command } from '../core/ledger/commands.ts';
import type { SealedEvent } from '../core/ledger/ledger.ts';
import { StoreIntegrityError } from './errors.ts';
import { API_KEY_ROLES, type ApiKeyRecord, type EventRecord, type SnapshotRecord } from './store.ts';

interface Body {
  readonly command?: Command;
  readonly event: LedgerEvent;
}

export function toRecord(sealed: SealedEvent): EventRecord {
  const body: Body = { event: sealed.event, ...(sealed.command !== undefined && { command: sealed.command }) };
  return { seq: sealed.seq, key: sealed.key, prevHash: sealed.prevHash, hash: sealed.hash, body: encodeCanonical(body) };
}

/**
 * The sealed event a row holds. Throws StoreIntegrityError when the body is not a readable
 * event; whether the row then verifies is Ledger.apply's to judge.
 */
export function fromRecord(record: EventRecord): SealedEvent {
  const body = parseBody(record);
  return {
    seq: record.seq,
    key: record.key,
    prevHash: record.prevHash,
    hash: record.hash,
    event: body.event,
    ...(body.command !== undefined && { command: body.command }),
  };
}

function parseBody(record: EventRecord): Body {
  let value: unknown;
  try {
    value = decodeCanonical(record.body);
  } catch (error) {
    throw new StoreIntegrityError(record.seq, `event ${record.seq}: body is not valid JSON (${(error as Error).message})`);
  }
  if (!isBody(value)) throw new StoreIntegrityError(record.seq, `event ${record.seq}: body holds no event`);
  return value;
}

function isBody(value: unknown): value is Body {
  if (typeof value !== 'object' || value === null) return false;
  const event = (value as { event?: unknown }).event;
  return typeof event === 'object' && event !== null && typeof (event as { type?: unknown }).type === 'string';
}

/** An `events` row as a driver returns it (PostgreSQL returns BIGINT as text). */
export interface EventRow {
  readonly seq: number | string;
  readonly key: string;
  readonly prev_hash: string;
  readonly hash: string;
  readonly body: string;
}

export function eventFromRow(row: EventRow): EventRecord {
  return { seq: toSafeInteger(row.seq, 'events.seq'), key: row.key, prevHash: row.prev_hash, hash: row.hash, body: row.body };
}

export interface SnapshotRow {
  readonly seq: number | string;
  readonly hash: string;
  readonly body: string;
}

export function snapshotFromRow(row: SnapshotRow): SnapshotRecord {
  return { seq: toSafeInteger(row.seq, 'snapshots.seq'), hash: row.hash, text: row.body };
}

export interface ApiKeyRow {
  readonly id: string;
  readonly key_hash: string;
  readonly role: string;
  readonly account: string | null;
  readonly created_at_ms: number | string;
}

export function apiKeyFromRow(row: ApiKeyRow): ApiKeyRecord {
  const role = API_KEY_ROLES.find((known) => known === row.role);
  if (role === undefined) throw new Error(`api key ${row.id} has an unknown role '${row.role}'`);
  return {
    id: row.id,
    keyHash: row.key_hash,
    role,
    ...(row.account !== null && { account: row.account }),
    createdAtMs: toSafeInteger(row.created_at_ms, 'api_keys.created_at_ms'),
  };
}

/** A BIGINT column's value as a number; throws rather than round one past 2^53. */
export function toSafeInteger(value: number | string, column: string): number {
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(number)) throw new Error(`${column} holds ${value}, not a safe integer`);
  return number;
}
