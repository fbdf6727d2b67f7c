/** API keys: the cache in front of the store (hits, misses, age, bound). */
import { describe, expect, it } from 'vitest';
import type { ApiKeyRecord } from '../store/store.ts';
import { ApiKeyCache, authenticate, hashApiKey, type ApiKeyLookup } from './auth.ts';

class CountingStore implements ApiKeyLookup {
  readonly keys = new Map<string, ApiKeyRecord>();
  reads = 0;
  async getApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    this.reads++;
    return this.keys.get(keyHash) ?? null;
  }
  add(key: string, id: string): void {
    this.keys.set(hashApiKey(key), { id, keyHash: hashApiKey(key), role: 'reader', createdAtMs: 0 });
  }
}

describe('ApiKeyCache', () => {
  it('reads a known key from the store once while it is fresh, then again once it is old', async () => {
    const store = new CountingStore();
    store.add('ce_one', 'key_one');
    let nowMs = 0;
    const cache = new ApiKeyCache(store, { maxKeys: 10, maxAgeMs: 1_000, clock: () => nowMs });
    for (let i = 0; i < 3; i++) expect((await authenticate(cache, 'Bearer ce_one'))?.keyId).toBe('key_one');
    expect(store.reads).toBe(1);
    nowMs = 1_000;
    await authenticate(cache, 'Bearer ce_one');
    expect(store.reads).toBe(2);
  });

  it('does not remember a miss: a key created afterwards is found at once', async () => {
    const store = new CountingStore();
    const cache = new ApiKeyCache(store, { maxKeys: 10, maxAgeMs: 60_000, clock: () => 0 });
    expect(await authenticate(cache, 'Bearer ce_late')).toBeNull();
    store.add('ce_late', 'key_late');
    expect((await authenticate(cache, 'Bearer ce_late'))?.keyId).toBe('key_late');
  });

  it('is bounded: past the bound the least recently used key is read again', async () => {
    const store = new CountingStore();
    for (const name of ['a', 'b', 'c']) store.add(`ce_${name}`, `key_${name}`);
    const cache = new ApiKeyCache(store, { maxKeys: 2, maxAgeMs: 60_000, clock: () => 0 });
    await authenticate(cache, 'Bearer ce_a');
    await authenticate(cache, 'Bearer ce_b');
    await authenticate(cache, 'Bearer ce_a'); // a is now the most recent
    await authenticate(cache, 'Bearer ce_c'); // b goes
    expect(store.reads).toBe(3);
    await authenticate(cache, 'Bearer ce_a');
    expect(store.reads).toBe(3);
    await authenticate(cache, 'Bearer ce_b');
    expect(store.reads).toBe(4);
  });
});
