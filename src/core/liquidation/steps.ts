/**
 * Liquidation steps and the movements they make. A step is described once, as fills and
 * transfers between named accounts; the planner applies those movements to account views to
 * size the steps, and the ledger's evolve applies the very same movements to stored balances.
 */
import { adjustBalance, applyFill, type Account } from '../account.ts';
import type { RiskConfig } from '../config.ts';

/** Why a step has the amount it has (docs/LIQUIDATION.md explains each). */
export type StepRule =
  /** The smallest amount that brings the account to the target. */
  | 'MINIMAL_TO_TARGET'
  /** What was left would have been below the dust value: closed whole. */
  | 'WHOLE_DUST'
  /** Limited by the per-liquidation share of a position or debt (close factor). */
  | 'MAX_SHARE_CAP'
  /** Limited by the liquidated-notional cap of the market's window (cascade control). */
  | 'CASCADE_CAP'
  /** Limited by the keeper's own limit. */
  | 'KEEPER_LIMIT'
  /** The whole position, debt or collateral was taken and the target is still not reached. */
  | 'ALL_AVAILABLE'
  /** Bankrupt account: positions closed whole, without penalty. */
  | 'BANKRUPTCY_CLOSE'
  /** The insurance fund paid part of a bankrupt account's deficit. */
  | 'INSURANCE_COVER'
  /** The fund could not cover the deficit: profitable opposite positions closed at the bankruptcy price. */
  | 'DELEVERAGE'
  /** What nothing else covered: written off against the asset's lenders. */
  | 'SOCIALIZE';

/** The liquidator takes `size` of the account's position at `priceWad`; the account pays a penalty. */
export interface PerpStep {
  readonly kind: 'perp';
  readonly market: string;
  /** Signed like the account's position: the part taken over. */
  readonly size: bigint;
  readonly priceWad: bigint;
  /** Penalty in quote base units, rounded up; `toInsurance` of it goes to the fund. */
  readonly penalty: bigint;
  readonly toInsurance: bigint;
  readonly notionalUsd: bigint;
  readonly rule: StepRule;
}

/** The liquidator repays `repaid` of a debt and receives `seized` collateral (less the fund's share). */
export interface SwapStep {
  readonly kind: 'swap';
  readonly debtAsset: string;
  readonly repaid: bigint;
  readonly collateralAsset: string;
  readonly seized: bigint;
  /** The penalty charged on this swap (zero in bankruptcy). */
  readonly penaltyWad: bigint;
  readonly toInsurance: bigint;
  readonly valueUsd: bigint;
  readonly rule: StepRule;
}

/** The insurance fund pays `amount` of `asset` into a bankrupt account. */
export interface InsuranceStep {
  readonly kind: 'insurance';
  readonly asset: string;
  readonly amount: bigint;
  readonly rule: 'INSURANCE_COVER';
}

/** A profitable opposite position closes `size` of the account's position at the bankruptcy price. */
export interface DeleverageStep {
  readonly kind: 'deleverage';
  readonly market: string;
  readonly counterparty: string;
  /** Signed like the account's position. */
  readonly size: bigint;
  readonly priceWad: bigint;
  readonly rule: 'DELEVERAGE';
}

/** A debt nothing else covered, written off: the lenders of the asset take a haircut. */
export interface SocializeStep {
  readonly kind: 'socialize';
  readonly asset: string;
  readonly amount: bigint;
  readonly rule: 'SOCIALIZE';
}

/** Collateral put up for Dutch auction: the whole balance moves to escrow until takers raise the tab. */
export interface AuctionStep {
  readonly kind: 'auction';
  readonly collateralAsset: string;
  readonly lot: bigint;
  readonly debtAsset: string;
  /** Debt to raise, penalty included: the minimal repayment (as for a swap) × (1 + penalty). */
  readonly tab: bigint;
  readonly penaltyWad: bigint;
  readonly startPriceWad: bigint;
  readonly rule: StepRule;
}

