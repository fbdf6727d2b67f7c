/**
 * Given / when / then for the ledger (the Emmett style of DESIGN.md and STYLE.md):
 *
 *   given(LEDGER_RISK_JSON, ...STANDARD_PRICES, deposit('alice', 'USDC', '1000'))
 *     .when(withdraw('alice', 'USDC', '400'))
 *     .thenEvents([{ type: 'CollateralWithdrawn', … }]);
 *
 * `given` builds a ledger from a risk.json value and executes the setup commands, failing
 * loudly if one is refused. `when` executes one command and records the ledger's fingerprint
 * (state hash, head sequence, head hash) before and after. The `then…` assertions check the
 * events or the rejection; every rejection is also checked to have changed nothing.
 *
 * Command builders take amounts the way a user writes them (decimal strings in whole units of
 * the asset, prices and rates as decimals) and convert them with the asset's decimals from the
 * standard test configuration.
 */
import { expect } from 'vitest';
import type { Account } from '../src/core/account.ts';
import { parseRiskConfig, type RiskConfig } from '../src/core/config.ts';
import { encodeCanonical } from '../src/core/ledger/codec.ts';
import type {
  AccrueInterestCommand,
  Command,
  ConfigCommand,
  DepositCommand,
  FundingCommand,
  PriceCommand,
  TradeCommand,
  TransferCommand,
  WithdrawCommand,
} from '../src/core/ledger/commands.ts';
import type { EventType, LedgerEvent } from '../src/core/ledger/events.ts';
import { Ledger, type Outcome } from '../src/core/ledger/ledger.ts';
import type { Rejection, RejectionCode } from '../src/core/ledger/rejections.ts';
import { accountView } from '../src/core/ledger/state.ts';
import type { Result } from '../src/core/result.ts';
import { ETH_ASSET_JSON, units, USDC_ASSET_JSON, wad } from './fixtures.ts';

/** Counter behind the default idempotency keys (declared first: the standard prices use it). */
let keyCounter = 0;

// ── The standard test configuration ───────────────────────────────────────────────────────

/**
 * The ledger tests' risk.json:
 * - USDC (6 decimals): the quote; collateral 0.95 / 0.98, borrowable 1.05 / 1.02, with an
 *   interest model (2 % base, kink at 80 % utilisation, 4 % below, 75 % above, 10 % reserve);
 * - ETH (18) and BTC (8): collateral 0.80 / 0.85, borrowable 1.10 / 1.05, no interest;
 *   BTC has caps: deposits ≤ 10 BTC, borrows ≤ 2 BTC;
 * - GOV (18): not collateral (no `collateral` section), borrowable 1.20 / 1.10;
 * - WSTETH (18): collateral 0.70 / 0.75, not borrowable (no `liability` section);
 * - ETH-PERP and BTC-PERP: margin fractions 0.10 initial / 0.05 maintenance, no size scaling.
 */
export const LEDGER_RISK_JSON = {
  quote: 'USDC',
  assets: [
    {
      ...USDC_ASSET_JSON,
      interest: {
        baseRate: '0.02',
        optimalUtilization: '0.8',
        slopeBelow: '0.04',
        slopeAbove: '0.75',
        reserveFactor: '0.1',
      },
    },
    ETH_ASSET_JSON,
    {
      id: 'BTC',
      decimals: 8,
      collateral: { initialWeight: '0.80', maintenanceWeight: '0.85' },
      liability: { initialWeight: '1.10', maintenanceWeight: '1.05' },
      liquidationPenalty: '0.05',
      depositCap: '10',
      borrowCap: '2',
    },
    {
      id: 'GOV',
      decimals: 18,
      liability: { initialWeight: '1.20', maintenanceWeight: '1.10' },
    },
    {
      id: 'WSTETH',
      decimals: 18,
      collateral: { initialWeight: '0.70', maintenanceWeight: '0.75' },
      liquidationPenalty: '0.05',
    },
  ],
  markets: [
    { id: 'ETH-PERP', base: 'ETH', initialMarginFraction: '0.10', maintenanceMarginFraction: '0.05' },
    { id: 'BTC-PERP', base: 'BTC', initialMarginFraction: '0.10', maintenanceMarginFraction: '0.05' },
  ],
};

export function parseConfig(json: unknown): RiskConfig {
  const parsed = parseRiskConfig(json);
  if (!parsed.ok) throw new Error(`ledger-given: invalid risk config: ${JSON.stringify(parsed.error)}`);
  return parsed.value;
}

export const LEDGER_CONFIG: RiskConfig = parseConfig(LEDGER_RISK_JSON);

