/**
 * The engine: the one writer of the ledger. A command is decided and applied in memory at
 * once (so the next command sees it), its events are queued for the store's group commit,
 * and the caller is answered only when they are durable. Appends are ordered, so a command
 * acknowledged implies every earlier one is durable too.
 *
 * Fail-stop: if the store fails, the memory is ahead of the log; the engine refuses every
 * further command and reports the failure, and a restart rebuilds from what is durable.
 * Nothing acknowledged is lost, and nothing unacknowledged is half-kept.
 */
import type { Command } from '../core/ledger/commands.ts';
import type { Ledger, Outcome, SealedEvent } from '../core/ledger/ledger.ts';
import type { Rejection } from '../core/ledger/rejections.ts';
import { ok, type Result } from '../core/result.ts';
import { fromRecord } from '../store/record.ts';
import { MAX_PAGE_ROWS, type EventStore } from '../store/store.ts';

export interface EngineOptions {
  /** A snapshot is written when this many events have been appended since the last. */
  readonly snapshotEveryEvents: number;
  /** Intake pauses (503) when this many events wait for the disk. */
  readonly maxPendingEvents: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = { snapshotEveryEvents: 10_000, maxPendingEvents: 5_000 };

/** The engine cannot take commands: the store failed, is overloaded, or the engine is closing. */
export class EngineUnavailableError extends Error {
  constructor(
    readonly code: 'STORE_FAILED' | 'OVERLOADED' | 'SHUTTING_DOWN',
    message: string,
  ) {
    super(message);
  }
}

type Listener = (events: readonly SealedEvent[]) => void;

export class Engine {
  private failure: Error | null = null;
  private closing = false;
  private lastAppend: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<Listener>();
  private readonly appliedListeners = new Set<Listener>();

  constructor(
    readonly ledger: Ledger,
    private readonly store: EventStore,
    private readonly options: EngineOptions = DEFAULT_ENGINE_OPTIONS,
  ) {}

  /** Called with each command's events once they are durable (streams, metrics). */
  onDurable(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called with each command's events as soon as they are applied in memory (the monitor). */
  onApplied(listener: Listener): () => void {
    this.appliedListeners.add(listener);
    return () => this.appliedListeners.delete(listener);
  }

  get failed(): Error | null {
    return this.failure;
  }

  async submit(command: Command): Promise<Result<Outcome, Rejection>> {
    this.checkAvailable();
    const result = this.ledger.execute(command);
    if (!result.ok) return result;
    if (result.value.replayed) {
      // The first outcome may still be on its way to disk: answer only once it is there.
      await this.lastAppend;
      this.checkFailure();
      return ok(await this.withEvents(result.value));
    }
    const events = result.value.events;
    for (const listener of this.appliedListeners) listener(events);
    const appended = this.store.append(events);
    this.lastAppend = appended.catch(() => undefined);
    try {
      await appended;
    } catch (error) {
      this.failure ??= error as Error;
      throw new EngineUnavailableError('STORE_FAILED', `event log failed: ${(error as Error).message}`);
    }
    for (const listener of this.listeners) listener(events);
    this.maybeSnapshot();
    return result;
  }

  /** Stops taking commands and waits for what is queued to be durable. */
  async close(): Promise<void> {
    this.closing = true;
    await this.lastAppend;
  }

  /** A retry of an older command: its events read back from the log. */
  private async withEvents(outcome: Outcome): Promise<Outcome> {
    if (outcome.events.length > 0) return outcome;
    const events: SealedEvent[] = [];
    while (events.length < outcome.lastSeq - outcome.firstSeq + 1) {
      const remaining = outcome.lastSeq - outcome.firstSeq + 1 - events.length;
      const page = await this.store.read(outcome.firstSeq - 1 + events.length, Math.min(remaining, MAX_PAGE_ROWS));
      if (page.length === 0) throw new Error(`engine: events ${outcome.firstSeq}..${outcome.lastSeq} are not in the log`);
      events.push(...page.map(fromRecord));
    }
    return { ...outcome, events };
  }

  private maybeSnapshot(): void {
    if (this.ledger.headSeq - this.store.snapshotSeq() < this.options.snapshotEveryEvents) return;
    const snapshot = { seq: this.ledger.headSeq, hash: this.ledger.headHash, text: this.ledger.snapshot() };
    this.store.saveSnapshot(snapshot).catch((error: unknown) => {
      this.failure ??= error as Error;
    });
  }

  private checkAvailable(): void {
    this.checkFailure();
    if (this.closing) throw new EngineUnavailableError('SHUTTING_DOWN', 'the service is shutting down');
    if (this.store.pendingEvents() >= this.options.maxPendingEvents) {
      throw new EngineUnavailableError('OVERLOADED', 'too many commands waiting for the disk; retry shortly');
    }
  }

  private checkFailure(): void {
    if (this.failure !== null) {
      throw new EngineUnavailableError('STORE_FAILED', `event log failed, restart required: ${this.failure.message}`);
    }
  }
}
