/**
 * The oracle: a deterministic state machine from source updates to guarded prices.
 *
 * The clock is an argument (`nowMs`), never read here: the same updates at the same times
 * give the same prices, in production, in tests and in the simulator.
 *
 * `submit(update, nowMs)`:
 * 1. **Update guards** (guards.ts, in the order of ORACLE_REASON_CODES). A failing update is
 *    rejected and changes nothing, and in particular does not trip the breaker: otherwise
 *    anyone able to send one malformed update could halt an asset.
 * 2. The update is taken: it becomes its source's latest quote. If the asset had gone stale
 *    before it (fewer than `quorum` fresh sources), the breaker trips with STALE first, so
 *    a frozen feed needs `recoveryUpdates` good aggregates once it moves again.
 * 3. **Aggregate guards**: median of the fresh quotes (aggregate.ts), then quorum, confidence
 *    width, deviation from the previous aggregate, deviation over the window. A failing
 *    aggregate trips the asset's circuit breaker; a passing one becomes the spot price and
 *    moves the stable and mark prices (smoothing.ts). An open breaker closes after
 *    `recoveryUpdates` consecutive passing aggregates.
 *
 * Deviation per update is measured from the previous *aggregate*, accepted or not, rather
 * than from the last accepted price: after a real and lasting move, the first aggregate at
 * the new level trips the breaker, and the following ones, consistent with each other,
 * recover it. Measured from the last accepted price, a market that really moved 30% would
 * be refused forever (the lesson of Venus' clamped LUNA feed: stuck is not safe). The window
 * guard, over accepted prices only, keeps a slow walk in small steps from passing.
 *
 * `guarded(asset, nowMs)` also evaluates staleness at `nowMs`: a frozen feed is unhealthy
 * without any new update. The stable and mark prices are evaluated at `nowMs` (spot held
 * since its last acceptance).
 */
import { err, ok, type Result } from '../core/result.ts';
import { aggregateQuotes, freshQuotes, type Aggregate, type SourceQuote } from './aggregate.ts';
import type { AssetOracleConfig, OracleConfig } from './config.ts';
import {
  guardCanonicalConfidence,
  guardCanonicalPrice,
  guardConfidenceRatio,
  guardDeviationPerUpdate,
  guardDeviationPerWindow,
  guardFresh,
  guardIncreasing,
  guardKnownAsset,
  guardKnownSource,
  guardNonNegativeConfidence,
  guardNotInFuture,
  guardPositivePrice,
  guardQuorum,
  guardTimestampValid,
  type GuardFailure,
  type OracleReasonCode,
} from './guards.ts';
import { verifyAttestation, type PublisherSignature } from './signatures.ts';
import { stepMarkPrice, stepStablePrice } from './smoothing.ts';
import { PriceWindow } from './window.ts';

/** One source's price for one asset, as sources push it (decimals as canonical strings). */
export interface PriceUpdate {
  readonly source: string;
  readonly asset: string;
  /** USD per whole unit, canonical decimal string, > 0. */
  readonly price: string;
  /** Half-width of the source's confidence interval, canonical decimal string; absent = 0. */
  readonly confidence?: string;
  /** When the source observed the price, ms since the epoch. */
  readonly timestampMs: number;
  readonly signatures?: readonly PublisherSignature[];
}

/** What the engine reads: the asset's guarded prices and whether they may be used. */
export interface GuardedPrice {
  readonly asset: string;
  /** The spot aggregate last accepted (median of fresh sources). */
  readonly priceWad: bigint;
  readonly confidenceWad: bigint;
  /** Slow price bounded in growth per hour: initial margin uses the less favourable of spot and stable. */
  readonly stablePriceWad: bigint;
  /** EMA of spot with the configured half-life: perp PnL and margin. */
  readonly markPriceWad: bigint;
  /** False while the circuit breaker is open or the asset is stale: no liquidation, no risk-increasing command. */
  readonly healthy: boolean;
  /** Why it is unhealthy; empty when healthy. */
  readonly reasons: readonly OracleReasonCode[];
  /** When the spot aggregate was last accepted (the oracle's clock). */
  readonly updatedAtMs: number;
}

export type AggregateOutcome =
  | { readonly status: 'accepted'; readonly priceWad: bigint; readonly confidenceWad: bigint; readonly sourceCount: number }
  | { readonly status: 'rejected'; readonly reasons: readonly GuardFailure[] };

