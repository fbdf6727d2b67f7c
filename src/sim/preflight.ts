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
 *
 * `preflightReport` is the whole judgement as one document, shared by `collateral preflight`
 * (src/cli/preflight.ts) and the service's `POST /v1/config/preflight`. It reads the live
 * ledger once, at the start (everything after runs on copies), and lets the event loop turn
 * between replays, so a service keeps answering while a pre-flight runs.
 */
import { formatWad, parseDecimal, WAD_DECIMALS } from '../core/fixed.ts';
import type { InputIssue } from '../core/input.ts';
import { decide } from '../core/ledger/decide.ts';
import type { Ledger } from '../core/ledger/ledger.ts';
import type { Rejection } from '../core/ledger/rejections.ts';
import { isSystemAccount, type LedgerState } from '../core/ledger/state.ts';
import { err, ok, type Result } from '../core/result.ts';
import { BUNDLED_SCENARIOS } from '../oracle/feeds/playback.ts';
import { Book, PriceFeeder } from './book.ts';
import { configImpact } from './config-impact.ts';
import { resolveSimConfig, type SimConfig } from './config.ts';
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

/**
 * Replays each scenario on copies of the live book under the current and the proposed
 * configuration. The live ledger is read before the first replay and never again; between two
 * replays the event loop turns.
 */
