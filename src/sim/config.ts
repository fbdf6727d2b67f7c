/**
 * The configuration a simulation runs with: a risk configuration (`risk.json`, optionally with
 * an `oracle` section, the same file `collateral serve --config` takes) and the oracle built
 * from it.
 *
 * Without a file the simulator uses the demo configuration (src/service/demo.ts) restricted
 * to the quote and the assets the price path carries, and adds an entry for each asset of the
 * path it does not know: a stablecoin profile for assets that start within 10% of 1 USD, a
 * volatile profile with a perp market for the others.
 *
 * Oracle guards: scenario ticks are minutes to hours apart, while production updates arrive
 * every few seconds. Between two ticks a live feed keeps printing, so nothing goes stale, and
 * a crash arrives as many small moves, so the per-update and per-window deviation guards do
 * not trip; played tick by tick, the same guards would call every asset stale and trip on the
 * sampling alone, keeping liquidations off for most of a crash. Unless the file has its own
 * `oracle` section, the simulator keeps the production defaults except for these: prices stay
 * fresh across the longest gap between frames, and the deviation limits are opened to their
 * maximum. With an `oracle` section the guards are the file's, and the simulator re-prints
 * each held price between frames often enough to keep it fresh (a heartbeat), so the
 * circuit breakers can be studied as configured: a tick's whole move then arrives as one
 * update. Publisher signatures are never required in a simulation (the prices are the
 * scenario's, not a publisher's).
 */
import { parseRiskConfig, type RiskConfig } from '../core/config.ts';
import { encodeCanonical } from '../core/ledger/codec.ts';
import { sha256Hex } from '../core/ledger/hash.ts';
import { formatIssues, type InputIssue } from '../core/input.ts';
import { err, ok, type Result } from '../core/result.ts';
import { parseOracleConfig, type OracleConfig } from '../oracle/config.ts';
import { NO_ATTESTATION } from '../oracle/signatures.ts';
import { DEMO_CONFIG } from '../service/demo.ts';

export interface SimConfig {
  /** The risk configuration as given (no `oracle` section): what the ledger records. */
  readonly riskJson: unknown;
  readonly risk: RiskConfig;
  /** The oracle section used (the file's, or the simulator's default). */
  readonly oracleJson: unknown;
  readonly oracle: OracleConfig;
  /** SHA-256 of the canonical JSON of `{ risk, oracle }`: names the configuration in reports. */
  readonly configHash: string;
  /** Held prices are re-printed this often between frames (a file's own oracle section); null: never. */
  readonly heartbeatMs: number | null;
}

const DAY_MS = 86_400_000;

/**
 * The simulator's oracle section when the file has none (see the module comment): fresh for
 * the longest gap between frames, deviation guards open.
 */
export function simOracleDefaults(maxFrameGapMs: number): Record<string, unknown> {
  const maxAgeMs = Math.min(7 * DAY_MS, Math.max(60_000, maxFrameGapMs + 60_000));
  return { defaults: { maxAgeMs, maxDeviationPerUpdate: '100', maxDeviationPerWindow: '100' } };
}

/** A price within this distance of 1 USD at the start marks a stablecoin. */
const STABLE_BAND = 0.1;

export function isStablePrice(priceWad: bigint): boolean {
  const price = Number(priceWad) / 1e18;
  return Math.abs(price - 1) <= STABLE_BAND;
}

/**
 * The default risk configuration for a path over `assets` (id and starting price): the demo
 * configuration's quote and known assets, plus a profile for each unknown one.
 */
export function defaultRiskJson(assets: ReadonlyMap<string, bigint>): Record<string, unknown> {
  const { oracle: _oracle, ...demo } = DEMO_CONFIG;
  const known = new Map(demo.assets.map((asset) => [asset.id, asset as Record<string, unknown>]));
  const wanted = new Set([demo.quote, ...assets.keys()]);
  const assetList: Record<string, unknown>[] = [];
  for (const id of wanted) {
    const entry = known.get(id);
    if (entry !== undefined) assetList.push(entry);
    else assetList.push(isStablePrice(assets.get(id) ?? 0n) ? stableProfile(id) : volatileProfile(id));
  }
  const markets: Record<string, unknown>[] = demo.markets.filter((market) => wanted.has(market.base));
  for (const [id, priceWad] of assets) {
    if (known.has(id) || id === demo.quote || isStablePrice(priceWad)) continue;
    markets.push({
      id: `${id}-PERP`,
      base: id,
      initialMarginFraction: '0.2',
      maintenanceMarginFraction: '0.1',
      liquidationFee: '0.015',
    });
  }
  return { ...demo, assets: assetList, markets };
}

/** Decimals of an asset the simulator adds: 6 for stablecoins, 8 for volatile assets (common choices). */
function stableProfile(id: string): Record<string, unknown> {
  return {
    id,
    decimals: 6,
    collateral: { initialWeight: '0.9', maintenanceWeight: '0.95' },
    liability: { initialWeight: '1.05', maintenanceWeight: '1.02' },
    liquidationPenalty: '0.03',
  };
}

function volatileProfile(id: string): Record<string, unknown> {
  return {
    id,
    decimals: 8,
    collateral: { initialWeight: '0.6', maintenanceWeight: '0.7' },
    liability: { initialWeight: '1.25', maintenanceWeight: '1.2' },
    liquidationPenalty: '0.08',
  };
}

/**
 * Splits a configuration file's JSON into its risk and oracle parts and validates both.
 * Issues name their field (`oracle.…` for the oracle section).
 */
export function resolveSimConfig(fileJson: unknown, maxFrameGapMs: number): Result<SimConfig, readonly InputIssue[]> {
  if (typeof fileJson !== 'object' || fileJson === null || Array.isArray(fileJson)) {
    return err([{ field: '', message: 'must be a JSON object (risk.json)' }]);
  }
  const { oracle: oracleSection, ...riskJson } = fileJson as Record<string, unknown>;
  const risk = parseRiskConfig(riskJson);
  if (!risk.ok) return risk;
  const oracleJson = oracleSection ?? simOracleDefaults(maxFrameGapMs);
  const oracle = parseOracleConfig(oracleJson, [...risk.value.assets.keys()]);
  if (!oracle.ok) return err(oracle.error.map((issue) => ({ ...issue, field: `oracle.${issue.field}` })));
  const maxAges = [...oracle.value.assets.values()].map((asset) => asset.guards.maxAgeMs);
  return ok({
    heartbeatMs: oracleSection === undefined ? null : Math.max(1_000, Math.floor(Math.min(...maxAges) / 2)),
    riskJson,
    risk: risk.value,
    oracleJson,
    oracle: withoutAttestation(oracle.value),
    configHash: sha256Hex(encodeCanonical({ risk: riskJson, oracle: oracleJson })),
  });
}

/** Like resolveSimConfig, for configurations the simulator built itself (a failure is a bug). */
export function resolveSimConfigOrThrow(fileJson: unknown, maxFrameGapMs: number): SimConfig {
  const resolved = resolveSimConfig(fileJson, maxFrameGapMs);
  if (!resolved.ok) throw new Error(`invalid simulator configuration:\n${formatIssues(resolved.error)}`);
  return resolved.value;
}

function withoutAttestation(config: OracleConfig): OracleConfig {
  const assets = new Map([...config.assets].map(([id, asset]) => [id, { ...asset, attestation: NO_ATTESTATION }]));
  return { assets };
}
