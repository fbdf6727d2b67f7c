/**
 * The ledger: commands in, sealed events out. A command is decided against the current
 * state; its events are sealed (sequence number, hash over content and the previous hash)
 * and applied. Retries are answered from the first outcome. The store (src/store) makes the
 * sealed events durable; this module is the same in memory, in the service and in replay.
 */
import { err, ok, type Result } from '../result.ts';
import { decodeCanonical, encodeCanonical } from './codec.ts';
import type { Command } from './commands.ts';
import { decide } from './decide.ts';
import type { LedgerEvent } from './events.ts';
import { evolve } from './evolve.ts';
import { GENESIS_HASH, sha256Hex, stateHash } from './hash.ts';
import { checkNets } from './invariants.ts';
import type { Rejection } from './rejections.ts';
import { LedgerIndexes } from './indexes.ts';
import { createLedgerState, isSystemAccount, type AccountRecord, type LedgerState } from './state.ts';
import type { RiskConfig } from '../config.ts';

export interface SealedEvent {
  readonly seq: number;
  /** Idempotency key of the command that produced the event. */
  readonly key: string;
  /** The command itself, on the first event of its batch (for retries and audits). */
  readonly command?: Command;
  readonly event: LedgerEvent;
  readonly prevHash: string;
  readonly hash: string;
}

export interface Outcome {
  /**
   * The command's events. A retry of a command older than the ledger's recent outcomes comes
   * without them (`events` empty): `firstSeq`..`lastSeq` say where the log holds them.
   */
  readonly events: readonly SealedEvent[];
  /** True when this is a retry answered from the first outcome. */
  readonly replayed: boolean;
  readonly firstSeq: number;
  readonly lastSeq: number;
}

/** What the ledger keeps of every accepted key, for ever: enough to tell a retry from a conflict. */
interface IdempotencyEntry {
  readonly command: Command;
  readonly firstSeq: number;
  readonly lastSeq: number;
}

/** Outcomes whose events a retry gets from memory; older ones are read back from the log. */
export const RECENT_OUTCOMES = 10_000;

export class Ledger {
  private nextSeq = 1;
  private lastHash = GENESIS_HASH;
  private readonly idempotency = new Map<string, IdempotencyEntry>();
  /** The events of the latest accepted commands (not snapshotted). */
  private readonly recent = new Map<string, SealedEvent[]>();
  private readonly recentKeys: (string | undefined)[] = [];
  private recentNext = 0;

  private constructor(
    readonly state: LedgerState,
    private readonly recentOutcomes: number,
  ) {}

  static create(config: RiskConfig, configJson: unknown, options: LedgerOptions = {}): Ledger {
    return new Ledger(createLedgerState(config, configJson), options.recentOutcomes ?? RECENT_OUTCOMES);
  }

  get headSeq(): number {
    return this.nextSeq - 1;
  }

  get headHash(): string {
    return this.lastHash;
  }

  /** Decides, seals and applies a command; a retry returns the first outcome unchanged. */
  execute(command: Command): Result<Outcome, Rejection> {
    const previous = this.idempotency.get(command.idempotencyKey);
    if (previous !== undefined) {
      const field = firstDifference(previous.command, command);
      if (field !== null) return err({ code: 'IDEMPOTENCY_CONFLICT', idempotencyKey: command.idempotencyKey, field });
      const events = this.recent.get(command.idempotencyKey) ?? [];
      return ok({ events, replayed: true, firstSeq: previous.firstSeq, lastSeq: previous.lastSeq });
    }
    const decision = decide(this.state, command);
    if (!decision.ok) return decision;
    // An accepted command must leave its key in the log, or a retry after a restart would be
    // decided again (INV-4).
    if (decision.value.length === 0) throw new Error(`decide accepted ${command.kind} without events`);
    const sealed = sealBatch(this.nextSeq, this.lastHash, command, decision.value);
    for (const event of sealed) this.applyChained(event);
    return ok({ events: sealed, replayed: false, firstSeq: this.headSeq - sealed.length + 1, lastSeq: this.headSeq });
  }

  /**
   * Applies an already sealed event (replay, or a follower of the log). Refuses an event out
   * of sequence or whose hash does not chain: the log has been tampered with or torn.
   */
  apply(sealed: SealedEvent): void {
    if (sealed.seq !== this.nextSeq) throw new LedgerIntegrityError(`event ${sealed.seq} out of sequence, expected ${this.nextSeq}`);
    if (sealed.prevHash !== this.lastHash || eventHash(sealed) !== sealed.hash) {
      throw new LedgerIntegrityError(`event ${sealed.seq} does not match the hash chain`);
    }
    this.applyChained(sealed);
  }

  /** Applies an event known to chain on: one the ledger sealed itself, or one `apply` verified. */
  private applyChained(sealed: SealedEvent): void {
    evolve(this.state, sealed.event);
    if (this.state.halted === null) {
      const violation = checkNets(this.state);
      if (violation !== null) this.state.halted = `${violation.invariant}: ${violation.message} (after event ${sealed.seq})`;
    }
    this.remember(sealed);
    this.nextSeq = sealed.seq + 1;
    this.lastHash = sealed.hash;
  }

