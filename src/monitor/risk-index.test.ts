import { describe, expect, it } from 'vitest';
import { WAD } from '../core/fixed.ts';
import { createLedgerState, type AccountRecord, type LedgerState } from '../core/ledger/state.ts';
import { EXAMPLE_CONFIG, EXAMPLE_RISK_JSON, units, wad } from '../../test/fixtures.ts';
import { LEVEL_NONE, relevantBits } from './alerts.ts';
import { ALL_UNCERTAIN, decodeRecord, RiskIndex, screenAgrees, UNCERTAIN_SHIFT, type ExposureList } from './risk-index.ts';
import { LIQUIDATABLE, LIQUIDATION_BAND, thresholdsFor, WARNING, WARNING_BAND } from './thresholds.ts';

// examples/risk.json: USDC (quote, 6 decimals, 0.98 / 1.02), ETH and BTC (0.85 / 1.05),
// ETH-PERP (5 % maintenance), BTC-PERP (size-scaled); warning ratio 1.1.
function world(): LedgerState {
  const state = createLedgerState(EXAMPLE_CONFIG, EXAMPLE_RISK_JSON);
  state.prices.set('USDC', { priceWad: wad('1'), confidenceWad: 0n });
  state.prices.set('ETH', { priceWad: wad('3000'), confidenceWad: 0n });
  state.prices.set('BTC', { priceWad: wad('60000'), confidenceWad: 0n });
  return state;
}

function record(id: string, balances: Record<string, bigint>, perps: Record<string, [bigint, bigint]> = {}): AccountRecord {
  return {
    id,
    owner: id,
    balances: new Map(Object.entries(balances).map(([asset, amount]) => [asset, { amount, indexWad: WAD }])),
    perps: new Map(
      Object.entries(perps).map(([market, [size, entryPriceWad]]) => [market, { market, size, entryPriceWad, fundingIndexWad: 0n }]),
    ),
  };
}

function indexed(state: LedgerState, ...records: AccountRecord[]): RiskIndex {
  const index = new RiskIndex(state);
  index.setThresholds(thresholdsFor(state.config, wad('0.02')));
  for (const entry of records) {
    state.accounts.set(entry.id, entry);
    index.load(entry.id, entry);
  }
  return index;
}

/** The record as the index keeps it for the sweep workers (owner not kept), or null when too wide. */
function kept(index: RiskIndex, id: string): AccountRecord | null {
  return decodeRecord(index.sharedColumns(), index.slotOf(id)!, id, index.assetIdsByRow, index.marketIdsByRow);
}

function members(list: ExposureList): number[] {
  return [...new Set(list.slots.subarray(0, list.length))].sort((a, b) => a - b);
}

const ETH = (text: string): bigint => units(text, 18);
const USDC = (text: string): bigint => units(text, 6);
const BTC = (text: string): bigint => units(text, 8);

describe('risk index: records in, records out', () => {
  it('keeps each account exactly (amounts, indexes, positions) in its shared columns', () => {
    const state = world();
    const alice = record('alice', { ETH: ETH('1.5'), USDC: -USDC('1000.000001') }, { 'ETH-PERP': [-ETH('2'), wad('3000.5')] });
    const index = indexed(state, alice);
    expect(kept(index, 'alice')).toEqual({ ...alice, owner: '' });
  });

  it('marks an account with a value beyond 128 bits, and rewrites it in place when it shrinks', () => {
    const state = world();
    const index = indexed(state, record('whale', { ETH: 1n << 130n }));
    expect(kept(index, 'whale')).toBeNull();
    const smaller = record('whale', { ETH: ETH('1') });
    index.load('whale', smaller);
    expect(kept(index, 'whale')).toEqual({ ...smaller, owner: '' });
  });

  it('survives many reloads that grow and shrink accounts (regions move, then compact)', () => {
    const state = world();
    const index = indexed(state);
    const latest = new Map<string, AccountRecord>();
    for (let round = 0; round < 3000; round++) {
      const id = `a${round % 37}`;
      const balances: Record<string, bigint> = { USDC: USDC(String(round + 1)) };
      if (round % 3 === 0) balances.ETH = ETH('0.1');
      if (round % 5 === 0) balances.BTC = -BTC('0.001');
      const perps: Record<string, [bigint, bigint]> = round % 2 === 0 ? { 'BTC-PERP': [BTC('0.5'), wad('59000')] } : {};
      const next = record(id, balances, perps);
      latest.set(id, next);
      index.load(id, next);
    }
    for (const [id, expected] of latest) expect(kept(index, id)).toEqual({ ...expected, owner: '' });
  });

  it('keeps pending funding on the quote entry, never as a stored balance', () => {
    const state = world();
    state.markets.set('ETH-PERP', { fundingIndexWad: wad('-10'), openInterest: 0n });
    // A long whose market index fell by 10 USD per ETH since it settled receives 10 USDC per ETH.
    const long = record('long', { ETH: ETH('1') }, { 'ETH-PERP': [ETH('1'), wad('3000')] });
    const index = indexed(state, long);
    expect(kept(index, 'long')).toEqual({ ...long, owner: '' });
  });
});

