/**
 * What-if previews (preview.ts) on hand-worked actions. The account holds 10,000 USDC;
 * ETH is at 3000 and USDC at 1 (no confidence) unless a test says otherwise.
 */
import { describe, expect, it } from 'vitest';
import { account, EXAMPLE_CONFIG, priceBook, units, wad } from '../../test/fixtures.ts';
import { balanceOf } from './account.ts';
import { evaluateAccount } from './health.ts';
import { applyWhatIf, previewWhatIf, type Preview, type Scenario, type WhatIf } from './preview.ts';

const saver = account(EXAMPLE_CONFIG, { id: 's', balances: { USDC: '10000' } });
const prices = priceBook({ ETH: '3000', USDC: '1', BTC: '60000' });
const start: Scenario = { account: saver, prices };

function preview(actions: readonly WhatIf[], scenario: Scenario = start): Preview {
  const result = previewWhatIf(scenario, actions, EXAMPLE_CONFIG);
  if (!result.ok) throw new Error(`unexpected preview error ${JSON.stringify(result.error)}`);
  return result.value;
}

describe('previewWhatIf', () => {
  it('reports the health before, valued as evaluateAccount does', () => {
    const result = preview([{ kind: 'deposit', asset: 'ETH', amount: units('1', 18) }]);
    expect({ ok: true, value: result.before }).toEqual(evaluateAccount(saver, prices, EXAMPLE_CONFIG));
    // 10000 × 0.95 = 9500; 10000 × 0.98 = 9800
    expect(result.before.initial.assetsUsd).toBe(wad('9500'));
    expect(result.before.maintenance.assetsUsd).toBe(wad('9800'));
  });

  it('adds a deposit', () => {
    const result = preview([{ kind: 'deposit', asset: 'ETH', amount: units('1', 18) }]);
    // + 1 × 3000 × 0.80 = 2400 → 11900; + 1 × 3000 × 0.85 = 2550 → 12350
    expect(result.after.initial.assetsUsd).toBe(wad('11900'));
    expect(result.after.maintenance.assetsUsd).toBe(wad('12350'));
    expect(balanceOf(result.scenario.account, 'ETH')).toBe(units('1', 18));
  });

  it('turns a withdrawal past the balance into a borrow', () => {
    const result = preview([{ kind: 'withdraw', asset: 'USDC', amount: units('12000', 6) }]);
    // 10000 − 12000 = −2000 USDC: owed 2000 × 1.05 = 2100 and 2000 × 1.02 = 2040, nothing held
    expect(balanceOf(result.scenario.account, 'USDC')).toBe(units('-2000', 6));
    expect(result.after.initial).toEqual({
      assetsUsd: 0n,
      liabilitiesUsd: wad('2100'),
      healthUsd: wad('-2100'),
      ratioWad: 0n,
    });
    expect(result.after.maintenance.healthUsd).toBe(wad('-2040'));
    expect(result.after.liquidatable).toBe(true);
  });

  it('books a borrow as a negative balance', () => {
    const result = preview([{ kind: 'borrow', asset: 'ETH', amount: units('1', 18) }]);
    // owed 1 × 3000 × 1.10 = 3300 and × 1.05 = 3150; held 9500 / 9800
    expect(balanceOf(result.scenario.account, 'ETH')).toBe(units('-1', 18));
    expect(result.after.initial.healthUsd).toBe(wad('6200')); // 9500 − 3300
    expect(result.after.maintenance.healthUsd).toBe(wad('6650')); // 9800 − 3150
  });

  it('applies a fill with its fee', () => {
    const result = preview([
      { kind: 'fill', market: 'ETH-PERP', size: units('1', 18), priceWad: wad('3000'), feeRateWad: wad('0.0005') },
    ]);
    // fee 1 × 3000 × 0.0005 = 1.5 → USDC 9998.5
    // initial:     9998.5 × 0.95 = 9498.575 held; 3000 × 0.10 = 300 required → 9198.575
    // maintenance: 9998.5 × 0.98 = 9798.53 held;  3000 × 0.05 = 150 required → 9648.53
    expect(balanceOf(result.scenario.account, 'USDC')).toBe(units('9998.5', 6));
    expect(result.scenario.account.perps.get('ETH-PERP')).toEqual({
      market: 'ETH-PERP',
      size: units('1', 18),
      entryPriceWad: wad('3000'),
    });
    expect(result.after.initial).toMatchObject({ assetsUsd: wad('9498.575'), liabilitiesUsd: wad('300'), healthUsd: wad('9198.575') });
    expect(result.after.maintenance).toMatchObject({ assetsUsd: wad('9798.53'), liabilitiesUsd: wad('150'), healthUsd: wad('9648.53') });
  });

  it('applies actions in order: a fill, then a price move', () => {
    const result = preview([
      { kind: 'fill', market: 'ETH-PERP', size: units('1', 18), priceWad: wad('3000'), feeRateWad: wad('0.0005') },
      { kind: 'price', asset: 'ETH', priceWad: wad('2500') },
    ]);
    // at 2500: loss 1 × (2500 − 3000) = −500; requirement 250 / 125
    // initial:     9498.575 − (500 + 250) = 8748.575
    // maintenance: 9798.53  − (500 + 125) = 9173.53
    expect(result.scenario.prices.get('ETH')).toEqual({ priceWad: wad('2500'), confidenceWad: 0n });
    expect(result.after.initial.healthUsd).toBe(wad('8748.575'));
    expect(result.after.maintenance.healthUsd).toBe(wad('9173.53'));
  });

  it('moves the confidence with the price', () => {
    // 3000 ± 30 moved to 1500 → ± 15 (1 % kept)
    const uncertain: Scenario = { account: saver, prices: priceBook({ ETH: { price: '3000', confidence: '30' }, USDC: '1' }) };
    const result = preview(
      [
        { kind: 'deposit', asset: 'ETH', amount: units('2', 18) },
        { kind: 'price', asset: 'ETH', priceWad: wad('1500') },
      ],
      uncertain,
    );
    expect(result.scenario.prices.get('ETH')).toEqual({ priceWad: wad('1500'), confidenceWad: wad('15') });
    // 2 × (1500 − 15) × 0.80 = 2376 added to 9500
    expect(result.after.initial.assetsUsd).toBe(wad('11876'));
  });

  it('changes nothing it is given', () => {
    const before = structuredClone(start);
    preview([
      { kind: 'withdraw', asset: 'USDC', amount: units('10000', 6) },
      { kind: 'fill', market: 'ETH-PERP', size: units('-1', 18), priceWad: wad('3000'), feeRateWad: wad('0.001') },
      { kind: 'price', asset: 'ETH', priceWad: wad('1') },
    ]);
    expect(start).toEqual(before);
  });

  it('with no actions reports the same health after as before', () => {
    const result = preview([]);
    expect(result.after).toEqual(result.before);
    expect(result.scenario).toBe(start);
  });

  it('answers UNKNOWN_MARKET for a fill in a market the configuration lacks', () => {
    expect(
      previewWhatIf(
        start,
        [{ kind: 'fill', market: 'SOL-PERP', size: 1n, priceWad: wad('150'), feeRateWad: 0n }],
        EXAMPLE_CONFIG,
      ),
    ).toEqual({ ok: false, error: { code: 'UNKNOWN_MARKET', market: 'SOL-PERP' } });
  });

  it('answers PRICE_UNAVAILABLE when the account cannot be valued before', () => {
    expect(previewWhatIf({ account: saver, prices: priceBook({ ETH: '3000' }) }, [], EXAMPLE_CONFIG)).toEqual({
      ok: false,
      error: { code: 'PRICE_UNAVAILABLE', asset: 'USDC' },
    });
  });

  it('answers PRICE_UNAVAILABLE when the state after needs a price the book lacks', () => {
    const noBtc: Scenario = { account: saver, prices: priceBook({ ETH: '3000', USDC: '1' }) };
    expect(previewWhatIf(noBtc, [{ kind: 'deposit', asset: 'BTC', amount: 1n }], EXAMPLE_CONFIG)).toEqual({
      ok: false,
      error: { code: 'PRICE_UNAVAILABLE', asset: 'BTC' },
    });
  });
});

describe('applyWhatIf', () => {
  it('returns the scenario after one action', () => {
    const result = applyWhatIf(start, { kind: 'deposit', asset: 'USDC', amount: units('5', 6) }, EXAMPLE_CONFIG);
    expect(result.ok && balanceOf(result.value.account, 'USDC')).toBe(units('10005', 6));
    expect(result.ok && result.value.prices).toBe(prices);
  });
});