/** The standard prices, each with zero confidence: USDC 1, ETH 3000, BTC 60000, GOV 10, WSTETH 3500. */
export const STANDARD_PRICES: readonly PriceCommand[] = [
  price('USDC', '1', '0', 'price:USDC'),
  price('ETH', '3000', '0', 'price:ETH'),
  price('BTC', '60000', '0', 'price:BTC'),
  price('GOV', '10', '0', 'price:GOV'),
  price('WSTETH', '3500', '0', 'price:WSTETH'),
];

// ── Amounts ───────────────────────────────────────────────────────────────────────────────

/** Whole units of `asset` (of the standard configuration) as base units: amount('USDC', '1.5') = 1500000n. */
export function amount(asset: string, text: string): bigint {
  const config = LEDGER_CONFIG.assets.get(asset);
  if (config === undefined) throw new Error(`ledger-given: no asset ${asset} in the standard configuration`);
  return units(text, config.decimals);
}

export const usdc = (text: string): bigint => amount('USDC', text);
export const eth = (text: string): bigint => amount('ETH', text);
export const btc = (text: string): bigint => amount('BTC', text);
export { wad };

// ── Command builders ──────────────────────────────────────────────────────────────────────

/** A fresh idempotency key, unless the test names one (retries name theirs). */
function keyOr(key: string | undefined, kind: string): string {
  keyCounter += 1;
  return key ?? `${kind}-${keyCounter}`;
}

/**
 * Amount in base units: a decimal string in whole units, or a bigint already in base units
 * (for amounts that unknown assets or odd sizes need).
 */
type Amount = string | bigint;
function baseUnits(asset: string, value: Amount): bigint {
  if (typeof value === 'bigint') return value;
  return LEDGER_CONFIG.assets.has(asset) ? amount(asset, value) : units(value, 18);
}

export function deposit(
  account: string,
  asset: string,
  value: Amount,
  options: { readonly owner?: string; readonly key?: string } = {},
): DepositCommand {
  return {
    kind: 'deposit',
    idempotencyKey: keyOr(options.key, 'deposit'),
    account,
    asset,
    amount: baseUnits(asset, value),
    ...(options.owner !== undefined && { owner: options.owner }),
  };
}

export function withdraw(account: string, asset: string, value: Amount, key?: string): WithdrawCommand {
  return { kind: 'withdraw', idempotencyKey: keyOr(key, 'withdraw'), account, asset, amount: baseUnits(asset, value) };
}

export function transfer(from: string, to: string, asset: string, value: Amount, key?: string): TransferCommand {
  return { kind: 'transfer', idempotencyKey: keyOr(key, 'transfer'), from, to, asset, amount: baseUnits(asset, value) };
}

export interface TradeSpec {
  readonly market: string;
  /** Quote per whole base unit, decimal. */
  readonly price: string;
  /** Whole base units, decimal (or base units as bigint). */
  readonly size: Amount;
  readonly buyer: string;
  readonly seller: string;
  /** Fee rates as decimals; default 0. */
  readonly buyerFeeRate?: string;
  readonly sellerFeeRate?: string;
  readonly key?: string;
}

export function trade(spec: TradeSpec): TradeCommand {
  const base = LEDGER_CONFIG.markets.get(spec.market)?.base ?? 'ETH';
  return {
    kind: 'trade',
    idempotencyKey: keyOr(spec.key, 'trade'),
    market: spec.market,
    priceWad: wad(spec.price),
    size: baseUnits(base, spec.size),
    buyer: spec.buyer,
    seller: spec.seller,
    buyerFeeRateWad: wad(spec.buyerFeeRate ?? '0'),
    sellerFeeRateWad: wad(spec.sellerFeeRate ?? '0'),
  };
}

export function price(asset: string, priceText: string, confidence = '0', key?: string): PriceCommand {
  return {
    kind: 'price',
    idempotencyKey: keyOr(key, 'price'),
    asset,
    priceWad: wad(priceText),
    confidenceWad: wad(confidence),
  };
}

export function accrue(nowMs: number, key?: string): AccrueInterestCommand {
  return { kind: 'accrueInterest', idempotencyKey: keyOr(key, 'accrue'), nowMs };
}

export function funding(market: string, rate: string, key?: string): FundingCommand {
  return { kind: 'funding', idempotencyKey: keyOr(key, 'funding'), market, rateWad: wad(rate) };
}

export function configCommand(config: unknown, key?: string): ConfigCommand {
  return { kind: 'config', idempotencyKey: keyOr(key, 'config'), config };
}

// ── Given / when / then ───────────────────────────────────────────────────────────────────