  /** A batch's first event carries its command and opens its key; the rest extend it. */
  private remember(sealed: SealedEvent): void {
    if (sealed.command !== undefined) {
      this.idempotency.set(sealed.key, { command: sealed.command, firstSeq: sealed.seq, lastSeq: sealed.seq });
      // A ring of the latest keys: the one it overwrites leaves memory (iterating the map for
      // its oldest key would walk every deleted entry before it).
      const evicted = this.recentKeys[this.recentNext];
      if (evicted !== undefined) this.recent.delete(evicted);
      this.recentKeys[this.recentNext] = sealed.key;
      this.recentNext = (this.recentNext + 1) % this.recentOutcomes;
      this.recent.set(sealed.key, [sealed]);
      return;
    }
    const entry = this.idempotency.get(sealed.key);
    if (entry === undefined) return;
    this.idempotency.set(sealed.key, { ...entry, lastSeq: sealed.seq });
    this.recent.get(sealed.key)?.push(sealed);
  }

  stateHash(): string {
    return stateHash(this.state);
  }

  /** Everything needed to resume without the events before `headSeq`, as canonical text. */
  snapshot(): string {
    return encodeCanonical({
      version: 2,
      seq: this.headSeq,
      hash: this.lastHash,
      state: persistedState(this.state),
      idempotency: this.idempotency,
    });
  }

  static fromSnapshot(text: string, parseConfig: (json: unknown) => RiskConfig, options: LedgerOptions = {}): Ledger {
    const data = decodeCanonical(text) as SnapshotData;
    if (data.version !== 1 && data.version !== 2) throw new LedgerIntegrityError(`unknown snapshot version ${String(data.version)}`);
    const raw = data.state;
    const accounts = new Map<string, AccountRecord>(
      raw.accounts.map(([id, record]) => [id, { ...record, balances: new Map(record.balances), perps: new Map(record.perps) }]),
    );
    const state: LedgerState = {
      config: parseConfig(raw.configJson),
      configJson: raw.configJson,
      prices: new Map(raw.prices),
      unhealthyPrices: new Map(raw.unhealthyPrices),
      accounts,
      assets: new Map(raw.assets),
      markets: new Map(raw.markets),
      assetNet: new Map(raw.assetNet),
      marketNet: new Map(raw.marketNet),
      liquidationWindows: new Map(raw.liquidationWindows),
      auctions: new Map(raw.auctions),
      nextAuctionId: raw.nextAuctionId,
      halted: raw.halted,
      indexes: LedgerIndexes.rebuild(accounts.values(), (id) => !isSystemAccount(id)),
    };
    const ledger = new Ledger(state, options.recentOutcomes ?? RECENT_OUTCOMES);
    ledger.nextSeq = data.seq + 1;
    ledger.lastHash = data.hash;
    for (const [key, entry] of data.idempotency) ledger.idempotency.set(key, compactEntry(entry));
    return ledger;
  }

}

export class LedgerIntegrityError extends Error {}

/** The state without its derived indexes, which a load rebuilds. */
function persistedState(state: LedgerState): Omit<LedgerState, 'indexes'> {
  const { indexes: _derived, ...persisted } = state;
  return persisted;
}

/** Numbers a command's events from `firstSeq` and chains them onto `prevHash`. */
function sealBatch(firstSeq: number, prevHash: string, command: Command, events: readonly LedgerEvent[]): SealedEvent[] {
  const sealed: SealedEvent[] = [];
  let previous = prevHash;
  events.forEach((event, index) => {
    const unsealed = {
      seq: firstSeq + index,
      key: command.idempotencyKey,
      event,
      prevHash: previous,
      ...(index === 0 && { command }),
    };
    const hash = eventHash(unsealed);
    sealed.push({ ...unsealed, hash });
    previous = hash;
  });
  return sealed;
}

/** Hash of an event's content and the previous hash (the `hash` field itself excluded). */
export function eventHash(event: Omit<SealedEvent, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...content } = event;
  return sha256Hex(encodeCanonical(content));
}

/** Path of the first field where two commands differ, or null when they are the same. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return a === b ? null : path || '(command)';
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys) {
    const difference = firstDifference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      path === '' ? key : `${path}.${key}`,
    );
    if (difference !== null) return difference;
  }
  return null;
}

interface SnapshotData {
  readonly version: number;
  readonly seq: number;
  readonly hash: string;
  readonly state: {
    readonly configJson: unknown;
    readonly prices: [string, never][];
    readonly unhealthyPrices: [string, never][];
    readonly accounts: [string, { id: string; owner: string; balances: [string, never][]; perps: [string, never][] }][];
    readonly assets: [string, never][];
    readonly markets: [string, never][];
    readonly assetNet: [string, bigint][];
    readonly marketNet: [string, bigint][];
    readonly liquidationWindows: [string, never][];
    readonly auctions: [string, never][];
    readonly nextAuctionId: number;
    readonly halted: string | null;
  };
  /** Version 1 kept every event of every key; version 2 only where the log holds them. */
  readonly idempotency: [string, IdempotencyEntry | { readonly command: Command; readonly events: readonly SealedEvent[] }][];
}

export interface LedgerOptions {
  /** How many of the latest outcomes a retry gets from memory (default RECENT_OUTCOMES). */
  readonly recentOutcomes?: number;
}

function compactEntry(entry: SnapshotData['idempotency'][number][1]): IdempotencyEntry {
  if (!('events' in entry)) return entry;
  const first = entry.events[0];
  const last = entry.events[entry.events.length - 1];
  if (first === undefined || last === undefined) throw new LedgerIntegrityError('a snapshot key holds no events');
  return { command: entry.command, firstSeq: first.seq, lastSeq: last.seq };
}
