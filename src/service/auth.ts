/**
 * API keys and who may do what. A key is 32 random bytes shown once at creation; the store
 * keeps only its SHA-256. Each key has one role; an `owner` key is bound to one account, and
 * a `keeper` key may be bound to the account it liquidates from.
 */
import { createHash, randomBytes } from 'node:crypto';
import { API_KEY_ROLES, type ApiKeyRecord, type ApiKeyRole, type EventStore } from '../store/store.ts';

export { API_KEY_ROLES, type ApiKeyRole };

export interface Principal {
  readonly keyId: string;
  readonly role: ApiKeyRole;
  readonly account?: string;
}

const KEY_PREFIX = 'ce_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export interface NewApiKey {
  /** The key itself: shown once, never stored. */
  readonly key: string;
  readonly record: ApiKeyRecord;
}

export function isApiKeyRole(role: string): role is ApiKeyRole {
  return (API_KEY_ROLES as readonly string[]).includes(role);
}

/** Makes and stores a key. `account` is required for owners and optional for keepers. */
export async function createApiKey(
  store: EventStore,
  role: ApiKeyRole,
  account: string | undefined,
  nowMs: number,
): Promise<NewApiKey> {
  if (role === 'owner' && account === undefined) throw new Error('an owner key needs --account');
  if (account !== undefined && role !== 'owner' && role !== 'keeper') {
    throw new Error(`a ${role} key is not bound to an account; --account is for owner and keeper keys`);
  }
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const record: ApiKeyRecord = {
    id: `key_${randomBytes(8).toString('hex')}`,
    keyHash: hashApiKey(key),
    role,
    createdAtMs: nowMs,
    ...(account !== undefined && { account }),
  };
  await store.putApiKey(record);
  return { key, record };
}

/** Where keys are looked up by hash: the store itself, or an ApiKeyCache in front of it. */
export type ApiKeyLookup = Pick<EventStore, 'getApiKeyByHash'>;

/** The principal behind an `Authorization: Bearer …` header, or null. */
export async function authenticate(keys: ApiKeyLookup, header: string | undefined): Promise<Principal | null> {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (match?.[1] === undefined) return null;
  const record = await keys.getApiKeyByHash(hashApiKey(match[1]));
  if (record === null) return null;
  return { keyId: record.id, role: record.role, ...(record.account !== undefined && { account: record.account }) };
}

export interface ApiKeyCacheOptions {
  /** Keys remembered at most; past it the least recently used is forgotten. */
  readonly maxKeys: number;
  /** A remembered key is looked up again after this long. */
  readonly maxAgeMs: number;
  readonly clock: () => number;
}

/**
 * Keys by hash in front of the store, so that a request costs one SHA-256 and no database
 * read. Only keys found are remembered (a key created while the service runs is found at
 * once); the map is bounded (least recently used out first), and an entry is looked up
 * again after `maxAgeMs`: the store cannot change or revoke a key today, and the age bounds
 * how long a future revocation would go unseen.
 */
export class ApiKeyCache implements ApiKeyLookup {
  private readonly entries = new Map<string, { readonly record: ApiKeyRecord; readonly atMs: number }>();

  constructor(
    private readonly store: ApiKeyLookup,
    private readonly options: ApiKeyCacheOptions,
  ) {
    if (!Number.isSafeInteger(options.maxKeys) || options.maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, got ${options.maxKeys}`);
  }

  async getApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    const nowMs = this.options.clock();
    const cached = this.entries.get(keyHash);
    this.entries.delete(keyHash);
    if (cached !== undefined && nowMs - cached.atMs < this.options.maxAgeMs) {
      this.entries.set(keyHash, cached);
      return cached.record;
    }
    const record = await this.store.getApiKeyByHash(keyHash);
    if (record === null) return null;
    this.entries.set(keyHash, { record, atMs: nowMs });
    if (this.entries.size > this.options.maxKeys) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return record;
  }
}

/**
 * Per-key token buckets: `ratePerSecond` sustained, bursts up to one second's worth. The map
 * is bounded: past `maxKeys` the oldest buckets are forgotten (they refill anyway).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Takes one token for `keyId`; false when the key is over its rate. */
  take(keyId: string, nowMs: number): boolean {
    const bucket = this.buckets.get(keyId) ?? { tokens: this.ratePerSecond, atMs: nowMs };
    const refilled = Math.min(this.ratePerSecond, bucket.tokens + ((nowMs - bucket.atMs) * this.ratePerSecond) / 1000);
    const allowed = refilled >= 1;
    this.buckets.delete(keyId);
    this.buckets.set(keyId, { tokens: allowed ? refilled - 1 : refilled, atMs: nowMs });
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    return allowed;
  }
}