export async function judgeScenarios(options: PreflightOptions): Promise<ScenarioJudgement[]> {
  const { ledger } = options;
  const state = ledger.state;
  const live = new Map<string, bigint>();
  for (const [asset, price] of state.prices) live.set(asset, price.priceWad);
  const snapshot = ledger.snapshot();
  const currentJson = state.configJson;
  const depthUsd = defaultDepth(bookExposure(state), state.config.quote);
  const { oracle: oracleSection, ...proposedRisk } = (options.proposedJson ?? {}) as Record<string, unknown>;
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
    const figures = async (riskJson: unknown): Promise<RunFigures | string> => {
      await nextTurn();
      const sim = resolveSimConfig(oracleSection === undefined ? riskJson : { ...(riskJson as object), oracle: oracleSection }, gapMs);
      if (!sim.ok) return sim.error.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
      const book = Book.fromSnapshot(snapshot, false);
      if (riskJson !== currentJson) {
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
    const current = await figures(currentJson);
    const proposed = await figures(proposedRisk);
    if (typeof current === 'string' || typeof proposed === 'string') {
      judgements.push({ scenario: loaded.value.id, applies: true, error: typeof current === 'string' ? current : String(proposed) });
      continue;
    }
    const change = wadOf(proposed.badDebtUsd) - wadOf(current.badDebtUsd);
    judgements.push({ scenario: loaded.value.id, applies: true, current, proposed, badDebtChangeUsd: formatWad(change) });
  }
  return judgements;
}

/** Lets the event loop run other work (a service's requests, its feed) before the next replay. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// ── The report ───────────────────────────────────────────────────────────────────────────

/** Accounts listed by id in a report's `atOnce`, at most. */
export const PREFLIGHT_EXAMPLES_MAX = 20;

export type PreflightVerdict = 'accept' | 'refuse';

/** What the change does the moment it applies (config-impact.ts), with example accounts. */
export interface AtOnceJudgement {
  readonly accounts: number;
  readonly current: { readonly warning: number; readonly liquidatable: number };
  readonly proposed: { readonly warning: number; readonly liquidatable: number };
  readonly newlyLiquidatable: number;
  readonly newlyWarning: number;
  readonly unvalued: number;
  /** At most PREFLIGHT_EXAMPLES_MAX ids, in the ledger's account order. */
  readonly newlyLiquidatableAccounts: readonly string[];
  readonly newlyWarningAccounts: readonly string[];
}

/** The pre-flight document, as `collateral preflight` prints it (less its `config` path) and the service answers it. */
export interface PreflightReport {
  /** Names the proposed configuration (config.ts `configHash`: risk and oracle sections). */
  readonly configHash: string;
  /** The live book judged: its last event and state hash. */
  readonly seq: number;
  readonly stateHash: string;
  /** `refuse` when any account would become liquidatable at once (what POST /v1/config refuses without `force`). */
  readonly verdict: PreflightVerdict;
  readonly reason: string;
  readonly atOnce: AtOnceJudgement;
  readonly scenarios: readonly ScenarioJudgement[];
}

/** Why there is no report; nothing was judged. */
export type PreflightError =
  /** The proposed file fails validation: every issue, each naming its field (`oracle.…` for the oracle section). */
  | { readonly code: 'INVALID_CONFIG'; readonly issues: readonly InputIssue[] }
  /** The ledger's own rules on a configuration change refuse it (no removed asset, same decimals, …). */
  | { readonly code: 'LEDGER_WOULD_REFUSE'; readonly rejection: Rejection };

export interface PreflightReportOptions extends Omit<PreflightOptions, 'startMs'> {
  /** The edge's clock (ms since the epoch): replays start at it, or after the latest time the ledger has seen. */
  readonly nowMs: number;
}

/** The proposed configuration validated as a pre-flight reads it: risk and oracle sections. */
export function checkProposal(proposedJson: unknown): Result<SimConfig, PreflightError> {
  const proposed = resolveSimConfig(proposedJson, 0);
  return proposed.ok ? proposed : err({ code: 'INVALID_CONFIG', issues: proposed.error });
}

/** Judges a proposed configuration on a live book: valid, accepted by the ledger, at once, under each crisis. */
export async function preflightReport(options: PreflightReportOptions): Promise<Result<PreflightReport, PreflightError>> {
  const { ledger, proposedJson } = options;
  const proposed = checkProposal(proposedJson);
  if (!proposed.ok) return proposed;
  const { oracle: _oracle, ...proposedRisk } = proposedJson as Record<string, unknown>;
  const decision = decide(ledger.state, { kind: 'config', idempotencyKey: 'preflight:check', config: proposedRisk });
  if (!decision.ok) return err({ code: 'LEDGER_WOULD_REFUSE', rejection: decision.error });
  // From here on the report is made: what follows reads the live ledger and changes nothing.

  const seq = ledger.headSeq;
  const stateHash = ledger.stateHash();
  const impact = configImpact(ledger.state, proposed.value.risk);
  const scenarios = await judgeScenarios({
    ledger,
    proposedJson,
    ...(options.scenarios !== undefined && { scenarios: options.scenarios }),
    startMs: Math.max(options.nowMs, latestTimeOf(ledger.state)),
    ...(options.onScenario !== undefined && { onScenario: options.onScenario }),
  });
  const verdict: PreflightVerdict = impact.newlyLiquidatable.length > 0 ? 'refuse' : 'accept';
  return ok({
    configHash: proposed.value.configHash,
    seq,
    stateHash,
    verdict,
    reason:
      verdict === 'refuse'
        ? `${impact.newlyLiquidatable.length} account(s) would be liquidatable as soon as the configuration applies`
        : 'no account becomes liquidatable at once',
    atOnce: {
      accounts: impact.accounts,
      current: impact.current,
      proposed: impact.proposed,
      newlyLiquidatable: impact.newlyLiquidatable.length,
      newlyWarning: impact.newlyWarning.length,
      unvalued: impact.unvalued,
      newlyLiquidatableAccounts: impact.newlyLiquidatable.slice(0, PREFLIGHT_EXAMPLES_MAX),
      newlyWarningAccounts: impact.newlyWarning.slice(0, PREFLIGHT_EXAMPLES_MAX),
    },
    scenarios,
  });
}

/** The latest time the ledger has seen (cascade windows, auctions, interest), so a replay starts after it. */
function latestTimeOf(state: LedgerState): number {
  let latest = 0;
  for (const window of state.liquidationWindows.values()) latest = Math.max(latest, window.startMs);
  for (const auction of state.auctions.values()) latest = Math.max(latest, auction.startMs);
  for (const asset of state.assets.values()) latest = Math.max(latest, asset.accruedAtMs ?? 0);
  return latest;
}

function wadOf(text: string): bigint {
  const parsed = parseDecimal(text, WAD_DECIMALS);
  return parsed.ok ? parsed.value : 0n;
}
