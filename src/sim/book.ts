/**
 * The book a simulation runs on: the real ledger, every command it takes recorded (when
 * asked) so that a replay can rebuild the state, and the bridge from the real oracle to it.
 *
 * The bridge does what the service's PriceBridge does (src/service/prices.ts), synchronously:
 * each asset's price goes through the oracle's guards and aggregation, and when its guarded
 * price (spot, confidence, stable, mark) or health changes, the ledger records it with a
 * price command.
 */
import { parseRiskConfig, type RiskConfig } from '../core/config.ts';
import { formatIssues } from '../core/input.ts';
import type { Command } from '../core/ledger/commands.ts';
import { Ledger, type Outcome, type SealedEvent } from '../core/ledger/ledger.ts';
import type { Rejection } from '../core/ledger/rejections.ts';
import type { Result } from '../core/result.ts';
import type { OracleConfig } from '../oracle/config.ts';
import { priceCommandFor } from '../oracle/ledger-price.ts';
import { Oracle } from '../oracle/oracle.ts';

export class Book {
  /** Every sealed event, in order, when the book keeps its log. */
  readonly log: SealedEvent[] | null;
  /** Commands refused, by code (the population's setup and the run). */
  readonly refusals = new Map<string, number>();

  constructor(
    readonly ledger: Ledger,
    keepLog: boolean,
  ) {
    this.log = keepLog ? [] : null;
  }

  static create(risk: RiskConfig, riskJson: unknown, keepLog: boolean): Book {
    return new Book(Ledger.create(risk, riskJson), keepLog);
  }

  /** A ledger restored from `Ledger.snapshot()` text; the book's log starts empty. */
  static fromSnapshot(text: string, keepLog: boolean): Book {
    return new Book(Ledger.fromSnapshot(text, parseConfigOrThrow), keepLog);
  }

  execute(command: Command): Result<Outcome, Rejection> {
    const result = this.ledger.execute(command);
    if (!result.ok) {
      this.refusals.set(result.error.code, (this.refusals.get(result.error.code) ?? 0) + 1);
      return result;
    }
    if (this.log !== null && !result.value.replayed) this.log.push(...result.value.events);
    return result;
  }
}

export function parseConfigOrThrow(json: unknown): RiskConfig {
  const parsed = parseRiskConfig(json);
  if (!parsed.ok) throw new Error(`invalid stored configuration: ${formatIssues(parsed.error)}`);
  return parsed.value;
}

/** Source ids a simulated price is submitted from: every listed source agrees. */
function sourcesOf(config: OracleConfig, asset: string): readonly string[] {
  const policy = config.assets.get(asset)?.sources;
  return policy?.kind === 'listed' ? policy.ids : ['simulator'];
}

export class PriceFeeder {
  readonly oracle: Oracle;
  /** Price commands recorded with `healthy: false`. */
  unhealthyRecords = 0;
  private last: { readonly prices: ReadonlyMap<string, string>; readonly atMs: number } | null = null;

  /**
   * `heartbeatMs`: re-print the last prices this often between two feeds, as a live feed
   * would (config.ts explains when); null: never.
   */
  constructor(
    private readonly oracleConfig: OracleConfig,
    private readonly book: Book,
    private readonly heartbeatMs: number | null = null,
  ) {
    this.oracle = new Oracle(oracleConfig);
  }

  /** Submits one price per asset at `nowMs` and records what changed in the ledger. */
  feed(prices: ReadonlyMap<string, string>, nowMs: number): void {
    if (this.last !== null && this.heartbeatMs !== null) {
      for (let atMs = this.last.atMs + this.heartbeatMs; atMs < nowMs; atMs += this.heartbeatMs) this.submit(this.last.prices, atMs);
    }
    this.submit(prices, nowMs);
    for (const asset of prices.keys()) if (this.oracleConfig.assets.has(asset)) this.record(asset, nowMs);
    this.last = { prices, atMs: nowMs };
  }

  private submit(prices: ReadonlyMap<string, string>, nowMs: number): void {
    for (const [asset, price] of prices) {
      if (!this.oracleConfig.assets.has(asset)) continue;
      for (const source of sourcesOf(this.oracleConfig, asset)) {
        this.oracle.submit({ source, asset, price, timestampMs: nowMs }, nowMs);
      }
    }
  }

  private record(asset: string, nowMs: number): void {
    const guarded = this.oracle.guarded(asset, nowMs);
    if (!guarded.ok) return;
    const price = guarded.value;
    const command = priceCommandFor(this.book.ledger.state, price, `sim:price:${asset}:${this.book.ledger.headSeq + 1}`);
    if (command === null) return;
    if (!price.healthy) this.unhealthyRecords += 1;
    const result = this.book.execute(command);
    if (!result.ok) throw new Error(`simulator: price command for ${asset} refused (${result.error.code})`);
  }
}
