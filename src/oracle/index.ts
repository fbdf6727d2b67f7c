/**
 * The oracle's public surface: configuration, the state machine, guards and their reason
 * codes, attestations, price books per margin level, and the feeds.
 */
export { aggregateQuotes, dispersionWad, freshQuotes, MAD_TO_SIGMA_WAD, medianDown, medianUp } from './aggregate.ts';
export type { Aggregate, SourceQuote } from './aggregate.ts';
export { corePrice, corePriceBook } from './book.ts';
export { DEFAULT_GUARDS, parseOracleConfig, singleSourceConfig } from './config.ts';
export type { AssetOracleConfig, OracleConfig, OracleGuards, SourcePolicy } from './config.ts';
export { ORACLE_REASON_CODES } from './guards.ts';
export type { GuardFailure, OracleReasonCode } from './guards.ts';
export { Oracle } from './oracle.ts';
export type {
  AggregateOutcome,
  AssetStatus,
  Breaker,
  GuardedPrice,
  GuardedPriceError,
  PriceSink,
  PriceUpdate,
  SubmitResult,
} from './oracle.ts';
export {
  ATTESTATION_DOMAIN,
  attestationMessage,
  checksumAddress,
  ed25519Publisher,
  eip191Publisher,
  NO_ATTESTATION,
  personalSign,
  recoverEip191Address,
  signEd25519,
  signEip191,
  verifyAttestation,
} from './signatures.ts';
export type { AttestationPolicy, AttestedPrice, PublisherSignature, SignatureScheme } from './signatures.ts';
export { halfLifeDecayWad, stepMarkPrice, stepStablePrice } from './smoothing.ts';
export {
  BUNDLED_SCENARIOS,
  loadScenario,
  loadScenarioOrThrow,
  parseScenario,
  scenarioFrames,
  scenarioTicks,
  seriesTicks,
  tickUpdate,
} from './feeds/playback.ts';
export type { Scenario, ScenarioFrame, ScenarioSeries, ScenarioTick } from './feeds/playback.ts';
export { formatSignificant, SimulatedFeed, Xoshiro128 } from './feeds/simulated.ts';
export type { SimulatedAssetOptions, SimulatedFeedOptions } from './feeds/simulated.ts';