export type SubmitResult =
  | { readonly status: 'rejected'; readonly asset: string; readonly source: string; readonly reasons: readonly GuardFailure[] }
  | {
      readonly status: 'accepted';
      readonly asset: string;
      readonly source: string;
      /** What the new quote did to the asset's aggregate. */
      readonly aggregate: AggregateOutcome;
      /** The asset's health right after this update. */
      readonly healthy: boolean;
    };

export type Breaker =
  | { readonly state: 'closed' }
  | {
      readonly state: 'open';
      /** What tripped it last. */
      readonly reasons: readonly OracleReasonCode[];
      /** Consecutive passing aggregates since then. */
      readonly goodUpdates: number;
    };

export interface AssetStatus {
  readonly asset: string;
  readonly healthy: boolean;
  readonly reasons: readonly OracleReasonCode[];
  /** Absent until an aggregate has passed every guard (reason NO_PRICE). */
  readonly price?: GuardedPrice;
  readonly breaker: Breaker;
  readonly recoveryUpdates: number;
  readonly freshSources: number;
  readonly quorum: number;
}

export type GuardedPriceError =
  | { readonly code: 'UNKNOWN_ASSET'; readonly asset: string }
  | { readonly code: 'NO_PRICE'; readonly asset: string };

/** The push interface the service and the feeds write to. */
export interface PriceSink {
  submit(update: PriceUpdate, nowMs: number): SubmitResult;
}

/** Spot and its derived prices, as of `atMs`. */
interface Spot {
  readonly priceWad: bigint;
  readonly confidenceWad: bigint;
  readonly atMs: number;
  readonly stableWad: bigint;
  readonly markWad: bigint;
}

interface AssetState {
  readonly config: AssetOracleConfig;
  /** Latest accepted quote per source (one entry for a single-source asset). */
  readonly quotes: Map<string, SourceQuote>;
  /** Per publisher key: timestamp of the last accepted update it signed (replay guard). */
  readonly publisherTimestamps: Map<string, number>;
  readonly window: PriceWindow;
  previousAggregateWad: bigint | undefined;
  spot: Spot | undefined;
  breaker: Breaker;
}

/** An update that passed every update guard, ready to apply. */
interface CheckedUpdate {
  readonly state: AssetState;
  readonly quote: SourceQuote;
  readonly publishers: readonly string[];
}

const CLOSED: Breaker = { state: 'closed' };
const SOURCE_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

export class Oracle implements PriceSink {
  readonly #assets = new Map<string, AssetState>();
  readonly #knownAssets: ReadonlySet<string>;
  #lastSubmitMs = 0;