/** What must not move when a command is refused or retried. */
export interface Fingerprint {
  readonly stateHash: string;
  readonly headSeq: number;
  readonly headHash: string;
}

export function fingerprint(ledger: Ledger): Fingerprint {
  return { stateHash: ledger.stateHash(), headSeq: ledger.headSeq, headHash: ledger.headHash };
}

/** A ledger built from `configJson` with `commands` executed; a refused setup command throws. */
export function given(configJson: unknown, ...commands: readonly Command[]): Scenario {
  const ledger = Ledger.create(parseConfig(configJson), configJson);
  const scenario = new Scenario(ledger);
  scenario.and(...commands);
  return scenario;
}

export class Scenario {
  constructor(readonly ledger: Ledger) {}

  /** More setup: executes each command, throwing if one is refused. */
  and(...commands: readonly Command[]): this {
    for (const command of commands) {
      const result = this.ledger.execute(command);
      if (!result.ok) {
        throw new Error(
          `given: setup command ${command.kind} (${command.idempotencyKey}) was refused: ${encodeCanonical(result.error)}`,
        );
      }
    }
    return this;
  }

  when(command: Command): Then {
    const before = fingerprint(this.ledger);
    const result = this.ledger.execute(command);
    return new Then(this, command, result, before, fingerprint(this.ledger));
  }

  /** The account as the risk model sees it (settled plus pending interest and funding). */
  view(account: string): Account {
    const record = this.ledger.state.accounts.get(account);
    if (record === undefined) throw new Error(`no account ${account}`);
    return accountView(this.ledger.state, record);
  }

  /** Balance of `asset` as the risk model sees it, base units (0 when none). */
  balance(account: string, asset: string): bigint {
    return this.view(account).balances.get(asset) ?? 0n;
  }

  /** The settled (stored) balance, without pending interest or funding, base units. */
  stored(account: string, asset: string): bigint {
    return this.ledger.state.accounts.get(account)?.balances.get(asset)?.amount ?? 0n;
  }

  /** Signed size of the account's position in `market`, base units (0 when none). */
  position(account: string, market: string): bigint {
    return this.ledger.state.accounts.get(account)?.perps.get(market)?.size ?? 0n;
  }
}

export type RejectionOf<C extends RejectionCode> = Extract<Rejection, { readonly code: C }>;

export class Then {
  constructor(
    readonly scenario: Scenario,
    readonly command: Command,
    readonly result: Result<Outcome, Rejection>,
    readonly before: Fingerprint,
    readonly after: Fingerprint,
  ) {}

  get ledger(): Ledger {
    return this.scenario.ledger;
  }

  /** The accepted outcome; fails the test with the rejection if the command was refused. */
  get outcome(): Outcome {
    if (!this.result.ok) {
      throw new Error(`expected ${this.command.kind} to be accepted, was refused: ${encodeCanonical(this.result.error)}`);
    }
    return this.result.value;
  }

  /** The events of the accepted command, without their seals. */
  get events(): LedgerEvent[] {
    return this.outcome.events.map((sealed) => sealed.event);
  }

  /** Accepted, first time (not a replay), with exactly these events in this order. */
  thenEvents(expected: readonly LedgerEvent[]): this {
    expect(this.outcome.replayed).toBe(false);
    expect(this.events).toEqual(expected);
    expect(this.after.headSeq).toBe(this.before.headSeq + expected.length);
    return this;
  }

  /** Accepted with events of exactly these types, in this order. */
  thenEventTypes(types: readonly EventType[]): this {
    expect(this.events.map((event) => event.type)).toEqual(types);
    return this;
  }

  /**
   * Refused with `code` and (at least) these fields, and nothing changed: the state hash,
   * the head sequence and the head hash are as before.
   */
  thenRejected<C extends RejectionCode>(code: C, fields: Partial<Omit<RejectionOf<C>, 'code'>> = {}): RejectionOf<C> {
    if (this.result.ok) {
      throw new Error(
        `expected ${this.command.kind} to be refused with ${code}, was accepted with ${encodeCanonical(this.events)}`,
      );
    }
    expect(this.result.error.code).toBe(code);
    expect(this.result.error).toMatchObject(fields);
    this.thenNothingChanged();
    return this.result.error as RejectionOf<C>;
  }

  thenNothingChanged(): this {
    expect(this.after).toEqual(this.before);
    return this;
  }

  /** A retry: accepted as a replay of `first`, with its very events, and nothing changed. */
  thenReplayed(first: Outcome): this {
    expect(this.outcome.replayed).toBe(true);
    expect(this.outcome.events).toEqual(first.events);
    return this.thenNothingChanged();
  }
}
