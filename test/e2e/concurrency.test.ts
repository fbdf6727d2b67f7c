/**
 * Concurrency over real HTTP: 50 withdrawals from one account sent at once. The engine
 * decides commands one at a time in memory and answers each once it is durable, so exactly
 * as many succeed as fit the margin, whatever the order they arrive in, and the rest are
 * refused with INSUFFICIENT_MARGIN.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, idem, setPrices, startHarness, type Harness } from './harness.ts';

const WITHDRAWALS = 50;

describe('50 simultaneous withdrawals from one account', () => {
  let h: Harness;
  let api: ReturnType<typeof client>;
  let venue: string;
  let reader: string;

  beforeAll(async () => {
    h = await startHarness();
    api = client(h.url);
    venue = await h.key('venue');
    reader = await h.key('reader');
    await setPrices(h, await h.key('oracle'), { USDC: '1', ETH: '3000' });
    expect((await api.post('/v1/accounts/mm/deposits', { asset: 'USDC', amount: '10000000', idempotencyKey: idem() }, venue)).status).toBe(200);
  });

  afterAll(async () => {
    await h?.close();
  });

  /**
   * An account with `deposit` USDC (weight 1, price 1) and a long of 10 ETH-PERP at 3000:
   * initial margin 10 × 3000 × 0.1 = 3,000 USD, so deposit − 3,000 can be withdrawn.
   */
  async function openAccount(id: string, deposit: string): Promise<void> {
    const funded = await api.post(`/v1/accounts/${id}/deposits`, { asset: 'USDC', amount: deposit, idempotencyKey: idem() }, venue);
    expect(funded.status, funded.text).toBe(200);
    const trade = await api.post(
      '/v1/trades',
      { market: 'ETH-PERP', price: '3000', size: '10', buyer: id, seller: 'mm', idempotencyKey: idem() },
      venue,
    );
    expect(trade.status, trade.text).toBe(200);
    expect(trade.body.buyer.initial).toMatchObject({ liabilities: '3000.000000000000000000' });
  }

  async function withdrawAtOnce(id: string, amount: string) {
    const replies = await Promise.all(
      Array.from({ length: WITHDRAWALS }, (_, index) =>
        api.post(`/v1/accounts/${id}/withdrawals`, { asset: 'USDC', amount, idempotencyKey: `${id}-w-${index}` }, venue),
      ),
    );
    for (const reply of replies) {
      if (reply.status === 200) continue;
      expect(reply.status, reply.text).toBe(422);
      expect(reply.body.error.code).toBe('INSUFFICIENT_MARGIN');
      // The refusal names the health the withdrawal would have left: below zero.
      expect(reply.body.error.healthAfter.health).toMatch(/^-/);
    }
    return replies;
  }

  it('10,000 USDC, 3,000 of initial margin, 200 each: 7,000 / 200 = 35 succeed (the last leaves exactly zero)', async () => {
    await openAccount('exact', '10000');
    const replies = await withdrawAtOnce('exact', '200');
    const succeeded = replies.filter((reply) => reply.status === 200);
    expect(succeeded).toHaveLength(35);
    expect(replies.filter((reply) => reply.status === 422)).toHaveLength(WITHDRAWALS - 35);

    const account = await api.get('/v1/accounts/exact', reader);
    expect(account.body.balances).toEqual({ USDC: String(10_000 - 35 * 200) });
    expect(account.body.initial.health).toBe('0.000000000000000000');

    // Every acknowledged withdrawal is a durable event of the log, and nothing else is.
    const log = (await api.get('/v1/events?after=0&limit=1000', reader)).body.events as {
      seq: number;
      hash: string;
      event: { type: string; account?: string };
    }[];
    const withdrawn = log.filter((entry) => entry.event.type === 'CollateralWithdrawn' && entry.event.account === 'exact');
    const acknowledged = succeeded.map((reply) => (reply.body.events as { seq: number; hash: string }[])[0]!);
    expect(withdrawn.map(({ seq, hash }) => ({ seq, hash }))).toEqual(
      acknowledged.map(({ seq, hash }) => ({ seq, hash })).sort((a, b) => a.seq - b.seq),
    );
  });

  it('10,000 USDC, 3,000 of initial margin, 300 each: ⌊7,000 / 300⌋ = 23 succeed, 100 of headroom left', async () => {
    await openAccount('odd', '10000');
    const replies = await withdrawAtOnce('odd', '300');
    const successes = replies.filter((reply) => reply.status === 200).length;
    expect(successes).toBe(23);
    const account = await api.get('/v1/accounts/odd', reader);
    expect(account.body.balances).toEqual({ USDC: String(10_000 - successes * 300) });
    expect(account.body.initial.health).toBe('100.000000000000000000');
    // Retrying all 50 with the same keys changes nothing: the successes replay, the rest are refused again.
    const retried = await withdrawAtOnce('odd', '300');
    expect(retried.filter((reply) => reply.status === 200 && reply.body.replayed === true)).toHaveLength(23);
    expect((await api.get('/v1/accounts/odd', reader)).body.balances).toEqual({ USDC: '3100' });
  });
});
