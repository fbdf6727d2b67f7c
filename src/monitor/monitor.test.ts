import { afterAll, describe, expect, it } from 'vitest';
import { evaluateAccount } from '../core/health.ts';
import type { Command } from '../core/ledger/commands.ts';
import { Ledger } from '../core/ledger/ledger.ts';
import { accountView, SYSTEM } from '../core/ledger/state.ts';
import {
  accrue,
  configCommand,
  deposit,
  funding,
  LEDGER_CONFIG,
  LEDGER_RISK_JSON,
  price,
  STANDARD_PRICES,
  trade,
  wad,
  withdraw,
} from '../../test/ledger-given.ts';
import { RiskMonitor, type Alert } from './monitor.ts';
import { SweepPool } from './sweep-pool.ts';

// The ledger tests' configuration: ETH collateral 0.85 (maintenance), USDC debts × 1.02,
// ETH-PERP 5 % maintenance; warning ratio 1.1. Alert band 0.02: thresholds 1, 1.02, 1.1, 1.12.

const pool = new SweepPool();
afterAll(async () => {
  await pool.close();
});

class Book {
  readonly ledger = Ledger.create(LEDGER_CONFIG, LEDGER_RISK_JSON);
  readonly monitor: RiskMonitor;

  constructor(...setup: Command[]) {
    this.monitor = new RiskMonitor(this.ledger, { sweepPool: pool, sweepWorkers: 1 });
    for (const command of [...STANDARD_PRICES, ...setup]) this.run(command);
  }

  run(command: Command): Alert[] {
    const outcome = this.ledger.execute(command);
    if (!outcome.ok) throw new Error(`test: ${command.kind} refused: ${outcome.error.code}`);
    return this.monitor.onEvents(outcome.value.events);
  }

  kinds(command: Command): string[] {
    return this.run(command).map((alert) => `${alert.kind}:${alert.status.account}`);
  }

  /** The core's own answer for an account, in the monitor's status shape. */
  exact(id: string) {
    const state = this.ledger.state;
    const health = evaluateAccount(accountView(state, state.accounts.get(id)!), state.prices, state.config);
    if (!health.ok) throw new Error(health.error.code);
    const { initial, maintenance } = health.value;
    return {
      account: id,
      initialHealthUsd: initial.healthUsd,
      maintenanceHealthUsd: maintenance.healthUsd,
      maintenanceRatioWad: maintenance.ratioWad,
      maintenanceAssetsUsd: maintenance.assetsUsd,
      maintenanceLiabilitiesUsd: maintenance.liabilitiesUsd,
      warning: health.value.warning,
      liquidatable: health.value.liquidatable,
    };
  }
}

