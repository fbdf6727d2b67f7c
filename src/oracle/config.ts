/**
 * Oracle configuration: per asset, which sources feed it, how many must agree, and the
 * guards its prices must pass. Read from JSON with the same reader as `risk.json`: unknown
 * fields are errors, fractions are canonical decimal strings, durations and counts are
 * integers, and every problem is reported with the path of its field.
 *
 * ```json
 * { "defaults": { "maxAgeMs": 60000, "maxDeviationPerUpdate": "0.1" },
 *   "assets": [
 *     { "id": "ETH", "sources": ["binance", "coinbase", "kraken"], "quorum": 2,
 *       "maxAgeMs": 30000, "maxConfidenceRatio": "0.02",
 *       "maxDeviationPerUpdate": "0.1", "maxDeviationPerWindow": "0.25", "windowMs": 300000,
 *       "recoveryUpdates": 3, "stablePriceGrowthPerHour": "0.1", "markHalfLifeMs": 60000,
 *       "publishers": { "ed25519": ["<64 hex>"], "eip191": ["0x<40 hex>"], "threshold": 2 } } ] }
 * ```
 *
 * **An asset without oracle configuration** (listed in the risk configuration but not here)
 * accepts a single source: updates from any source id are one feed, the latest accepted
 * update is its price (quorum 1), and the default guards apply (`defaults`, else
 * `DEFAULT_GUARDS`). Small setups work with no oracle section at all; configure `sources`
 * to aggregate several feeds and to refuse updates from anyone else.
 */
import { WAD, WAD_DECIMALS } from '../core/fixed.ts';
import { InputReader, join, type DecimalBounds, type InputIssue } from '../core/input.ts';
import { err, ok, type Result } from '../core/result.ts';
import { NO_ATTESTATION, normalizeAddress, normalizeEd25519PublicKey, type AttestationPolicy } from './signatures.ts';

/** The guards and smoothing parameters of one asset. Fractions are wads (1e18 = 1.0). */
export interface OracleGuards {
  /** A source's price older than this is not fresh; with fewer than `quorum` fresh sources the asset is stale. */
  readonly maxAgeMs: number;
  /** Allowed clock skew: a timestamp further ahead of our clock is rejected. */
  readonly maxFutureMs: number;
  /** confidence / price above this is rejected (per update) or trips the breaker (aggregate). */
  readonly maxConfidenceRatioWad: bigint;
  /** |aggregate − previous aggregate| / previous above this trips the breaker. */
  readonly maxDeviationPerUpdateWad: bigint;
  /** |aggregate − any accepted aggregate of the last `windowMs`| / that price above this trips the breaker. */
  readonly maxDeviationPerWindowWad: bigint;
  readonly windowMs: number;
  /** Consecutive aggregates passing every guard that close a tripped breaker. */
  readonly recoveryUpdates: number;
  /** The stable price moves towards spot by at most this fraction per hour (compounded per update). */
  readonly stablePriceGrowthPerHourWad: bigint;
  /** Half-life of the mark price's exponential moving average. */
  readonly markHalfLifeMs: number;
}

/**
 * Which sources feed an asset. `listed`: only these ids, aggregated by median with a quorum.
 * `single`: the asset has no oracle configuration; any source id, one feed, quorum 1.
 */
export type SourcePolicy =
  | { readonly kind: 'listed'; readonly ids: readonly string[]; readonly quorum: number }
  | { readonly kind: 'single' };

export interface AssetOracleConfig {
  readonly asset: string;
  readonly sources: SourcePolicy;
  readonly guards: OracleGuards;
  readonly attestation: AttestationPolicy;
}

export interface OracleConfig {
  /** Every asset of the risk configuration, configured or with the defaults. */
  readonly assets: ReadonlyMap<string, AssetOracleConfig>;
}

const PERCENT = WAD / 100n;

/**
 * Defaults for an asset the configuration does not name (and for each field an asset
 * leaves out): a minute of staleness, 2 s of clock skew, confidence within 2% of the price,
 * at most 10% per update and 25% per 5 minutes, 3 good updates to recover, a stable price
 * that follows spot by at most 10% per hour, a one-minute mark half-life.
 */
export const DEFAULT_GUARDS: OracleGuards = {
  maxAgeMs: 60_000,
  maxFutureMs: 2_000,
  maxConfidenceRatioWad: 2n * PERCENT,
  maxDeviationPerUpdateWad: 10n * PERCENT,
  maxDeviationPerWindowWad: 25n * PERCENT,
  windowMs: 300_000,
  recoveryUpdates: 3,
  stablePriceGrowthPerHourWad: 10n * PERCENT,
  markHalfLifeMs: 60_000,
};

/** The configuration of an asset the oracle section does not name: single source, given guards. */
export function singleSourceConfig(asset: string, guards: OracleGuards = DEFAULT_GUARDS): AssetOracleConfig {
  return { asset, sources: { kind: 'single' }, guards, attestation: NO_ATTESTATION };
}

