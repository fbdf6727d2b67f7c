/**
 * report.json: what a run found, in the shape of the issue ("Stress simulator"), USD values
 * and prices as decimal strings with all 18 decimals (as the API prints them), times as UTC
 * ISO strings of the path's clock. Nothing in it depends on the wall clock or the machine:
 * the same seed and inputs give the same bytes.
 */
import { formatWad } from '../core/fixed.ts';
import type { RunResult, TimelineEntry } from './run.ts';

export interface ReportMeta {
  readonly scenario: string;
  readonly seed: number;
  readonly accounts: number;
  readonly configHash: string;
}

export interface ReportTotals {
  readonly liquidations: number;
  readonly liquidatedNotionalUsd: string;
  readonly penaltiesUsd: string;
  readonly badDebtUsd: string;
  readonly insuranceFundStartUsd: string;
  readonly insuranceFundEndUsd: string;
  readonly insuranceFundMinUsd: string;
  readonly socializedLossUsd: string;
  readonly deleveragingEvents: number;
}

export interface ReportTimelineEntry {
  readonly t: string;
  readonly prices: Readonly<Record<string, string>>;
  readonly accountsWarning: number;
  readonly accountsLiquidatable: number;
  readonly liquidations: number;
  readonly insuranceFundUsd: string;
  readonly badDebtUsd: string;
}

export interface Report {
  readonly scenario: string;
  readonly seed: number;
  readonly accounts: number;
  readonly configHash: string;
  readonly totals: ReportTotals;
  readonly timeline: readonly ReportTimelineEntry[];
  readonly invariants: { readonly conservation: 'held' | 'violated'; readonly healthyLiquidated: number };
  readonly stateHash: string;
}

export function buildReport(meta: ReportMeta, run: RunResult): Report {
  return {
    scenario: meta.scenario,
    seed: meta.seed,
    accounts: meta.accounts,
    configHash: meta.configHash,
    totals: reportTotals(run),
    timeline: run.timeline.map(timelineEntry),
    invariants: { conservation: run.invariants.conservation, healthyLiquidated: run.invariants.healthyLiquidated },
    stateHash: run.stateHash,
  };
}

export function reportTotals(run: RunResult): ReportTotals {
  return {
    liquidations: run.totals.liquidations,
    liquidatedNotionalUsd: formatWad(run.totals.liquidatedNotionalUsd),
    penaltiesUsd: formatWad(run.totals.penaltiesUsd),
    badDebtUsd: formatWad(run.totals.badDebtUsd),
    insuranceFundStartUsd: formatWad(run.insuranceFundStartUsd),
    insuranceFundEndUsd: formatWad(run.insuranceFundEndUsd),
    insuranceFundMinUsd: formatWad(run.insuranceFundMinUsd),
    socializedLossUsd: formatWad(run.totals.socializedLossUsd),
    deleveragingEvents: run.totals.deleveragingEvents,
  };
}

function timelineEntry(entry: TimelineEntry): ReportTimelineEntry {
  const prices: Record<string, string> = {};
  for (const [asset, priceWad] of entry.prices) prices[asset] = formatWad(priceWad);
  return {
    t: isoTime(entry.timestampMs),
    prices,
    accountsWarning: entry.accountsWarning,
    accountsLiquidatable: entry.accountsLiquidatable,
    liquidations: entry.liquidations,
    insuranceFundUsd: formatWad(entry.insuranceFundUsd),
    badDebtUsd: formatWad(entry.badDebtUsd),
  };
}

/** A time of the path's clock as "2020-03-12T10:15:00Z". */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** The report as the file holds it: two-space JSON and a final newline. */
export function reportText(report: unknown): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
