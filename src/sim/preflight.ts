/**
 * Pre-flight: a proposed risk configuration judged on a live book before it is applied.
 *
 * - **At once**: every account valued exactly under the current and the proposed
 *   configuration at the current prices: how many the change puts in warning or makes
 *   liquidatable the moment it applies. The service's configuration route refuses a change
 *   that makes any account newly liquidatable unless forced (src/service/http/app.ts).
 * - **Under each crisis**: the built-in scenarios replayed on copies of the live book (their
 *   moves applied to today's prices of the assets the book holds, paths.ts `relativePath`),
 *   once with the current configuration and once with the proposed one: the bad debt each
 *   would leave, and the rest of the run's totals.
 */
import { formatWad, parseDecimal, WAD_DECIMALS } from '../core/fixed.ts';
import type { Ledger } from '../core/ledger/ledger.ts';
import { isSystemAccount, type LedgerState } from '../core/ledger/state.ts';
import { BUNDLED_SCENARIOS } from '../oracle/feeds/playback.ts';
import { Book, PriceFeeder } from './book.ts';
import { resolveSimConfig } from './config.ts';
import { defaultDepth, DEFAULT_IMPACT_HALF_LIFE_MS } from './impact.ts';
import { loadScenarioPath, maxFrameGapMs, relativePath } from './paths.ts';
import { runPath } from './run.ts';

export { configImpact, type ConfigImpact } from './config-impact.ts';

export interface ScenarioJudgement {
  readonly scenario: string;
  /** False when the scenario moves no asset the book holds. */
  readonly applies: boolean;
  readonly current?: RunFigures;
  readonly proposed?: RunFigures;
  /** Proposed minus current bad debt, USD. */
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

export interface PreflightOptions {
  /** The live ledger (left untouched: every run is on a copy). */
  readonly ledger: Ledger;
  /** The proposed configuration file's JSON (risk.json, optionally with `oracle`). */
  readonly proposedJson: unknown;
  /** Scenarios to replay; default the five built-in ones. */
  readonly scenarios?: readonly string[];
  /** Where the replayed crises start on the clock (ms since the epoch); the edge passes now. */
  readonly startMs: number;
  readonly onScenario?: (scenario: string) => void;
}

/** Gross exposure per asset of a live book (USD, float): the default market depth. */
export function bookExposure(state: LedgerState): Map<string, number> {
  const exposure = new Map<string, number>();
  const add = (asset: string, amount: bigint, decimals: number): void => {
    const price = Number(state.prices.get(asset)?.priceWad ?? 0n) / 1e18;
    const usd = (Math.abs(Number(amount)) / 10 ** decimals) * price;
    exposure.set(asset, (exposure.get(asset) ?? 0) + usd);
  };
  for (const record of state.accounts.values()) {
    if (isSystemAccount(record.id)) continue;
    for (const [asset, balance] of record.balances) add(asset, balance.amount, state.config.assets.get(asset)?.decimals ?? 0);
    for (const position of record.perps.values()) {
      const base = state.config.markets.get(position.market)?.base;
      if (base !== undefined) add(base, position.size, state.config.assets.get(base)?.decimals ?? 0);
    }
  }
  return exposure;
}

/** Replays each scenario on copies of the live book under the current and the proposed configuration. */
export function judgeScenarios(options: PreflightOptions): ScenarioJudgement[] {
  const { ledger } = options;
  const state = ledger.state;
  const live = new Map<string, bigint>();
  for (const [asset, price] of state.prices) live.set(asset, price.priceWad);
  const snapshot = ledger.snapshot();
  const depthUsd = defaultDepth(bookExposure(state), state.config.quote);
  const { oracle: oracleSection } = (options.proposedJson ?? {}) as Record<string, unknown>;
  const judgements: ScenarioJudgement[] = [];
  for (const name of options.scenarios ?? BUNDLED_SCENARIOS) {
    options.onScenario?.(name);
    const loaded = loadScenarioPath(name);
    if (!loaded.ok) {
      judgements.push({ scenario: name, applies: false, error: loaded.error.map((issue) => issue.message).join('; ') });
      continue;
    }
    const path = relativePath(loaded.value, live, options.startMs);
    if (path === null) {
      judgements.push({ scenario: loaded.value.id, applies: false });
      continue;
    }
    const gapMs = maxFrameGapMs(path);
    const figures = (riskJson: unknown): RunFigures | string => {
      const sim = resolveSimConfig(oracleSection === undefined ? riskJson : { ...(riskJson as object), oracle: oracleSection }, gapMs);
      if (!sim.ok) return sim.error.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
      const book = Book.fromSnapshot(snapshot, false);
      if (riskJson !== state.configJson) {
        const applied = book.execute({ kind: 'config', idempotencyKey: `preflight:${name}`, config: riskJson });
        if (!applied.ok) return `the ledger refuses the configuration: ${applied.error.code}`;
      }
      const run = runPath({
        book,
        feeder: new PriceFeeder(sim.value.oracle, book, sim.value.heartbeatMs),
        path,
        startFed: false,
        heldPrices: new Map(),
        impact: { depthUsd, halfLifeMs: DEFAULT_IMPACT_HALF_LIFE_MS },
        invariantEveryFrames: Math.max(1, path.frames.length),
      });
      return {
        liquidations: run.totals.liquidations,
        liquidatedNotionalUsd: formatWad(run.totals.liquidatedNotionalUsd),
        badDebtUsd: formatWad(run.totals.badDebtUsd),
        socializedLossUsd: formatWad(run.totals.socializedLossUsd),
        deleveragingEvents: run.totals.deleveragingEvents,
        insuranceFundStartUsd: formatWad(run.insuranceFundStartUsd),
        insuranceFundEndUsd: formatWad(run.insuranceFundEndUsd),
        liquidatableAtEnd: run.diagnostics.liquidatableAtEnd,
        refusals: run.diagnostics.refusals,
      };
    };
    const { oracle: _ignored, ...proposedRisk } = (options.proposedJson ?? {}) as Record<string, unknown>;
    const current = figures(state.configJson);
    const proposed = figures(proposedRisk);
    if (typeof current === 'string' || typeof proposed === 'string') {
      judgements.push({ scenario: loaded.value.id, applies: true, error: typeof current === 'string' ? current : String(proposed) });
      continue;
    }
    const change = wadOf(proposed.badDebtUsd) - wadOf(current.badDebtUsd);
    judgements.push({ scenario: loaded.value.id, applies: true, current, proposed, badDebtChangeUsd: formatWad(change) });
  }
  return judgements;
}

function wadOf(text: string): bigint {
  const parsed = parseDecimal(text, WAD_DECIMALS);
  return parsed.ok ? parsed.value : 0n;
}