const DAY_MS = 86_400_000;
const TOP_FIELDS = ['defaults', 'assets'];
const GUARD_FIELDS = [
  'maxAgeMs',
  'maxFutureMs',
  'maxConfidenceRatio',
  'maxDeviationPerUpdate',
  'maxDeviationPerWindow',
  'windowMs',
  'recoveryUpdates',
  'stablePriceGrowthPerHour',
  'markHalfLifeMs',
];
const ASSET_FIELDS = ['id', 'sources', 'quorum', 'publishers', ...GUARD_FIELDS];
const PUBLISHER_FIELDS = ['ed25519', 'eip191', 'threshold'];

const RATIO_RANGE: DecimalBounds = { min: 0n, minExclusive: true, max: WAD, text: '(0, 1]' };
const DEVIATION_RANGE: DecimalBounds = { min: 0n, minExclusive: true, max: 100n * WAD, text: '(0, 100]' };
const GROWTH_RANGE: DecimalBounds = { min: 0n, minExclusive: true, max: 100n * WAD, text: '(0, 100]' };
const AGE_RANGE = { min: 1, max: 7 * DAY_MS } as const;
const FUTURE_RANGE = { min: 0, max: 60_000 } as const;
const WINDOW_RANGE = { min: 1, max: 7 * DAY_MS } as const;
const RECOVERY_RANGE = { min: 1, max: 10_000 } as const;
const HALF_LIFE_RANGE = { min: 1, max: 30 * DAY_MS } as const;
const SOURCES_MAX = 64;
const PUBLISHERS_MAX = 64;

/**
 * Validates an oracle section against the assets of the risk configuration. `json` may be
 * `undefined` (no oracle section): every asset then gets `singleSourceConfig`.
 */
export function parseOracleConfig(json: unknown, assetIds: readonly string[]): Result<OracleConfig, readonly InputIssue[]> {
  const reader = new InputReader();
  const top = json === undefined ? {} : reader.object(json, '', TOP_FIELDS);
  if (top === undefined) return err(reader.issues);

  const defaults = reader.optional(top, 'defaults', (v) => readGuards(reader, v, 'defaults', DEFAULT_GUARDS, true)) ?? DEFAULT_GUARDS;
  const configured = new Map<string, AssetOracleConfig>();
  const list = reader.optional(top, 'assets', (v) => reader.array(v, 'assets')) ?? [];
  list.forEach((value, index) => {
    const field = join('assets', index);
    const asset = readAsset(reader, value, field, defaults);
    if (asset === undefined) return;
    if (!assetIds.includes(asset.asset)) reader.fail(join(field, 'id'), `unknown asset "${asset.asset}" (not in the risk configuration)`);
    else if (configured.has(asset.asset)) reader.fail(join(field, 'id'), `duplicate asset id "${asset.asset}"`);
    else configured.set(asset.asset, asset);
  });
  if (reader.issues.length > 0) return err(reader.issues);

  const assets = new Map<string, AssetOracleConfig>();
  for (const id of assetIds) assets.set(id, configured.get(id) ?? singleSourceConfig(id, defaults));
  return ok({ assets });
}

function readAsset(reader: InputReader, value: unknown, field: string, defaults: OracleGuards): AssetOracleConfig | undefined {
  const record = reader.object(value, field, ASSET_FIELDS);
  if (record === undefined) return undefined;
  const id = reader.required(record, 'id', field, (v) => reader.identifier(v, join(field, 'id')));
  const ids = reader.required(record, 'sources', field, (v) => readSources(reader, v, join(field, 'sources')));
  const guards = readGuards(reader, record, field, defaults, false);
  const attestation =
    reader.optional(record, 'publishers', (v) => readPublishers(reader, v, join(field, 'publishers'))) ?? NO_ATTESTATION;
  if (id === undefined || ids === undefined || guards === undefined) return undefined;
  // Majority by default: one source alone never decides among several.
  const majority = Math.floor(ids.length / 2) + 1;
  const quorum =
    reader.optional(record, 'quorum', (v) => reader.integer(v, join(field, 'quorum'), { min: 1, max: ids.length })) ?? majority;
  return { asset: id, sources: { kind: 'listed', ids, quorum }, guards, attestation };
}

function readSources(reader: InputReader, value: unknown, field: string): readonly string[] | undefined {
  const list = reader.array(value, field);
  if (list === undefined) return undefined;
  if (list.length === 0 || list.length > SOURCES_MAX) return reader.fail(field, `must list 1 to ${SOURCES_MAX} source ids`);
  const ids: string[] = [];
  const before = reader.issues.length;
  list.forEach((item, index) => {
    const id = reader.identifier(item, join(field, index));
    if (id === undefined) return;
    if (ids.includes(id)) reader.fail(join(field, index), `duplicate source "${id}"`);
    else ids.push(id);
  });
  return reader.issues.length > before ? undefined : ids;
}

