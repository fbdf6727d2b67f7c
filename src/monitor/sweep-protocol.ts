/**
 * What the monitor and its sweep workers exchange (sweep-pool.ts, sweep-worker.ts). Columns
 * and the result are shared memory; the rest is structured-cloned once per sweep.
 */
import type { RiskConfig } from '../core/config.ts';
import type { LevelHealth } from '../core/health.ts';
import type { AssetState, MarketState } from '../core/ledger/state.ts';
import type { Price } from '../core/prices.ts';
import type { SharedColumns } from './risk-index.ts';
import type { ThresholdsWad } from './thresholds.ts';

/** Cells of the shared control column. */
export const CONTROL = { nextChunk: 0, done: 1, ready: 2 } as const;
export const CONTROL_CELLS = 3;

/** Result of a slot whose record has a value wider than 128 bits: the main thread values it. */
export const RESULT_WIDE = 0xfe;
/** Result of a slot the core cannot value (unknown asset, missing price). */
export const RESULT_UNVALUED = 0xff;

export interface SweepTask {
  readonly id: number;
  readonly columns: SharedColumns;
  readonly slotCount: number;
  readonly chunkSlots: number;
  readonly assetIds: readonly string[];
  readonly marketIds: readonly string[];
  readonly config: RiskConfig;
  readonly prices: Map<string, Price>;
  readonly assets: Map<string, AssetState>;
  readonly markets: Map<string, MarketState>;
  readonly thresholds: ThresholdsWad;
  /** The monitor's decided zone masks and stale flags, per slot: numbers are sent only where needed. */
  readonly decided: Uint8Array;
  readonly stale: Uint8Array;
  /** One byte per slot: its zone mask, RESULT_WIDE or RESULT_UNVALUED. */
  readonly result: Uint8Array;
}

/**
 * The exact levels of a slot in warning or liquidatable whose zone changed or whose kept
 * numbers are stale, so that the main thread need not value it again.
 */
export interface FlaggedHealth {
  readonly slot: number;
  readonly initial: LevelHealth;
  readonly maintenance: LevelHealth;
}

export interface SweepReply {
  readonly id: number;
  readonly flagged: readonly FlaggedHealth[];
  /** A bug in the worker: the sweep fails with it. */
  readonly error?: string;
}
