/**
 * A seeded account population, as the commands that build it: the same commands the API
 * takes (deposits, borrows, matched perp trades), so every account passes the engine's own
 * margin checks when it opens.
 *
 * Kinds of account, drawn per account:
 * - **perp traders** (45%, when there are markets): in pairs, one long and one short of the same
 *   size in one market, traded with each other at the oracle price; each side has its own
 *   leverage, drawn between 1.2× and 95% of the market's maximum (1 / initial margin fraction,
 *   with size scaling), skewed towards the low end (median about 2.5× on a 10× market); 70% post the quote asset as margin, the
 *   rest a volatile asset (a long with volatile margin is exposed twice);
 * - **long borrowers** (30%): volatile collateral, a stablecoin borrowed against it, using
 *   25% to 95% of the initial borrowing power;
 * - **short borrowers** (10%): stablecoin collateral, a volatile asset borrowed;
 * - **lenders** (the rest): deposits only; they take the haircut when bad debt is socialised.
 * Account sizes are log-normal around 3,000 USD (from 50 USD to 2 million).
 *
 * Floats draw the population (a model, like the simulated feed); every amount becomes base
 * units on bigint before it reaches a command.
 */
import type { AssetConfig, RiskConfig } from '../core/config.ts';
import { max, mulDivDown, WAD } from '../core/fixed.ts';
import type { Command } from '../core/ledger/commands.ts';
import { Xoshiro128 } from '../oracle/feeds/simulated.ts';
import { isStablePrice } from './config.ts';

export interface PopulationOptions {
  readonly accounts: number;
  readonly seed: number;
  readonly config: RiskConfig;
  /** Spot prices at the start, wads (the oracle's, as the ledger holds them). */
  readonly prices: ReadonlyMap<string, bigint>;
}

export interface AccountPlan {
  readonly id: string;
  readonly kind: 'perpLong' | 'perpShort' | 'longBorrower' | 'shortBorrower' | 'lender';
  /** The account's commands, in order; a refused one skips the rest of the account. */
  readonly commands: readonly Command[];
}

export interface Population {
  readonly plans: readonly AccountPlan[];
  /** Open perp notional (one side), USD, float: sizes the system accounts and market depth. */
  readonly perpNotionalUsd: number;
  readonly borrowedUsd: number;
  /** Gross exposure per asset (collateral, debt and perp notional), USD, float. */
  readonly exposureUsd: ReadonlyMap<string, number>;
}

const SHARE_PERP = 0.45;
const SHARE_LONG_BORROWER = 0.3;
const SHARE_SHORT_BORROWER = 0.1;
const SIZE_MEDIAN_USD = 3_000;
const SIZE_LOG_SIGMA = 1.3;
const SIZE_MIN_USD = 50;
const SIZE_MAX_USD = 2_000_000;
const LEVERAGE_MIN = 1.2;
/** Borrowers use this share of their initial borrowing power, uniformly: 25% to 95%. */
const BORROW_SHARE_MIN = 0.25;
const BORROW_SHARE_SPAN = 0.7;
const LEVERAGE_HEADROOM = 0.95;
const QUOTE_MARGIN_SHARE = 0.7;
const MICRO = 1_000_000;

