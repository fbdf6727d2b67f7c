/**
 * Account transitions (account.ts): balances and trade fills on hand-worked examples.
 * ETH has 18 decimals, BTC 8, the quote USDC 6; prices are USDC per whole unit.
 */
import { describe, expect, it } from 'vitest';
import { account, EXAMPLE_CONFIG, units, wad } from '../../test/fixtures.ts';
import { adjustBalance, applyFill, balanceOf, emptyAccount, type Account, type Fill } from './account.ts';
import type { AssetConfig, MarketConfig } from './config.ts';

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('fixture: missing');
  return value;
}

const ETH_PERP: MarketConfig = must(EXAMPLE_CONFIG.markets.get('ETH-PERP'));
const BTC_PERP: MarketConfig = must(EXAMPLE_CONFIG.markets.get('BTC-PERP'));
const ETH: AssetConfig = must(EXAMPLE_CONFIG.assets.get('ETH'));
const BTC: AssetConfig = must(EXAMPLE_CONFIG.assets.get('BTC'));
const USDC: AssetConfig = must(EXAMPLE_CONFIG.assets.get('USDC'));

const eth = (text: string): bigint => units(text, 18);
const usdc = (text: string): bigint => units(text, 6);

function fill(size: string, price: string, feeRate = '0'): Fill {
  return { size: eth(size), priceWad: wad(price), feeRateWad: wad(feeRate) };
}

/** An account with USDC and, optionally, one ETH-PERP position. */
function holder(quote: string, position?: { size: string; entryPrice: string }): Account {
  return account(EXAMPLE_CONFIG, {
    id: 't',
    balances: quote === '0' ? {} : { USDC: quote },
    perps: position === undefined ? [] : [{ market: 'ETH-PERP', ...position }],
  });
}

function trade(subject: Account, f: Fill) {
  return applyFill(subject, ETH_PERP, ETH, USDC, f);
}

describe('adjustBalance', () => {
  const start = account(EXAMPLE_CONFIG, { id: 'a', balances: { USDC: '100', ETH: '1' } });

  it('adds to an existing balance and creates a missing one', () => {
    const more = adjustBalance(start, 'USDC', usdc('0.5'));
    expect(balanceOf(more, 'USDC')).toBe(usdc('100.5'));
    const btc = adjustBalance(start, 'BTC', 5n);
    expect(balanceOf(btc, 'BTC')).toBe(5n);
  });

  it('goes negative past the balance (a borrow)', () => {
    expect(balanceOf(adjustBalance(start, 'USDC', -usdc('150')), 'USDC')).toBe(-usdc('50'));
  });

  it('removes a balance that reaches zero', () => {
    const emptied = adjustBalance(start, 'ETH', -eth('1'));
    expect(emptied.balances.has('ETH')).toBe(false);
    expect([...emptied.balances.keys()]).toEqual(['USDC']);
    expect(balanceOf(emptied, 'ETH')).toBe(0n);
    // a repaid borrow disappears as well
    const repaid = adjustBalance(adjustBalance(start, 'BTC', -7n), 'BTC', 7n);
    expect(repaid.balances.has('BTC')).toBe(false);
  });

  it('returns the same account for a zero delta', () => {
    expect(adjustBalance(start, 'USDC', 0n)).toBe(start);
  });

  it('never changes the account it is given', () => {
    const before = structuredClone(start);
    adjustBalance(start, 'USDC', -usdc('100'));
    adjustBalance(start, 'BTC', 1n);
    expect(start).toEqual(before);
  });

  it('starts from an empty account', () => {
    const empty = emptyAccount('new');
    expect(empty).toEqual({ id: 'new', balances: new Map(), perps: new Map() });
    expect(balanceOf(empty, 'USDC')).toBe(0n);
  });
});

describe('applyFill: opening', () => {
  it('opens a long at the fill price and takes the fee from the quote balance', () => {
    // fee 2 × 3000 × 0.001 = 6 USDC
    const outcome = trade(holder('1000'), fill('2', '3000', '0.001'));
    expect(outcome.account.perps.get('ETH-PERP')).toEqual({ market: 'ETH-PERP', size: eth('2'), entryPriceWad: wad('3000') });
    expect(outcome.realizedPnl).toBe(0n);
    expect(outcome.fee).toBe(usdc('6'));
    expect(balanceOf(outcome.account, 'USDC')).toBe(usdc('994')); // 1000 − 6
  });

  it('opens a short', () => {
    const outcome = trade(holder('0'), fill('-2', '3000'));
    expect(outcome.account.perps.get('ETH-PERP')).toEqual({ market: 'ETH-PERP', size: eth('-2'), entryPriceWad: wad('3000') });
    expect(outcome.fee).toBe(0n);
    // no fee and no PnL: no quote balance appears
    expect(outcome.account.balances.has('USDC')).toBe(false);
  });

  it('lets a fee make the quote balance negative (a borrow)', () => {
    // fee 1 × 2000 × 0.0005 = 1 USDC on an account without USDC
    const outcome = trade(holder('0'), fill('1', '2000', '0.0005'));
    expect(balanceOf(outcome.account, 'USDC')).toBe(-usdc('1'));
  });
});