export type LiquidationStep = PerpStep | SwapStep | InsuranceStep | DeleverageStep | SocializeStep | AuctionStep;

export interface Fill {
  readonly account: string;
  readonly market: string;
  readonly size: bigint;
  readonly priceWad: bigint;
}

export interface Transfer {
  readonly from: string;
  readonly to: string;
  readonly asset: string;
  readonly amount: bigint;
}

export interface Movements {
  readonly fills: readonly Fill[];
  readonly transfers: readonly Transfer[];
}

export interface Parties {
  readonly account: string;
  readonly liquidator: string;
  readonly insurance: string;
  /** Pays socialised losses (and later collects them back from lenders through the index). */
  readonly lenders: string;
  /** Holds collateral under auction. */
  readonly escrow: string;
}

/** Fills and transfers of one step. Fills carry no fee: penalties move as transfers. */
export function movementsOf(step: LiquidationStep, parties: Parties, config: RiskConfig): Movements {
  const { account, liquidator, insurance } = parties;
  switch (step.kind) {
    case 'perp':
      return {
        fills: [
          { account, market: step.market, size: -step.size, priceWad: step.priceWad },
          { account: liquidator, market: step.market, size: step.size, priceWad: step.priceWad },
        ],
        transfers: [
          { from: account, to: liquidator, asset: config.quote, amount: step.penalty - step.toInsurance },
          { from: account, to: insurance, asset: config.quote, amount: step.toInsurance },
        ],
      };
    case 'swap':
      return {
        fills: [],
        transfers: [
          { from: liquidator, to: account, asset: step.debtAsset, amount: step.repaid },
          { from: account, to: liquidator, asset: step.collateralAsset, amount: step.seized - step.toInsurance },
          { from: account, to: insurance, asset: step.collateralAsset, amount: step.toInsurance },
        ],
      };
    case 'insurance':
      return { fills: [], transfers: [{ from: insurance, to: account, asset: step.asset, amount: step.amount }] };
    case 'deleverage':
      return {
        fills: [
          { account, market: step.market, size: -step.size, priceWad: step.priceWad },
          { account: step.counterparty, market: step.market, size: step.size, priceWad: step.priceWad },
        ],
        transfers: [],
      };
    case 'socialize':
      return { fills: [], transfers: [{ from: parties.lenders, to: account, asset: step.asset, amount: step.amount }] };
    case 'auction':
      return { fills: [], transfers: [{ from: account, to: parties.escrow, asset: step.collateralAsset, amount: step.lot }] };
  }
}

/** Views of the accounts a liquidation touches, by id. */
export type Views = ReadonlyMap<string, Account>;

/** The views after a step's movements, realised PnL landing in the quote balance. */
export function applyMovements(views: Views, movements: Movements, config: RiskConfig): Views {
  const next = new Map(views);
  const quote = config.assets.get(config.quote);
  for (const fill of movements.fills) {
    const market = config.markets.get(fill.market);
    const base = market && config.assets.get(market.base);
    const view = next.get(fill.account);
    if (market === undefined || base === undefined || quote === undefined || view === undefined) {
      throw new Error(`applyMovements: cannot fill ${fill.account} on ${fill.market}`);
    }
    next.set(fill.account, applyFill(view, market, base, quote, { size: fill.size, priceWad: fill.priceWad, feeRateWad: 0n }).account);
  }
  for (const transfer of movements.transfers) {
    if (transfer.amount === 0n) continue;
    const from = next.get(transfer.from);
    const to = next.get(transfer.to);
    if (from === undefined || to === undefined) throw new Error(`applyMovements: unknown party in transfer`);
    next.set(transfer.from, adjustBalance(from, transfer.asset, -transfer.amount));
    next.set(transfer.to, adjustBalance(next.get(transfer.to) ?? to, transfer.asset, transfer.amount));
  }
  return next;
}
