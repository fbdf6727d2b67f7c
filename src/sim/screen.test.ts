import { describe, expect, it } from 'vitest';
import { parseRiskConfig } from '../core/config.ts';
import { evaluateAccount } from '../core/health.ts';
import type { Command } from '../core/ledger/commands.ts';
import { Ledger } from '../core/ledger/ledger.ts';
import { accountView, isSystemAccount } from '../core/ledger/state.ts';
import { Xoshiro128 } from '../oracle/feeds/simulated.ts';
import { RiskScreen } from './screen.ts';

const E = 10n ** 18n;
const USDC = 10n ** 6n;
const CONFIG = {
  quote: 'USDC',
  warningRatio: '1.1',
  assets: [
    { id: 'USDC', decimals: 6, collateral: { initialWeight: '1', maintenanceWeight: '1' }, liability: { initialWeight: '1', maintenanceWeight: '1' } },
    { id: 'ETH', decimals: 18, collateral: { initialWeight: '0.75', maintenanceWeight: '0.8' }, liability: { initialWeight: '1.2', maintenanceWeight: '1.1' }, liquidationPenalty: '0.05' },
    { id: 'BTC', decimals: 8, collateral: { initialWeight: '0.75', maintenanceWeight: '0.8' }, liability: { initialWeight: '1.2', maintenanceWeight: '1.1' }, liquidationPenalty: '0.05' },
  ],
  markets: [
    { id: 'ETH-PERP', base: 'ETH', initialMarginFraction: '0.1', maintenanceMarginFraction: '0.05' },
    { id: 'BTC-PERP', base: 'BTC', initialMarginFraction: '0.1', maintenanceMarginFraction: '0.05', sizeScalingFactor: '0.0002', positivePnlWeight: { initial: '0.5', maintenance: '0.9' } },
  ],
};

function ledger(): Ledger {
  const config = parseRiskConfig(CONFIG);
  if (!config.ok) throw new Error('config');
  return Ledger.create(config.value, CONFIG);
}

function execute(book: Ledger, command: Command): void {
  const result = book.execute(command);
  if (!result.ok) throw new Error(`${command.kind} ${command.idempotencyKey}: ${result.error.code}`);
}

let keys = 0;
const price = (asset: string, priceWad: bigint, confidenceWad = 0n): Command => ({
  kind: 'price',
  idempotencyKey: `p${(keys += 1)}`,
  asset,
  priceWad,
  confidenceWad,
});

/** The liquidatable set and the warning count by exact valuation of every account. */
function exactSets(book: Ledger): { liquidatable: string[]; warning: number } {
  const liquidatable: string[] = [];
  let warning = 0;
  for (const record of book.state.accounts.values()) {
    if (isSystemAccount(record.id)) continue;
    const health = evaluateAccount(accountView(book.state, record), book.state.prices, book.state.config);
    if (!health.ok) continue;
    if (health.value.liquidatable) liquidatable.push(record.id);
    else if (health.value.warning) warning += 1;
  }
  return { liquidatable, warning };
}

describe('RiskScreen', () => {
  it('is exact at the boundary: health exactly zero is not liquidatable, one wei below is', () => {
    const book = ledger();
    execute(book, price('USDC', E));
    execute(book, price('ETH', 1100n * E));
    execute(book, { kind: 'deposit', idempotencyKey: 'd1', account: 'edge', asset: 'ETH', amount: E });
    // Borrowing 800 USDC against 1 ETH: initial 0.75 × 1100 = 825 ≥ 800.
    execute(book, { kind: 'withdraw', idempotencyKey: 'w1', account: 'edge', asset: 'USDC', amount: 800n * USDC });
    execute(book, { kind: 'deposit', idempotencyKey: 'd2', account: 'empty', asset: 'USDC', amount: USDC });
    execute(book, { kind: 'withdraw', idempotencyKey: 'w2', account: 'empty', asset: 'USDC', amount: USDC });
    const screen = new RiskScreen(book.state);
    expect(screen.size).toBe(2);

    // 0.8 × 1000 = 800 = 1 × 800: health exactly zero.
    execute(book, price('ETH', 1000n * E));
    const atZero = screen.screen();
    expect(atZero.liquidatable).toEqual([]);
    expect(atZero.warningCount).toBe(1);
    expect(atZero.exactEvaluations).toBe(1);

    execute(book, price('ETH', 1000n * E - 1n));
    expect(screen.screen().liquidatable).toEqual(['edge']);
    execute(book, price('ETH', 999n * E));
    const below = screen.screen();
    expect(below.liquidatable).toEqual(['edge']);
    expect(below.exactEvaluations).toBe(0);
    // A confidence interval counts against the account.
    execute(book, price('ETH', 1000n * E, 1n));
    expect(screen.screen().liquidatable).toEqual(['edge']);
  });

  it('agrees with exact valuation of every account over random books and price moves', () => {
    const book = ledger();
    const random = new Xoshiro128(7);
    execute(book, price('USDC', E));
    execute(book, price('ETH', 3000n * E));
    execute(book, price('BTC', 60_000n * E));
    execute(book, { kind: 'deposit', idempotencyKey: 'mm', account: 'mm', asset: 'USDC', amount: 100_000_000n * USDC });
    for (let index = 0; index < 120; index += 1) {
      const id = `a${index}`;
      const usd = BigInt(1_000 + Math.floor(random.uniform() * 50_000));
      if (index % 3 === 0) {
        execute(book, { kind: 'deposit', idempotencyKey: `d${id}`, account: id, asset: 'ETH', amount: (usd * E) / 3000n });
        const borrowUsd = (usd * BigInt(30 + Math.floor(random.uniform() * 44))) / 100n;
        execute(book, { kind: 'withdraw', idempotencyKey: `w${id}`, account: id, asset: 'USDC', amount: borrowUsd * USDC });
      } else {
        execute(book, { kind: 'deposit', idempotencyKey: `d${id}`, account: id, asset: 'USDC', amount: usd * USDC });
        const market = index % 3 === 1 ? 'ETH-PERP' : 'BTC-PERP';
        const priceWad = market === 'ETH-PERP' ? 3000n * E : 60_000n * E;
        const unit = market === 'ETH-PERP' ? E : 10n ** 8n;
        const leverage = BigInt(1 + Math.floor(random.uniform() * 6));
        const size = (usd * leverage * unit * E) / priceWad;
        const long = random.uniform() < 0.5;
        execute(book, {
          kind: 'trade',
          idempotencyKey: `t${id}`,
          market,
          priceWad,
          size,
          buyer: long ? id : 'mm',
          seller: long ? 'mm' : id,
          buyerFeeRateWad: 0n,
          sellerFeeRateWad: 0n,
        });
      }
    }
    // Funding leaves pending amounts in the rows' quote balance.
    execute(book, { kind: 'funding', idempotencyKey: 'f1', market: 'ETH-PERP', rateWad: E / 1000n });
    const screen = new RiskScreen(book.state);
    let liquidatableSeen = 0;
    for (let move = 0; move < 60; move += 1) {
      const eth = BigInt(Math.floor(1500 + random.uniform() * 3000));
      const btc = BigInt(Math.floor(30_000 + random.uniform() * 60_000));
      execute(book, price('ETH', eth * E, (eth * E) / 2000n));
      execute(book, price('BTC', btc * E));
      const screened = screen.screen();
      const exact = exactSets(book);
      expect(screened.liquidatable).toEqual(exact.liquidatable);
      expect(screened.warningCount).toBe(exact.warning);
      liquidatableSeen += exact.liquidatable.length;
    }
    expect(liquidatableSeen).toBeGreaterThan(0);
  });
});