describe('applyFill: increasing', () => {
  it('averages a long entry, rounded up', () => {
    // (1 × 3000 + 2 × 3001) / 3 = 9002 / 3 = 3000.666…6|6… → 3000.666666666666666667
    const outcome = trade(holder('1000', { size: '1', entryPrice: '3000' }), fill('2', '3001'));
    expect(outcome.account.perps.get('ETH-PERP')).toEqual({
      market: 'ETH-PERP',
      size: eth('3'),
      entryPriceWad: wad('3000.666666666666666667'),
    });
    expect(outcome.realizedPnl).toBe(0n);
    expect(balanceOf(outcome.account, 'USDC')).toBe(usdc('1000'));
  });

  it('averages a short entry, rounded down', () => {
    // (1 × 3000 + 2 × 3001) / 3 = 3000.666…6|6… → 3000.666666666666666666
    const outcome = trade(holder('1000', { size: '-1', entryPrice: '3000' }), fill('-2', '3001'));
    expect(outcome.account.perps.get('ETH-PERP')).toEqual({
      market: 'ETH-PERP',
      size: eth('-3'),
      entryPriceWad: wad('3000.666666666666666666'),
    });
  });

  it('keeps an exact average exact', () => {
    // (1 × 3000 + 1 × 3100) / 2 = 3050
    const outcome = trade(holder('0', { size: '1', entryPrice: '3000' }), fill('1', '3100'));
    expect(outcome.account.perps.get('ETH-PERP')?.entryPriceWad).toBe(wad('3050'));
  });
});

describe('applyFill: reducing', () => {
  it('realises a long gain into the quote balance and keeps the entry', () => {
    // sell 1 of 3 at 3100.5: 1 × (3100.5 − 3000) = +100.5 USDC
    const outcome = trade(holder('1000', { size: '3', entryPrice: '3000' }), fill('-1', '3100.5'));
    expect(outcome.realizedPnl).toBe(usdc('100.5'));
    expect(outcome.account.perps.get('ETH-PERP')).toEqual({ market: 'ETH-PERP', size: eth('2'), entryPriceWad: wad('3000') });
    expect(balanceOf(outcome.account, 'USDC')).toBe(usdc('1100.5'));
  });

  it('realises a short gain', () => {
    // buy 0.5 of 2 at 2900: −0.5 × (2900 − 3000) = +50
    const outcome = trade(holder('1000', { size: '-2', entryPrice: '3000' }), fill('0.5', '2900'));
    expect(outcome.realizedPnl).toBe(usdc('50'));
    expect(outcome.account.perps.get('ETH-PERP')).toEqual({ market: 'ETH-PERP', size: eth('-1.5'), entryPriceWad: wad('3000') });
    expect(balanceOf(outcome.account, 'USDC')).toBe(usdc('1050'));
  });

  it('realises a short loss', () => {
    // buy 1 of 2 at 3100.25: −1 × (3100.25 − 3000) = −100.25
    const outcome = trade(holder('1000', { size: '-2', entryPrice: '3000' }), fill('1', '3100.25'));
    expect(outcome.realizedPnl).toBe(-usdc('100.25'));
    expect(balanceOf(outcome.account, 'USDC')).toBe(usdc('899.75'));
  });

  it('floors a realised gain and rounds a realised loss up in size', () => {
    // sell 1 wei of ETH at +0.5: 1e-18 × 0.5 = 5e-19 USDC = 5e-13 micro-USDC → 0
    const gain = trade(holder('1000', { size: '1', entryPrice: '3000' }), { ...fill('0', '3000.5'), size: -1n });
    expect(gain.realizedPnl).toBe(0n);
    expect(balanceOf(gain.account, 'USDC')).toBe(usdc('1000'));
    expect(gain.account.perps.get('ETH-PERP')?.size).toBe(eth('1') - 1n);
    // at −0.5: −5e-13 micro-USDC → −1 micro-USDC (0.000001 USDC taken)
    const loss = trade(holder('1000', { size: '1', entryPrice: '3000' }), { ...fill('0', '2999.5'), size: -1n });
    expect(loss.realizedPnl).toBe(-1n);
    expect(balanceOf(loss.account, 'USDC')).toBe(usdc('999.999999'));
  });

  it('converts base and quote decimals (8-decimal BTC, 6-decimal USDC)', () => {
    const start = account(EXAMPLE_CONFIG, {
      id: 'b',
      balances: { USDC: '10' },
      perps: [{ market: 'BTC-PERP', size: '0.5', entryPrice: '60000' }],
    });
    // sell 0.25 BTC at 61000.5: 0.25 × 1000.5 = 250.125 USDC; fee 0.25 × 61000.5 × 0.0001 = 1.5250125 → 1.525013
    const outcome = applyFill(start, BTC_PERP, BTC, USDC, {
      size: -units('0.25', 8),
      priceWad: wad('61000.5'),
      feeRateWad: wad('0.0001'),
    });
    expect(outcome.realizedPnl).toBe(usdc('250.125'));
    expect(outcome.fee).toBe(usdc('1.525013'));
    expect(balanceOf(outcome.account, 'USDC')).toBe(usdc('258.599987')); // 10 + 250.125 − 1.525013
    expect(outcome.account.perps.get('BTC-PERP')?.size).toBe(units('0.25', 8));
  });
});