describe('RiskMonitor: alerts', () => {
  it('warning with the distance to liquidation, liquidatable, recovered; hovering raises nothing more', () => {
    // 1 ETH (× 0.85) against 2200 USDC borrowed (× 1.02 = 2244).
    const book = new Book(deposit('alice', 'ETH', '1'), withdraw('alice', 'USDC', '2200'));
    expect(book.monitor.counts()).toEqual({ accounts: 1, warning: 0, liquidatable: 0 });

    const warning = book.run(price('ETH', '2900')); // 2465 / 2244 = 1.098
    expect(warning.map((alert) => alert.kind)).toEqual(['warning']);
    expect(warning[0]!.status).toEqual(book.exact('alice'));
    // Liquidatable below 2244 / 0.85 = 2640 USD per ETH (and when USDC rises above 1.138…).
    const distance = warning[0]!.liquidationPrices();
    expect(distance?.find((entry) => entry.asset === 'ETH')).toEqual({
      asset: 'ETH',
      currentPriceWad: wad('2900'),
      downWad: wad('2640') - 1n,
      upWad: null,
    });
    expect(warning[0]!.liquidationPrices()).toBe(distance);
    expect(book.monitor.counts()).toEqual({ accounts: 1, warning: 1, liquidatable: 0 });

    expect(book.kinds(price('ETH', '2950'))).toEqual([]); // 1.117: out of warning, inside the band
    expect(book.monitor.counts().warning).toBe(0);
    expect(book.kinds(price('ETH', '2900'))).toEqual([]); // back in warning: no second alert
    expect(book.kinds(price('ETH', '2600'))).toEqual(['liquidatable:alice']); // 2210 / 2244
    expect(book.monitor.counts()).toEqual({ accounts: 1, warning: 0, liquidatable: 1 });
    expect(book.kinds(price('ETH', '2650'))).toEqual([]); // 1.004: not liquidatable, inside the band
    expect(book.monitor.counts()).toEqual({ accounts: 1, warning: 1, liquidatable: 0 });
    expect(book.kinds(price('ETH', '2600'))).toEqual([]); // liquidatable again: no second alert
    expect(book.kinds(price('ETH', '3000'))).toEqual(['recovered:alice']); // 1.136
    expect(book.monitor.counts()).toEqual({ accounts: 1, warning: 0, liquidatable: 0 });
  });

  it('lists and alerts worst ratio first (cross-multiplied), not largest shortfall first', () => {
    const book = new Book(
      // bob: 0.1 ETH against 228 USDC; carol: 10 ETH against 22,000 USDC.
      deposit('bob', 'ETH', '0.1'),
      withdraw('bob', 'USDC', '228'),
      deposit('carol', 'ETH', '10'),
      withdraw('carol', 'USDC', '22000'),
    );
    // At 2500: bob 212.5 / 232.56 = 0.914 (health −20.06); carol 21,250 / 22,440 = 0.947 (health −1190).
    const alerts = book.run(price('ETH', '2500'));
    expect(alerts.map((alert) => `${alert.kind}:${alert.status.account}`)).toEqual(['liquidatable:bob', 'liquidatable:carol']);
    expect(book.monitor.list('liquidatable', 10).map((status) => status.account)).toEqual(['bob', 'carol']);
    expect(book.monitor.list('liquidatable', 1)).toEqual([book.exact('bob')]);
    expect(book.monitor.list('warning', 10).map((status) => status.account)).toEqual(['bob', 'carol']);
  });

  it('a new configuration re-decides every account', () => {
    const book = new Book(deposit('alice', 'ETH', '1'), withdraw('alice', 'USDC', '1500')); // 2550 / 1530 = 1.67
    expect(book.kinds(configCommand({ ...LEDGER_RISK_JSON, warningRatio: '2' }))).toEqual(['warning:alice']);
    expect(book.monitor.counts()).toEqual({ accounts: 1, warning: 1, liquidatable: 0 });
    expect(book.monitor.status('alice')).toEqual(book.exact('alice'));
  });
});

describe('RiskMonitor: what a move touches', () => {
  it('a price screens only the accounts exposed to it', () => {
    const book = new Book(
      deposit('eth-holder', 'ETH', '1'),
      deposit('btc-holder', 'BTC', '0.1'),
      deposit('usdc-holder', 'USDC', '100'),
      deposit('trader', 'USDC', '10000'),
      deposit('maker', 'USDC', '10000'),
      trade({ market: 'BTC-PERP', price: '60000', size: '0.1', buyer: 'trader', seller: 'maker' }),
    );
    book.run(price('BTC', '59000'));
    expect(book.monitor.lastPass.screened).toBe(3); // btc-holder, trader and maker (through BTC-PERP)
    book.run(price('ETH', '2990'));
    expect(book.monitor.lastPass.screened).toBe(1);
  });

  it('interest and funding move statuses exactly, and a sweep then finds nothing to change', () => {
    const book = new Book(
      deposit('alice', 'ETH', '1'),
      withdraw('alice', 'USDC', '2200'),
      deposit('long', 'USDC', '3000'),
      deposit('short', 'USDC', '3000'),
      trade({ market: 'ETH-PERP', price: '3000', size: '5', buyer: 'long', seller: 'short' }),
    );
    book.run(accrue(1_700_000_000_000));
    // A year at ~3.8 % (utilisation 2200 / 6000): 2200 → ~2283 USDC owed, × 1.02 against 2550.
    expect(book.kinds(accrue(1_700_000_000_000 + 365 * 24 * 3_600_000))).toEqual(['warning:alice']);
    book.run(funding('ETH-PERP', '0.01')); // longs pay 30 USDC per ETH
    for (const id of ['alice', 'long', 'short']) expect(book.monitor.status(id)).toEqual(book.exact(id));
    expect(book.monitor.sweep(1)).toEqual([]);
    expect(book.monitor.lastSweep).toEqual({ accounts: 3, workers: 1, mismatches: 0 });
  });
});

