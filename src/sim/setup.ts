/**
 * Setting up a simulated book: the configuration recorded first (so the log needs nothing
 * else to replay), the start prices through the oracle, the population's commands, and the
 * system accounts funded by deposits (the insurance fund, the backstop liquidator, and a
 * keeper when some asset is sold by Dutch auction).
 */
import { divDown, formatDecimal, WAD, WAD_DECIMALS } from '../core/fixed.ts';
import { SYSTEM } from '../core/ledger/state.ts';
import { Book, PriceFeeder } from './book.ts';
import type { SimConfig } from './config.ts';
import { defaultDepth, DEFAULT_IMPACT_HALF_LIFE_MS, type ImpactOptions } from './impact.ts';
import type { PriceFrame } from './paths.ts';
import { buildPopulation, type Population } from './population.ts';

export interface FundingOptions {
  /** Insurance fund at the start, USD wad; default 1% of the book (perp notional + borrows), at least 10,000. */
  readonly insuranceUsd?: bigint;
  /** Backstop capital, USD wad; default half the perp notional + a fifth of the borrows, at least 100,000. */
  readonly backstopUsd?: bigint;
}

export interface ImpactSettings {
  /** USD per step for a 1% move: one figure for every asset but the quote, or per asset. */
  readonly depthUsd?: number | ReadonlyMap<string, number>;
  readonly halfLifeMs?: number;
}

export interface SimulatedBook {
  readonly book: Book;
  readonly feeder: PriceFeeder;
  readonly population: Population;
  /** Assets priced outside the path: the quote at 1 when the path does not carry it. */
  readonly heldPrices: ReadonlyMap<string, bigint>;
  readonly impact: ImpactOptions;
  readonly keeper: string | undefined;
  readonly insuranceUsd: bigint;
  readonly backstopUsd: bigint;
  /** Accounts opened. */
  readonly accounts: number;
  /** Setup commands refused, by code. */
  readonly setupRefusals: Readonly<Record<string, number>>;
}

export const KEEPER_ACCOUNT = 'sim-keeper';

export function setupBook(options: {
  readonly config: SimConfig;
  readonly start: PriceFrame;
  readonly accounts: number;
  readonly seed: number;
  readonly keepLog: boolean;
  readonly funding?: FundingOptions;
  readonly impact?: ImpactSettings;
}): SimulatedBook {
  const { config, start } = options;
  const book = Book.create(config.risk, config.riskJson, options.keepLog);
  expectOk(book.execute({ kind: 'config', idempotencyKey: 'sim:config', config: config.riskJson }), 'configuration');
  const heldPrices = new Map<string, bigint>();
  if (!start.prices.has(config.risk.quote)) heldPrices.set(config.risk.quote, WAD);
  const feeder = new PriceFeeder(config.oracle, book, config.heartbeatMs);
  const startPrices = new Map<string, string>();
  for (const [asset, priceWad] of [...heldPrices, ...start.prices]) startPrices.set(asset, formatDecimal(priceWad, WAD_DECIMALS));
  feeder.feed(startPrices, start.timestampMs);

  const spot = new Map<string, bigint>();
  for (const [asset, price] of book.ledger.state.prices) spot.set(asset, price.priceWad);
  const population = buildPopulation({ accounts: options.accounts, seed: options.seed, config: config.risk, prices: spot });
  for (const plan of population.plans) {
    for (const command of plan.commands) if (!book.execute(command).ok) break;
  }
  const setupRefusals: Record<string, number> = {};
  for (const [code, count] of [...book.refusals].sort(([a], [b]) => (a < b ? -1 : 1))) setupRefusals[code] = count;

  const bookUsd = population.perpNotionalUsd + population.borrowedUsd;
  const insuranceUsd = options.funding?.insuranceUsd ?? usdWad(Math.max(10_000, 0.01 * bookUsd));
  const backstopUsd = options.funding?.backstopUsd ?? usdWad(Math.max(100_000, 0.5 * population.perpNotionalUsd + 0.2 * population.borrowedUsd));
  fund(book, SYSTEM.insurance, insuranceUsd, config);
  fund(book, SYSTEM.backstop, backstopUsd, config);
  const auctions = [...config.risk.assets.values()].some((asset) => asset.auction !== undefined);
  const keeper = auctions ? KEEPER_ACCOUNT : undefined;
  if (keeper !== undefined) fund(book, keeper, backstopUsd, config);

  const depthSetting = options.impact?.depthUsd;
  const depthUsd =
    depthSetting === undefined
      ? defaultDepth(population.exposureUsd, config.risk.quote)
      : typeof depthSetting === 'number'
        ? new Map([...config.risk.assets.keys()].filter((id) => id !== config.risk.quote).map((id) => [id, depthSetting]))
        : new Map(depthSetting);
  let accounts = 0;
  for (const plan of population.plans) if (book.ledger.state.accounts.has(plan.id)) accounts += 1;
  return {
    book,
    feeder,
    population,
    heldPrices,
    impact: { depthUsd, halfLifeMs: options.impact?.halfLifeMs ?? DEFAULT_IMPACT_HALF_LIFE_MS },
    keeper,
    insuranceUsd,
    backstopUsd,
    accounts,
    setupRefusals,
  };
}

/** Deposits `usd` worth of the quote asset into `account`. */
function fund(book: Book, account: string, usd: bigint, config: SimConfig): void {
  if (usd <= 0n) return;
  const quote = config.risk.assets.get(config.risk.quote);
  const price = book.ledger.state.prices.get(config.risk.quote)?.priceWad ?? WAD;
  if (quote === undefined) throw new Error('simulator: the quote asset is not configured');
  const amount = divDown(usd * quote.unit, price);
  expectOk(
    book.execute({ kind: 'deposit', idempotencyKey: `sim:fund:${account}`, account, asset: quote.id, amount }),
    `funding of ${account}`,
  );
}

/** A float USD figure (a default drawn from the population) as a wad, in whole cents. */
function usdWad(usd: number): bigint {
  return BigInt(Math.round(usd * 100)) * (WAD / 100n);
}

function expectOk(result: { ok: boolean; error?: { code: string } }, what: string): void {
  if (!result.ok) throw new Error(`simulator: ${what} refused (${result.error?.code ?? '?'})`);
}
