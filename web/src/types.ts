/**
 * The JSON shapes the page reads, as the service sends them (src/service/http/app.ts and
 * risk-views.ts). Every amount, price, USD value and ratio is a canonical decimal string.
 */

export type Role = 'admin' | 'oracle' | 'venue' | 'keeper' | 'reader' | 'owner';

export interface Session {
  readonly keyId: string;
  readonly role: Role;
  /** The account an owner key is bound to. */
  readonly account: string | null;
}

export interface PriceRow {
  readonly asset: string;
  readonly price: string | null;
  readonly confidence: string | null;
  readonly stablePrice: string | null;
  readonly markPrice: string | null;
  readonly healthy: boolean;
  readonly reasons: readonly string[];
  readonly freshSources: number;
  readonly quorum: number;
  readonly updatedAtMs: number | null;
}

export interface Level {
  readonly assets: string;
  readonly liabilities: string;
  readonly health: string;
  readonly ratio: string | null;
}

export interface Sides {
  readonly assets: string;
  readonly liabilities: string;
}

export interface Weights {
  readonly initial: string;
  readonly maintenance: string;
}

export interface BalanceContribution {
  readonly kind: 'balance';
  readonly asset: string;
  readonly amount: string;
  readonly side: 'collateral' | 'liability';
  readonly price: string;
  readonly initialPrice: string;
  readonly weight: Weights;
  readonly initial: Sides;
  readonly maintenance: Sides;
}

export interface PerpContribution {
  readonly kind: 'perp';
  readonly market: string;
  readonly size: string;
  readonly entryPrice: string;
  readonly markPrice: string;
  readonly unrealizedPnl: string;
  readonly marginFraction: Weights;
  readonly initial: Sides;
  readonly maintenance: Sides;
}

export type Contribution = BalanceContribution | PerpContribution;

export interface LiquidationPrice {
  readonly asset: string;
  readonly current: string;
  readonly down: string | null;
  readonly up: string | null;
}

export interface AccountRisk {
  readonly id: string;
  readonly initial: Level;
  readonly maintenance: Level;
  readonly liquidatable: boolean;
  readonly warning: boolean;
  readonly breakdown: readonly Contribution[];
  /** Null when the account is liquidatable already. */
  readonly liquidationPrices: readonly LiquidationPrice[] | null;
  readonly balances: Readonly<Record<string, string>>;
}

export interface AccountJson extends AccountRisk {
  readonly owner: string;
  readonly perps: readonly {
    readonly market: string;
    readonly size: string;
    readonly entryPrice: string;
    readonly deleveragingRank: { readonly rank: number; readonly of: number } | null;
  }[];
  readonly auctions: readonly string[];
}

export type LedgerCheck =
  | { readonly accepted: true }
  | { readonly accepted: false; readonly code: string; readonly message: string; readonly healthAfter?: Level };

export interface PreviewJson extends AccountRisk {
  readonly before: { readonly initial: Level; readonly maintenance: Level };
  /** Whether the ledger would take the first action (a withdrawal) now; null for price moves. */
  readonly check: LedgerCheck | null;
}

export interface Liquidation {
  readonly seq: number;
  readonly account: string;
  readonly liquidator: string;
  readonly atMs: number;
  readonly bankrupt: boolean;
  readonly targetReached: boolean;
  readonly prices: readonly { readonly asset: string; readonly price: string; readonly confidence: string }[];
  readonly healthBefore: { readonly initial: Level; readonly maintenance: Level };
  readonly healthAfter: { readonly initial: Level; readonly maintenance: Level };
  readonly penaltiesUsd: string;
  readonly badDebtUsd: string;
  readonly steps: readonly Readonly<Record<string, unknown>>[];
  readonly explanation: string;
}