  constructor(config: OracleConfig) {
    for (const [asset, assetConfig] of config.assets) {
      this.#assets.set(asset, {
        config: assetConfig,
        quotes: new Map(),
        publisherTimestamps: new Map(),
        window: new PriceWindow(assetConfig.guards.windowMs),
        previousAggregateWad: undefined,
        spot: undefined,
        breaker: CLOSED,
      });
    }
    this.#knownAssets = new Set(this.#assets.keys());
  }

  submit(update: PriceUpdate, nowMs: number): SubmitResult {
    // The clock is the caller's; one that runs backwards is a bug at the edge, not data.
    if (!Number.isSafeInteger(nowMs) || nowMs < this.#lastSubmitMs) {
      throw new RangeError(`Oracle.submit: clock went backwards or is not an integer (${nowMs} after ${this.#lastSubmitMs})`);
    }
    this.#lastSubmitMs = nowMs;
    const checked = this.#checkUpdate(update, nowMs);
    if (!checked.ok) {
      return { status: 'rejected', asset: String(update.asset), source: String(update.source), reasons: [checked.error] };
    }
    // Past this point the update is taken; nothing below can fail.
    const { state, quote, publishers } = checked.value;
    this.#tripIfStale(state, nowMs);
    if (state.config.sources.kind === 'single') state.quotes.clear();
    state.quotes.set(quote.source, quote);
    for (const publisher of publishers) state.publisherTimestamps.set(publisher, quote.timestampMs);
    const aggregate = this.#aggregate(state, nowMs);
    return {
      status: 'accepted',
      asset: state.config.asset,
      source: quote.source,
      aggregate,
      healthy: this.#reasons(state, nowMs).length === 0,
    };
  }

  /** The asset's guarded prices at `nowMs`, or why there are none. */
  guarded(asset: string, nowMs: number): Result<GuardedPrice, GuardedPriceError> {
    const state = this.#assets.get(asset);
    if (state === undefined) return err({ code: 'UNKNOWN_ASSET', asset });
    const price = this.#guardedPrice(state, nowMs);
    return price === undefined ? err({ code: 'NO_PRICE', asset }) : ok(price);
  }

  /** Every configured asset's status at `nowMs`, in configuration order. */
  status(nowMs: number): readonly AssetStatus[] {
    return [...this.#assets.values()].map((state) => {
      const price = this.#guardedPrice(state, nowMs);
      const reasons = price?.reasons ?? this.#reasons(state, nowMs);
      return {
        asset: state.config.asset,
        healthy: reasons.length === 0,
        reasons,
        ...(price !== undefined && { price }),
        breaker: state.breaker,
        recoveryUpdates: state.config.guards.recoveryUpdates,
        freshSources: freshQuotes(state.quotes.values(), nowMs, state.config.guards.maxAgeMs).length,
        quorum: quorumOf(state.config),
      };
    });
  }

  // -------------------------------------------------------------------------------------
  // Update guards, in order. Reads state, changes nothing.

  #checkUpdate(update: PriceUpdate, nowMs: number): Result<CheckedUpdate, GuardFailure> {
    const asset = typeof update.asset === 'string' ? update.asset : '';
    const unknownAsset = guardKnownAsset(asset, this.#knownAssets);
    if (unknownAsset !== undefined) return err(unknownAsset);
    const state = this.#assets.get(asset)!;
    const { config } = state;
    const { guards } = config;

    const source = typeof update.source === 'string' && SOURCE_ID.test(update.source) ? update.source : '';
    const unknownSource =
      source === ''
        ? { code: 'UNKNOWN_SOURCE' as const, message: 'source must be an id (1-64 of A-Z a-z 0-9 _ . : -)' }
        : guardKnownSource(source, config.sources.kind === 'listed' ? config.sources.ids : 'any');
    if (unknownSource !== undefined) return err(unknownSource);

    const price = guardCanonicalPrice(update.price);
    if (!price.ok) return price;
    const priceWad = price.value;
    const nonPositive = guardPositivePrice(priceWad);
    if (nonPositive !== undefined) return err(nonPositive);

    const confidence = guardCanonicalConfidence(update.confidence);
    if (!confidence.ok) return confidence;
    const confidenceWad = confidence.value;
    const negative = guardNonNegativeConfidence(confidenceWad);
    if (negative !== undefined) return err(negative);

    const badTimestamp = guardTimestampValid(update.timestampMs);
    if (badTimestamp !== undefined) return err(badTimestamp);
    const timestampMs = update.timestampMs;
    const timeFailure =
      guardNotInFuture(timestampMs, nowMs, guards.maxFutureMs) ?? guardFresh(timestampMs, nowMs, guards.maxAgeMs);
    if (timeFailure !== undefined) return err(timeFailure);

    // Signatures before the source's own timestamp order, so that a replayed attestation is
    // reported as SIGNATURE_REPLAYED whichever source relays it.
    const attestation = verifyAttestation({
      price: { asset, priceWad, confidenceWad, timestampMs },
      signatures: update.signatures,
      policy: config.attestation,
      lastTimestamps: state.publisherTimestamps,
    });
    if (!attestation.ok) return attestation;

    const lastTimestampMs = lastQuoteTimestamp(state, source);
    const orderOrWidth =
      guardIncreasing(timestampMs, lastTimestampMs) ??
      guardConfidenceRatio(priceWad, confidenceWad, guards.maxConfidenceRatioWad);
    if (orderOrWidth !== undefined) return err(orderOrWidth);

    return ok({ state, quote: { source, priceWad, confidenceWad, timestampMs }, publishers: attestation.value });
  }

  // -------------------------------------------------------------------------------------
  // Aggregate, guards, breaker.

  /** A stale asset (quorum of fresh quotes lost since the last update) trips its breaker. */
  #tripIfStale(state: AssetState, nowMs: number): void {
    if (state.spot === undefined) return;
    const fresh = freshQuotes(state.quotes.values(), nowMs, state.config.guards.maxAgeMs).length;
    if (fresh < quorumOf(state.config)) trip(state, ['STALE']);
  }

  #aggregate(state: AssetState, nowMs: number): AggregateOutcome {
    const { guards } = state.config;
    const fresh = freshQuotes(state.quotes.values(), nowMs, guards.maxAgeMs);
    const quorumFailure = guardQuorum(fresh.length, quorumOf(state.config));
    if (quorumFailure !== undefined) return this.#reject(state, [quorumFailure]);

    const aggregate = aggregateQuotes(fresh);
    const failures = [
      guardConfidenceRatio(aggregate.priceWad, aggregate.confidenceWad, guards.maxConfidenceRatioWad),
      guardDeviationPerUpdate(aggregate.priceWad, state.previousAggregateWad, guards.maxDeviationPerUpdateWad),
      guardDeviationPerWindow(aggregate.priceWad, state.window.range(nowMs), guards.maxDeviationPerWindowWad),
    ].filter((failure) => failure !== undefined);
    state.previousAggregateWad = aggregate.priceWad;
    if (failures.length > 0) return this.#reject(state, failures);

    accept(state, aggregate, nowMs);
    return {
      status: 'accepted',
      priceWad: aggregate.priceWad,
      confidenceWad: aggregate.confidenceWad,
      sourceCount: aggregate.sourceCount,
    };
  }

  /** A failing aggregate trips the breaker of a priced asset; an unpriced one stays NO_PRICE. */
  #reject(state: AssetState, failures: readonly GuardFailure[]): AggregateOutcome {
    if (state.spot !== undefined) trip(state, failures.map((failure) => failure.code));
    return { status: 'rejected', reasons: failures };
  }

  // -------------------------------------------------------------------------------------
  // Queries.

  #reasons(state: AssetState, nowMs: number): readonly OracleReasonCode[] {
    if (state.spot === undefined) return ['NO_PRICE'];
    const reasons: OracleReasonCode[] = state.breaker.state === 'open' ? [...state.breaker.reasons] : [];
    const fresh = freshQuotes(state.quotes.values(), nowMs, state.config.guards.maxAgeMs).length;
    if (fresh < quorumOf(state.config) && !reasons.includes('STALE')) reasons.push('STALE');
    return reasons;
  }

  #guardedPrice(state: AssetState, nowMs: number): GuardedPrice | undefined {
    const { spot } = state;
    if (spot === undefined) return undefined;
    const { guards } = state.config;
    const elapsedMs = Math.max(0, nowMs - spot.atMs);
    const reasons = this.#reasons(state, nowMs);
    return {
      asset: state.config.asset,
      priceWad: spot.priceWad,
      confidenceWad: spot.confidenceWad,
      stablePriceWad: stepStablePrice(spot.stableWad, spot.priceWad, elapsedMs, guards.stablePriceGrowthPerHourWad),
      markPriceWad: stepMarkPrice(spot.markWad, spot.priceWad, elapsedMs, guards.markHalfLifeMs),
      healthy: reasons.length === 0,
      reasons,
      updatedAtMs: spot.atMs,
    };
  }
}