describe('applyFill: closing and flipping', () => {
  it('closes a position and removes it', () => {
    // sell 2 of 2 at 2950: 2 × (2950 − 3000) = −100
    const outcome = trade(holder('1000', { size: '2', entryPrice: '3000' }), fill('-2', '2950'));
    expect(outcome.realizedPnl).toBe(-usdc('100'));
    expect(outcome.account.perps.has('ETH-PERP')).toBe(false);
    expect(outcome.account.perps.size).toBe(0);
    expect(balanceOf(outcome.account, 'USDC')).toBe(usdc('900'));
  });

  it('flips a long to a short: realises the old size, opens the rest at the fill price', () => {
    // long 1 at 3000, sell 3 at 3100: realise 1 × 100 = +100; short 2 at 3100
    // fee 3 × 3100 × 0.001 = 9.3 on the whole fill; quote 1000 + 100 − 9.3 = 1090.7
    const outcome = trade(holder('1000', { size: '1', entryPrice: '3000' }), fill('-3', '3100', '0.001'));
    expect(outcome.realizedPnl).toBe(usdc('100'));
    expect(outcome.fee).toBe(usdc('9.3'));
    expect(outcome.account.perps.get('ETH-PERP')).toEqual({ market: 'ETH-PERP', size: eth('-2'), entryPriceWad: wad('3100') });
    expect(balanceOf(outcome.account, 'USDC')).toBe(usdc('1090.7'));
  });

  it('flips a short to a long', () => {
    // short 1 at 3000, buy 4 at 2800: realise −1 × (2800 − 3000) = +200; long 3 at 2800
    const outcome = trade(holder('1000', { size: '-1', entryPrice: '3000' }), fill('4', '2800'));
    expect(outcome.realizedPnl).toBe(usdc('200'));
    expect(outcome.account.perps.get('ETH-PERP')).toEqual({ market: 'ETH-PERP', size: eth('3'), entryPriceWad: wad('2800') });
    expect(balanceOf(outcome.account, 'USDC')).toBe(usdc('1200'));
  });

  it('removes the quote balance when PnL and fee bring it to exactly zero', () => {
    // long 1 at 3000, sell 1 at 2990 → −10 USDC from a 10 USDC balance
    const outcome = trade(holder('10', { size: '1', entryPrice: '3000' }), fill('-1', '2990'));
    expect(outcome.account.balances.has('USDC')).toBe(false);
    expect(outcome.account.perps.size).toBe(0);
  });
});

describe('applyFill: fee', () => {
  it('rounds the fee up to the next quote base unit', () => {
    // 1 wei ETH × 3000 × 0.001 = 3e-15 USDC → 1 micro-USDC
    const tiny = trade(holder('1'), { size: 1n, priceWad: wad('3000'), feeRateWad: wad('0.001') });
    expect(tiny.fee).toBe(1n);
    expect(balanceOf(tiny.account, 'USDC')).toBe(usdc('0.999999'));
    // 1 × 3000.123457 × 0.0007 = 2.1000864199 USDC → 2.100087
    const rounded = trade(holder('0'), fill('1', '3000.123457', '0.0007'));
    expect(rounded.fee).toBe(usdc('2.100087'));
    expect(balanceOf(rounded.account, 'USDC')).toBe(-usdc('2.100087'));
  });

  it('charges the fee on the absolute size of a sell', () => {
    // |−2| × 2500 × 0.0004 = 2 USDC
    const outcome = trade(holder('5'), fill('-2', '2500', '0.0004'));
    expect(outcome.fee).toBe(usdc('2'));
    expect(balanceOf(outcome.account, 'USDC')).toBe(usdc('3'));
  });

  it('takes the fee from the same balance the realised PnL goes to', () => {
    // long 2 at 3000, sell 1 at 3050 fee 0.001: +50 − 3.05 = +46.95
    const outcome = trade(holder('100', { size: '2', entryPrice: '3000' }), fill('-1', '3050', '0.001'));
    expect(outcome.realizedPnl).toBe(usdc('50'));
    expect(outcome.fee).toBe(usdc('3.05'));
    expect(balanceOf(outcome.account, 'USDC')).toBe(usdc('146.95'));
  });
});

describe('applyFill: purity', () => {
  it('never changes the account it is given', () => {
    const start = holder('1000', { size: '1', entryPrice: '3000' });
    const before = structuredClone(start);
    trade(start, fill('-3', '3100', '0.001'));
    trade(start, fill('1', '3100', '0.001'));
    trade(start, fill('-1', '3100', '0.001'));
    expect(start).toEqual(before);
  });
});
