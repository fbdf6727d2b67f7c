/**
 * The account answer cache: what it keeps, what each kind of event makes it forget, its
 * bound; and, through a service over HTTP, that a kept answer is never staler than the state
 * (a deposit, a price, a trade each show in the next read).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEvent } from '../core/ledger/events.ts';
import type { SealedEvent } from '../core/ledger/ledger.ts';
import { emptyRecord, SYSTEM, type AccountRecord } from '../core/ledger/state.ts';
import { AccountAnswerCache } from './account-answers.ts';
import { createApiKey } from './auth.ts';
import { startService, type RunningService } from './service.ts';

function sealed(event: LedgerEvent): SealedEvent {
  return { seq: 1, key: 'k', event, prevHash: '0', hash: '1' };
}

function withPerp(id: string): AccountRecord {
  const record = emptyRecord(id, id);
  return { ...record, perps: new Map([['ETH-PERP', { market: 'ETH-PERP', size: 1n, entryPriceWad: 1n, fundingIndexWad: 0n }]]) } as AccountRecord;
}

describe('AccountAnswerCache', () => {
  it('keeps answers of user accounts without perps only', () => {
    const cache = new AccountAnswerCache(10);
    cache.remember(emptyRecord('alice', 'alice'), { id: 'alice' });
    cache.remember(emptyRecord(SYSTEM.custody, SYSTEM.custody), { id: SYSTEM.custody });
    cache.remember(withPerp('bob'), { id: 'bob' });
    expect(cache.get('alice')).toEqual({ id: 'alice' });
    expect(cache.get(SYSTEM.custody)).toBeUndefined();
    expect(cache.get('bob')).toBeUndefined();
  });

  it('given answers for two accounts, when one deposits, then only its answer is forgotten', () => {
    const cache = new AccountAnswerCache(10);
    cache.remember(emptyRecord('alice', 'alice'), { id: 'alice' });
    cache.remember(emptyRecord('carol', 'carol'), { id: 'carol' });
    cache.onApplied([sealed({ type: 'CollateralDeposited', account: 'alice', asset: 'USDC', amount: 1n })]);
    expect(cache.get('alice')).toBeUndefined();
    expect(cache.get('carol')).toEqual({ id: 'carol' });
  });

  it('forgets both sides of a transfer', () => {
    const cache = new AccountAnswerCache(10);
    for (const id of ['alice', 'carol', 'dave']) cache.remember(emptyRecord(id, id), { id });
    cache.onApplied([sealed({ type: 'Transferred', from: 'alice', to: 'carol', asset: 'USDC', amount: 1n })]);
    expect([cache.get('alice'), cache.get('carol'), cache.get('dave')]).toEqual([undefined, undefined, { id: 'dave' }]);
  });

  it('forgets everything on any event that does not name the accounts it changes', () => {
    const cache = new AccountAnswerCache(10);
    cache.remember(emptyRecord('alice', 'alice'), { id: 'alice' });
    cache.onApplied([
      sealed({ type: 'PriceUpdated', asset: 'ETH', priceWad: 1n, confidenceWad: 0n, healthy: true, reasons: [] } as LedgerEvent),
    ]);
    expect(cache.size).toBe(0);
  });

  it('is bounded: past the bound the oldest answer goes', () => {
    const cache = new AccountAnswerCache(2);
    for (const id of ['a', 'b', 'c']) cache.remember(emptyRecord(id, id), { id });
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, { id: 'b' }, { id: 'c' }]);
  });
});

describe('account answers over HTTP are never stale', () => {
  const folder = mkdtempSync(join(tmpdir(), 'collateral-answers-'));
  let service: RunningService;
  let key = '';
  const config = {
    quote: 'USDC',
    assets: [
      { id: 'USDC', decimals: 6, collateral: { initialWeight: '1', maintenanceWeight: '1' }, liability: { initialWeight: '1.05', maintenanceWeight: '1.02' }, liquidationPenalty: '0.02' },
      { id: 'ETH', decimals: 18, collateral: { initialWeight: '0.8', maintenanceWeight: '0.85' }, liability: { initialWeight: '1.1', maintenanceWeight: '1.05' }, liquidationPenalty: '0.05' },
    ],
    markets: [{ id: 'ETH-PERP', base: 'ETH', initialMarginFraction: '0.1', maintenanceMarginFraction: '0.05' }],
  };

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> => {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const deposit = (account: string, asset: string, amount: string, idempotencyKey: string) =>
    call('POST', `/v1/accounts/${account}/deposits`, { asset, amount, idempotencyKey });
  const pushPrice = async (asset: string, price: string): Promise<void> => {
    const results = await service.context.prices.push([{ source: 'test', asset, price, timestampMs: service.context.clock() }]);
    expect(results[0]?.status).toBe('accepted');
  };

  beforeAll(async () => {
    service = await startService({
      configJson: config,
      db: join(folder, 'answers.db'),
      port: 0,
      host: '127.0.0.1',
      autoLiquidate: false,
      rateLimitPerSecond: 1_000_000,
      tickMs: 3_600_000,
    });
    key = (await createApiKey(service.context.store, 'admin', undefined, Date.now())).key;
    await pushPrice('USDC', '1');
    await pushPrice('ETH', '3000');
  });

  afterAll(async () => {
    await service.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('shows a deposit, a price move and a new perp position in the next read', async () => {
    expect((await deposit('alice', 'ETH', '1', 'a1')).status).toBe(200);
    expect((await deposit('carol', 'USDC', '5000', 'c1')).status).toBe(200);
    const first = await call('GET', '/v1/accounts/alice');
    expect(first.body.balances).toEqual({ ETH: '1' });
    expect(await call('GET', '/v1/accounts/alice')).toEqual(first);
    expect(service.context.accountAnswers.get('alice')).toBeDefined();

    // A deposit to another account leaves alice's answer kept; one to alice does not.
    expect((await deposit('carol', 'USDC', '1', 'c2')).status).toBe(200);
    expect(service.context.accountAnswers.get('alice')).toBeDefined();
    const deposited = await deposit('alice', 'ETH', '0.5', 'a2');
    expect(deposited.body.account.balances).toEqual({ ETH: '1.5' });
    expect((await call('GET', '/v1/accounts/alice')).body.balances).toEqual({ ETH: '1.5' });

    // A price move changes every valuation.
    const before = (await call('GET', '/v1/accounts/alice')).body.maintenance;
    await pushPrice('ETH', '3100');
    const after = (await call('GET', '/v1/accounts/alice')).body.maintenance;
    expect(after).not.toEqual(before);

    // A trade gives positions: those answers are computed each time (they depend on others).
    const trade = await call('POST', '/v1/trades', { market: 'ETH-PERP', price: '3100', size: '0.1', buyer: 'alice', seller: 'carol', idempotencyKey: 't1' });
    expect(trade.status, JSON.stringify(trade.body)).toBe(200);
    const alice = await call('GET', '/v1/accounts/alice');
    expect(alice.body.perps).toEqual([expect.objectContaining({ market: 'ETH-PERP', size: '0.1' })]);
    expect(service.context.accountAnswers.get('alice')).toBeUndefined();
  });
});