function quorumOf(config: AssetOracleConfig): number {
  return config.sources.kind === 'listed' ? config.sources.quorum : 1;
}

/** A single-source asset is one feed whatever the source id, so its order is the feed's. */
function lastQuoteTimestamp(state: AssetState, source: string): number | undefined {
  if (state.config.sources.kind === 'single') {
    const [only] = state.quotes.values();
    return only?.timestampMs;
  }
  return state.quotes.get(source)?.timestampMs;
}

/** Opens the breaker (or restarts its recovery count) with the reasons of this failure. */
function trip(state: AssetState, reasons: readonly OracleReasonCode[]): void {
  state.breaker = { state: 'open', reasons: [...new Set(reasons)], goodUpdates: 0 };
}

/**
 * A passing aggregate becomes spot. The stable and mark prices first move over the interval
 * the previous spot stood, then restart from the new spot; the window records it; an open
 * breaker counts it towards recovery.
 */
function accept(state: AssetState, aggregate: Aggregate, nowMs: number): void {
  const { guards } = state.config;
  const previous = state.spot;
  if (previous === undefined) {
    state.spot = { ...priceOf(aggregate), atMs: nowMs, stableWad: aggregate.priceWad, markWad: aggregate.priceWad };
  } else {
    const elapsedMs = nowMs - previous.atMs;
    state.spot = {
      ...priceOf(aggregate),
      atMs: nowMs,
      stableWad: stepStablePrice(previous.stableWad, previous.priceWad, elapsedMs, guards.stablePriceGrowthPerHourWad),
      markWad: stepMarkPrice(previous.markWad, previous.priceWad, elapsedMs, guards.markHalfLifeMs),
    };
  }
  state.window.push(nowMs, aggregate.priceWad);
  if (state.breaker.state === 'open') {
    const goodUpdates = state.breaker.goodUpdates + 1;
    state.breaker = goodUpdates >= guards.recoveryUpdates ? CLOSED : { ...state.breaker, goodUpdates };
  }
}

function priceOf(aggregate: Aggregate): { priceWad: bigint; confidenceWad: bigint } {
  return { priceWad: aggregate.priceWad, confidenceWad: aggregate.confidenceWad };
}