/**
 * Reads the guard fields of `value` (the `defaults` object, or an asset record whose other
 * fields its caller reads), each falling back to `fallback`.
 */
function readGuards(
  reader: InputReader,
  value: unknown,
  field: string,
  fallback: OracleGuards,
  ownObject: boolean,
): OracleGuards | undefined {
  const record = ownObject ? reader.object(value, field, GUARD_FIELDS) : (value as Record<string, unknown>);
  if (record === undefined) return undefined;
  const before = reader.issues.length;
  const integer = (key: string, range: { readonly min: number; readonly max: number }, otherwise: number): number =>
    reader.optional(record, key, (v) => reader.integer(v, join(field, key), range)) ?? otherwise;
  const fraction = (key: string, bounds: DecimalBounds, otherwise: bigint): bigint =>
    reader.optional(record, key, (v) => reader.decimalWithin(v, join(field, key), WAD_DECIMALS, bounds)) ?? otherwise;

  const guards: OracleGuards = {
    maxAgeMs: integer('maxAgeMs', AGE_RANGE, fallback.maxAgeMs),
    maxFutureMs: integer('maxFutureMs', FUTURE_RANGE, fallback.maxFutureMs),
    maxConfidenceRatioWad: fraction('maxConfidenceRatio', RATIO_RANGE, fallback.maxConfidenceRatioWad),
    maxDeviationPerUpdateWad: fraction('maxDeviationPerUpdate', DEVIATION_RANGE, fallback.maxDeviationPerUpdateWad),
    maxDeviationPerWindowWad: fraction('maxDeviationPerWindow', DEVIATION_RANGE, fallback.maxDeviationPerWindowWad),
    windowMs: integer('windowMs', WINDOW_RANGE, fallback.windowMs),
    recoveryUpdates: integer('recoveryUpdates', RECOVERY_RANGE, fallback.recoveryUpdates),
    stablePriceGrowthPerHourWad: fraction('stablePriceGrowthPerHour', GROWTH_RANGE, fallback.stablePriceGrowthPerHourWad),
    markHalfLifeMs: integer('markHalfLifeMs', HALF_LIFE_RANGE, fallback.markHalfLifeMs),
  };
  if (reader.issues.length > before) return undefined;
  // A window limit below the per-update one would make the per-update limit dead code:
  // almost certainly two values swapped.
  if (guards.maxDeviationPerWindowWad < guards.maxDeviationPerUpdateWad) {
    return reader.fail(join(field, 'maxDeviationPerWindow'), 'must be at least maxDeviationPerUpdate');
  }
  return guards;
}

function readPublishers(reader: InputReader, value: unknown, field: string): AttestationPolicy | undefined {
  const record = reader.object(value, field, PUBLISHER_FIELDS);
  if (record === undefined) return undefined;
  const before = reader.issues.length;
  const ed25519 = reader.optional(record, 'ed25519', (v) =>
    readKeys(reader, v, join(field, 'ed25519'), normalizeEd25519PublicKey, 'an ed25519 public key (64 hex digits, a valid point)'),
  );
  const eip191 = reader.optional(record, 'eip191', (v) =>
    readKeys(reader, v, join(field, 'eip191'), normalizeAddress, 'an Ethereum address (0x and 40 hex digits, EIP-55 checksum if mixed case)'),
  );
  // A bad key is reported at its own field; no second, vaguer issue about the list.
  if (reader.issues.length > before) return undefined;
  const count = (ed25519?.length ?? 0) + (eip191?.length ?? 0);
  if (count === 0) return reader.fail(field, 'must list at least one publisher in "ed25519" or "eip191"');
  if (count > PUBLISHERS_MAX) return reader.fail(field, `at most ${PUBLISHERS_MAX} publishers`);
  const threshold = reader.required(record, 'threshold', field, (v) => reader.integer(v, join(field, 'threshold'), { min: 1, max: count }));
  if (threshold === undefined) return undefined;
  return { kind: 'required', ed25519: ed25519 ?? [], eip191: eip191 ?? [], threshold };
}

function readKeys(
  reader: InputReader,
  value: unknown,
  field: string,
  normalize: (text: string) => string | undefined,
  what: string,
): readonly string[] | undefined {
  const list = reader.array(value, field);
  if (list === undefined) return undefined;
  const keys: string[] = [];
  list.forEach((item, index) => {
    const key = typeof item === 'string' ? normalize(item) : undefined;
    if (key === undefined) reader.fail(join(field, index), `must be ${what}`);
    else if (keys.includes(key)) reader.fail(join(field, index), 'duplicate publisher');
    else keys.push(key);
  });
  return keys;
}