export interface Summary {
  readonly atMs: number;
  readonly seq: number;
  readonly accounts: {
    readonly total: number;
    readonly healthy: number;
    readonly warning: number;
    readonly liquidatable: number;
    readonly unpriced: number;
  };
  readonly totals: {
    readonly collateralUsd: string;
    readonly debtUsd: string;
    readonly openInterestUsd: string;
    readonly openInterest: readonly { readonly market: string; readonly size: string; readonly notionalUsd: string }[];
    readonly initial: Sides;
    readonly maintenance: Sides;
  };
  readonly histogram: {
    readonly warningRatio: string;
    readonly buckets: readonly { readonly from: string; readonly to: string | null; readonly count: number }[];
    readonly noLiabilities: number;
  };
  readonly insuranceFundUsd: string;
}

export interface History {
  readonly insuranceFund: readonly { readonly atMs: number; readonly valueUsd: string }[];
  readonly insuranceSampleMs: number;
  readonly liquidationsPerMinute: readonly { readonly minuteMs: number; readonly count: number }[];
}

export type Exposure =
  | { readonly kind: 'balance'; readonly asset: string; readonly amount: string; readonly valueUsd: string | null }
  | { readonly kind: 'perp'; readonly market: string; readonly size: string; readonly notionalUsd: string | null };

export interface RankedAccount {
  readonly id: string;
  readonly maintenanceRatio: string | null;
  readonly maintenanceHealth: string;
  readonly initialHealth: string;
  readonly warning: boolean;
  readonly liquidatable: boolean;
  readonly exposures: readonly Exposure[];
}

export type RankingSort = 'ratio' | 'health' | 'initialHealth';

export interface Ranking {
  readonly sort: RankingSort;
  readonly order: 'asc' | 'desc';
  readonly offset: number;
  readonly limit: number;
  readonly total: number;
  readonly accounts: readonly RankedAccount[];
}

/** `POST /v1/config/preflight` (src/sim/preflight.ts `PreflightReport`). */
export interface PreflightReport {
  readonly configHash: string;
  readonly seq: number;
  readonly stateHash: string;
  readonly verdict: 'accept' | 'refuse';
  readonly reason: string;
  readonly atOnce: {
    readonly accounts: number;
    readonly current: StatusCounts;
    readonly proposed: StatusCounts;
    readonly newlyLiquidatable: number;
    readonly newlyWarning: number;
    readonly unvalued: number;
    readonly newlyLiquidatableAccounts: readonly string[];
    readonly newlyWarningAccounts: readonly string[];
  };
  readonly scenarios: readonly ScenarioJudgement[];
}

export interface StatusCounts {
  readonly warning: number;
  readonly liquidatable: number;
}

export interface ScenarioJudgement {
  readonly scenario: string;
  /** False when the scenario moves no asset the book holds. */
  readonly applies: boolean;
  readonly current?: RunFigures;
  readonly proposed?: RunFigures;
  readonly badDebtChangeUsd?: string;
  readonly error?: string;
}

export interface RunFigures {
  readonly liquidations: number;
  readonly liquidatedNotionalUsd: string;
  readonly badDebtUsd: string;
  readonly socializedLossUsd: string;
  readonly deleveragingEvents: number;
  readonly insuranceFundStartUsd: string;
  readonly insuranceFundEndUsd: string;
  readonly liquidatableAtEnd: number;
  readonly refusals: Readonly<Record<string, number>>;
}

/** Messages of the WebSocket stream (src/service/stream.ts, service.ts `publish`). */
export type StreamMessage =
  | { readonly type: 'hello'; readonly topics: readonly string[] }
  | { readonly type: 'subscribed'; readonly topics: readonly string[] }
  | { readonly type: 'error'; readonly code: string; readonly message: string }
  | {
      readonly topic: 'prices';
      readonly type: 'price';
      readonly seq: number;
      readonly asset: string;
      readonly price: string;
      readonly confidence: string;
      readonly healthy: boolean;
      readonly reasons: readonly string[];
    }
  | { readonly topic: string; readonly type: 'liquidation'; readonly seq: number; readonly account: string; readonly explanation: string }
  | {
      readonly topic: string;
      readonly type: 'warning' | 'liquidatable' | 'recovered';
      readonly account: string;
      readonly maintenanceHealth: string;
      readonly maintenanceRatio: string | null;
      readonly liquidatable: boolean;
    };