describe('RiskMonitor: sweeps and statuses', () => {
  it('a sweep that is first to see a funding or price change refreshes the numbers of accounts it keeps flagged', () => {
    // long: 400 USDC (× 0.98) against 1 ETH-PERP bought at 3000; at 2760 the loss is 240 and the
    // requirement 138: 392 / 378 ≈ 1.037, in warning. Funding and a small price move keep it there.
    const book = new Book(
      deposit('long', 'USDC', '400'),
      deposit('short', 'USDC', '10000'),
      trade({ market: 'ETH-PERP', price: '3000', size: '1', buyer: 'long', seller: 'short' }),
      price('ETH', '2760'),
    );
    expect(book.monitor.status('long')).toMatchObject({ warning: true, liquidatable: false });
    // Applied to the ledger only: the next thing the monitor sees of them is the sweep.
    for (const command of [funding('ETH-PERP', '0.0001'), price('ETH', '2761')]) {
      const outcome = book.ledger.execute(command);
      if (!outcome.ok) throw new Error(outcome.error.code);
    }
    book.monitor.sweep(1);
    expect(book.monitor.status('long')).toEqual(book.exact('long'));
    expect(book.monitor.list('warning', 10).find((row) => row.account === 'long')).toEqual(book.exact('long'));
  });

  it('a monitor started on an existing ledger decides nothing until its first sweep', () => {
    const ledger = Ledger.create(LEDGER_CONFIG, LEDGER_RISK_JSON);
    for (const command of [...STANDARD_PRICES, deposit('alice', 'ETH', '1'), withdraw('alice', 'USDC', '2200'), price('ETH', '2500')]) {
      if (!ledger.execute(command).ok) throw new Error('test: setup refused');
    }
    const monitor = new RiskMonitor(ledger, { sweepPool: pool, sweepWorkers: 2 });
    expect(monitor.counts()).toEqual({ accounts: 0, warning: 0, liquidatable: 0 });
    expect(monitor.status('alice')).toBeUndefined();
    const alerts = monitor.sweep();
    expect(alerts.map((alert) => `${alert.kind}:${alert.status.account}`)).toEqual(['liquidatable:alice']);
    expect(monitor.counts()).toEqual({ accounts: 1, warning: 0, liquidatable: 1 });
    expect(monitor.lastSweep).toEqual({ accounts: 1, workers: 2, mismatches: 0 });
  });

  it('status is exact for any account; undefined for system accounts and strangers', () => {
    const book = new Book(deposit('alice', 'ETH', '1'), withdraw('alice', 'USDC', '2200'), deposit('bob', 'USDC', '10'));
    book.run(price('ETH', '2600'));
    book.run(price('ETH', '2601')); // still liquidatable: alice's kept numbers are refreshed on read
    expect(book.monitor.status('alice')).toEqual(book.exact('alice'));
    expect(book.monitor.list('liquidatable', 5)).toEqual([book.exact('alice')]);
    expect(book.monitor.status('bob')).toEqual(book.exact('bob'));
    expect(book.monitor.status(SYSTEM.insurance)).toBeUndefined();
    expect(book.monitor.status('nobody')).toBeUndefined();
  });
});
