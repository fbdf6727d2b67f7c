import { describe, expect, it } from 'vitest';
import { encodeCanonical } from '../core/ledger/codec.ts';
import { defaultRiskJson, resolveSimConfigOrThrow } from './config.ts';
import { buildPopulation } from './population.ts';
import { setupBook } from './setup.ts';

const E = 10n ** 18n;
const START = new Map([
  ['ETH', 3000n * E],
  ['BTC', 60_000n * E],
  ['LUNA', 80n * E],
  ['DAI', E],
]);

describe('population', () => {
  const config = resolveSimConfigOrThrow(defaultRiskJson(START), 3_600_000);
  const prices = new Map([...START, ['USDC', E]]);

  it('is the same for the same seed and different for another', () => {
    const first = buildPopulation({ accounts: 300, seed: 5, config: config.risk, prices });
    const second = buildPopulation({ accounts: 300, seed: 5, config: config.risk, prices });
    const other = buildPopulation({ accounts: 300, seed: 6, config: config.risk, prices });
    expect(encodeCanonical(second.plans)).toBe(encodeCanonical(first.plans));
    expect(encodeCanonical(other.plans)).not.toBe(encodeCanonical(first.plans));
  });

  it('has longs and shorts, borrowers and lenders', () => {
    const population = buildPopulation({ accounts: 2_000, seed: 1, config: config.risk, prices });
    const kinds = new Map<string, number>();
    for (const plan of population.plans) kinds.set(plan.kind, (kinds.get(plan.kind) ?? 0) + 1);
    for (const kind of ['perpLong', 'perpShort', 'longBorrower', 'shortBorrower', 'lender']) expect(kinds.get(kind) ?? 0).toBeGreaterThan(50);
    expect(kinds.get('perpLong')).toBe(kinds.get('perpShort'));
    expect(population.perpNotionalUsd).toBeGreaterThan(0);
    expect(population.exposureUsd.get('ETH')).toBeGreaterThan(0);
  });

  it('opens every account through the ledger without a refusal, and funds the system accounts', () => {
    const setup = setupBook({ config, start: { timestampMs: 0, prices: START }, accounts: 500, seed: 3, keepLog: true });
    expect(setup.setupRefusals).toEqual({});
    expect(setup.accounts).toBe(setup.population.plans.length);
    expect(setup.accounts).toBeGreaterThan(480);
    expect(setup.insuranceUsd).toBeGreaterThan(0n);
    expect(setup.backstopUsd).toBeGreaterThan(setup.insuranceUsd);
    // The log starts with the configuration, then the start prices.
    expect(setup.book.log?.[0]?.event.type).toBe('ConfigUpdated');
    expect(setup.book.log?.[1]?.event.type).toBe('PriceUpdated');
    expect(setup.book.ledger.state.prices.get('USDC')?.priceWad).toBe(E);
  });
});