describe('risk index: exposure lists', () => {
  it('lists each account under the assets it holds or trades and the markets it trades', () => {
    const state = world();
    const index = indexed(
      state,
      record('a', { USDC: USDC('100') }),
      record('b', { ETH: ETH('1') }, { 'BTC-PERP': [BTC('1'), wad('60000')] }),
      record('c', { USDC: -USDC('1'), BTC: BTC('1') }),
    );
    const row = (asset: string): number => index.assetIdsByRow.indexOf(asset);
    expect(members(index.assetExposure(row('USDC')))).toEqual([0, 2]);
    expect(members(index.assetExposure(row('ETH')))).toEqual([1]);
    expect(members(index.assetExposure(row('BTC')))).toEqual([1, 2]);
    expect(members(index.marketExposure(index.marketIdsByRow.indexOf('BTC-PERP')))).toEqual([1]);
    expect(members(index.marketExposure(index.marketIdsByRow.indexOf('ETH-PERP')))).toEqual([]);
  });

  it('drops an account that no longer holds an asset once enough of the list is stale', () => {
    const state = world();
    const holders = Array.from({ length: 40 }, (_, n) => record(`h${n}`, { ETH: ETH('1') }));
    const index = indexed(state, ...holders);
    const eth = index.assetExposure(index.assetIdsByRow.indexOf('ETH'));
    for (const holder of holders.slice(0, 30)) index.load(holder.id, record(holder.id, { USDC: USDC('5') }));
    // Compacted on the way (shorter than the 40 appended), every holder listed, and the
    // listed non-holders are exactly the ones counted stale.
    const listed = members(eth);
    const stillHolding = Array.from({ length: 10 }, (_, n) => 30 + n);
    expect(eth.length).toBeLessThan(40);
    expect(listed.filter((slot) => slot >= 30)).toEqual(stillHolding);
    expect(listed.filter((slot) => slot < 30)).toHaveLength(eth.stale);
  });
});

describe('risk index: sync', () => {
  it('reports moved prices and interest indexes, moved funding, and a new configuration', () => {
    const state = world();
    const index = indexed(state);
    expect(index.sync()).toEqual({ config: false, assets: [], markets: [] });
    state.prices.set('ETH', { priceWad: wad('2900'), confidenceWad: 0n });
    state.assets.set('BTC', { ...state.assets.get('BTC')!, borrowIndexWad: wad('1.01') });
    state.markets.set('ETH-PERP', { fundingIndexWad: wad('1'), openInterest: 0n });
    const row = (asset: string): number => index.assetIdsByRow.indexOf(asset);
    expect(index.sync()).toEqual({ config: false, assets: [row('ETH'), row('BTC')], markets: [index.marketIdsByRow.indexOf('ETH-PERP')] });
    expect(index.sync()).toEqual({ config: false, assets: [], markets: [] });
    state.config = { ...state.config };
    expect(index.sync().config).toBe(true);
  });
});

describe('risk index: screen', () => {
  it('decides clear cases by itself', () => {
    const state = world();
    // Healthy: 1 ETH × 3000 × 0.85 = 2550 against 1000 × 1.02 = 1020 (ratio 2.5).
    // Liquidatable: 1 ETH = 2550 against 3000 × 1.02 = 3060 (ratio 0.83).
    // In warning: 2550 against 2400 × 1.02 = 2448 (ratio 1.04).
    const index = indexed(
      state,
      record('healthy', { ETH: ETH('1'), USDC: -USDC('1000') }),
      record('liquidatable', { ETH: ETH('1'), USDC: -USDC('3000') }),
      record('warning', { ETH: ETH('1'), USDC: -USDC('2400') }),
      record('lender', { USDC: USDC('5') }),
    );
    expect(index.screen(index.slotOf('healthy')!)).toBe(0);
    expect(index.screen(index.slotOf('liquidatable')!)).toBe(LIQUIDATABLE | LIQUIDATION_BAND | WARNING | WARNING_BAND);
    expect(index.screen(index.slotOf('warning')!)).toBe(WARNING | WARNING_BAND);
    expect(index.screen(index.slotOf('lender')!)).toBe(0);
  });

  it('cannot decide an account exactly at a threshold, nor one without a price', () => {
    const state = world();
    // 1 ETH × 3000 × 0.85 = 2550 against 2500 × 1.02 = 2550: health exactly zero.
    const index = indexed(state, record('edge', { ETH: ETH('1'), USDC: -USDC('2500') }), record('btc', { BTC: BTC('1'), USDC: -USDC('1') }));
    const edge = index.screen(index.slotOf('edge')!);
    expect((edge >> UNCERTAIN_SHIFT) & LIQUIDATABLE).toBe(LIQUIDATABLE);
    expect(screenAgrees(edge, 0, relevantBits(LEVEL_NONE))).toBe(false);
    state.prices.delete('BTC');
    index.sync();
    expect(index.screen(index.slotOf('btc')!)).toBe(ALL_UNCERTAIN);
  });

  it('follows interest without a reload: a debt growing at its borrow index', () => {
    const state = world();
    const index = indexed(state, record('borrower', { ETH: ETH('1'), USDC: -USDC('2000') }));
    const slot = index.slotOf('borrower')!;
    expect(index.screen(slot)).toBe(0); // 2550 / 2040 = 1.25
    // The USDC borrow index grows 25 %: 2500 owed, × 1.02 = 2550 → health zero, not decided.
    state.assets.set('USDC', { ...state.assets.get('USDC')!, borrowIndexWad: wad('1.25') });
    index.sync();
    expect((index.screen(slot) >> UNCERTAIN_SHIFT) & LIQUIDATABLE).toBe(LIQUIDATABLE);
    state.assets.set('USDC', { ...state.assets.get('USDC')!, borrowIndexWad: wad('1.3') });
    index.sync();
    expect(index.screen(slot) & LIQUIDATABLE).toBe(LIQUIDATABLE);
  });
});