export function buildPopulation(options: PopulationOptions): Population {
  const { config, prices } = options;
  const random = new Xoshiro128(options.seed);
  const priced = (asset: string): boolean => (prices.get(asset) ?? 0n) > 0n;
  const assets = [...config.assets.values()].filter((asset) => priced(asset.id));
  const stable = (id: string): boolean => id === config.quote || isStablePrice(prices.get(id) ?? 0n);
  const volatileCollateral = assets.filter((a) => !stable(a.id) && a.collateral !== undefined && a.collateral.initialWad > 0n);
  const stableCollateral = assets.filter((a) => stable(a.id) && a.collateral !== undefined && a.collateral.initialWad > 0n);
  const stableDebt = assets.filter((a) => stable(a.id) && a.liability !== undefined);
  const volatileDebt = assets.filter((a) => !stable(a.id) && a.liability !== undefined);
  const markets = [...config.markets.values()].filter((market) => priced(market.base));
  const quote = config.assets.get(config.quote);

  const exposure = new Map<string, number>();
  const expose = (asset: string, usd: number): void => {
    exposure.set(asset, (exposure.get(asset) ?? 0) + usd);
  };
  let perpNotionalUsd = 0;
  let borrowedUsd = 0;

  const pick = <T>(items: readonly T[]): T => items[Math.floor(random.uniform() * items.length)]!;
  const debtsFor = (collateral: (typeof assets)[number], debts: readonly (typeof assets)[number][]) =>
    debts.filter((debt) => debt.id !== collateral.id);
  const sizeUsd = (): number =>
    Math.min(SIZE_MAX_USD, Math.max(SIZE_MIN_USD, SIZE_MEDIAN_USD * Math.exp(SIZE_LOG_SIGMA * random.normal())));
  const priceOf = (asset: string): bigint => prices.get(asset) ?? 0n;
  /** USD (float, drawn) to base units of `asset` at its start price, rounded down. */
  const units = (asset: string, usd: number): bigint => {
    const unit = config.assets.get(asset)?.unit ?? 1n;
    const microUsd = BigInt(Math.floor(usd * MICRO));
    return mulDivDown(microUsd * unit, WAD, priceOf(asset) * BigInt(MICRO));
  };
  const deposit = (account: string, asset: string, amount: bigint): Command => ({
    kind: 'deposit',
    idempotencyKey: `sim:deposit:${account}:${asset}`,
    account,
    asset,
    amount,
  });
  const borrow = (account: string, asset: string, amount: bigint): Command => ({
    kind: 'withdraw',
    idempotencyKey: `sim:borrow:${account}:${asset}`,
    account,
    asset,
    amount,
  });

  const longCollateral = volatileCollateral.filter((asset) => debtsFor(asset, stableDebt).length > 0);
  const shortCollateral = stableCollateral.filter((asset) => debtsFor(asset, volatileDebt).length > 0);

  const width = String(Math.max(options.accounts - 1, 0)).length;
  const idOf = (index: number): string => `sim-${String(index).padStart(width, '0')}`;
  const plans: AccountPlan[] = [];
  let pendingLong: { id: string; index: number } | null = null;

  for (let index = 0; index < options.accounts; index += 1) {
    const id = idOf(index);
    const draw = random.uniform();
    const canTrade = markets.length > 0 && quote !== undefined;
    if (canTrade && draw < SHARE_PERP) {
      // Traders come in pairs: the first of a pair waits for the second.
      if (pendingLong === null) {
        pendingLong = { id, index: plans.length };
        plans.push({ id, kind: 'perpLong', commands: [] });
        continue;
      }
      const long = pendingLong;
      pendingLong = null;
      const market = pick(markets);
      const base = config.assets.get(market.base)!;
      const notionalUsd = sizeUsd() * 3;
      const scaled = Number(market.sizeScalingFactorWad) / 1e18 * Math.sqrt(notionalUsd);
      const initialFraction = Math.max(Number(market.marginFraction.initialWad) / 1e18, scaled);
      const leverageMax = LEVERAGE_HEADROOM / initialFraction;
      const leverage = (): number => LEVERAGE_MIN + (Math.max(leverageMax, LEVERAGE_MIN) - LEVERAGE_MIN) * random.uniform() ** 2.2;
      const size = units(market.base, notionalUsd);
      if (size <= 0n) continue;
      const margin = (account: string): Command[] => {
        const marginUsd = notionalUsd / leverage();
        const collateral =
          random.uniform() < QUOTE_MARGIN_SHARE || volatileCollateral.length === 0 ? quote : pick(volatileCollateral);
        const weight = Number(collateral.collateral?.initialWad ?? WAD) / 1e18;
        const usd = marginUsd / Math.max(weight, 0.05);
        expose(collateral.id, usd);
        return [deposit(account, collateral.id, max(units(collateral.id, usd), 1n))];
      };
      const longCommands = margin(long.id);
      const shortCommands = margin(id);
      const trade: Command = {
        kind: 'trade',
        idempotencyKey: `sim:trade:${long.id}:${id}`,
        market: market.id,
        priceWad: priceOf(market.base),
        size,
        buyer: long.id,
        seller: id,
        buyerFeeRateWad: 0n,
        sellerFeeRateWad: 0n,
      };
      // The pair's trade goes with the second account, once both have their margin.
      plans[long.index] = { id: long.id, kind: 'perpLong', commands: longCommands };
      plans.push({ id, kind: 'perpShort', commands: [...shortCommands, trade] });
      perpNotionalUsd += notionalUsd;
      expose(base.id, 2 * notionalUsd);
      continue;
    }
    const usd = sizeUsd();
    const borrower = (kind: 'longBorrower' | 'shortBorrower', collateralList: readonly AssetConfig[], debtList: readonly AssetConfig[]): void => {
      const collateral = pick(collateralList);
      const debt = pick(debtsFor(collateral, debtList));
      const powerUsd = (usd * Number(collateral.collateral!.initialWad)) / Number(debt.liability!.initialWad);
      const borrowUsd = powerUsd * (BORROW_SHARE_MIN + BORROW_SHARE_SPAN * random.uniform());
      const commands = [deposit(id, collateral.id, units(collateral.id, usd)), borrow(id, debt.id, units(debt.id, borrowUsd))];
      plans.push({ id, kind, commands: commands.filter(nonZero) });
      expose(collateral.id, usd);
      expose(debt.id, borrowUsd);
      borrowedUsd += borrowUsd;
    };
    if (draw < SHARE_PERP + SHARE_LONG_BORROWER && longCollateral.length > 0) {
      borrower('longBorrower', longCollateral, stableDebt);
      continue;
    }
    if (draw < SHARE_PERP + SHARE_LONG_BORROWER + SHARE_SHORT_BORROWER && shortCollateral.length > 0) {
      borrower('shortBorrower', shortCollateral, volatileDebt);
      continue;
    }
    const lendable = random.uniform() < 0.7 && stableCollateral.length > 0 ? stableCollateral : [...stableCollateral, ...volatileCollateral];
    if (lendable.length === 0) continue;
    const asset = pick(lendable);
    plans.push({ id, kind: 'lender', commands: [deposit(id, asset.id, units(asset.id, usd))].filter(nonZero) });
    expose(asset.id, usd);
  }
  // A trader left without a partner keeps its account as a plain lender of the quote.
  if (pendingLong !== null && quote !== undefined) {
    plans[pendingLong.index] = {
      id: pendingLong.id,
      kind: 'lender',
      commands: [deposit(pendingLong.id, quote.id, units(quote.id, sizeUsd()))].filter(nonZero),
    };
  }
  return { plans: plans.filter((plan) => plan.commands.length > 0), perpNotionalUsd, borrowedUsd, exposureUsd: exposure };
}

function nonZero(command: Command): boolean {
  return !('amount' in command) || command.amount > 0n;
}
