/**
 * What the store can fail with, as classes under one base with a stable code. None of these
 * is a caller's fault: the service answers them as unavailable (5xx), never as a rejection.
 */

export type StoreErrorCode =
  | 'STORE_INTEGRITY'
  | 'STORE_CONFLICT'
  | 'STORE_OVERLOADED'
  | 'STORE_CLOSED'
  | 'STORE_FAILED'
  | 'STORE_SCHEMA';

export abstract class StoreError extends Error {
  abstract readonly code: StoreErrorCode;
}

/** The stored log or a snapshot does not verify: start-up refuses rather than guess. */
export class StoreIntegrityError extends StoreError {
  override readonly name = 'StoreIntegrityError';
  readonly code = 'STORE_INTEGRITY';
  constructor(
    /** The first sequence number that does not verify. */
    readonly seq: number,
    message: string,
  ) {
    super(message);
  }
}

/** An append does not continue the stored chain (a gap, a fork, or a second writer). */
export class StoreConflictError extends StoreError {
  override readonly name = 'StoreConflictError';
  readonly code = 'STORE_CONFLICT';
}

/** The commit queue is full; the service should have stopped intake before this. */
export class StoreOverloadedError extends StoreError {
  override readonly name = 'StoreOverloadedError';
  readonly code = 'STORE_OVERLOADED';
  constructor(
    readonly pendingEvents: number,
    readonly requestedEvents: number,
    readonly maxPendingEvents: number,
  ) {
    super(
      `event log commit queue full: ${pendingEvents} events pending, ${requestedEvents} more requested, ` +
        `at most ${maxPendingEvents} may wait`,
    );
  }
}

export class StoreClosedError extends StoreError {
  override readonly name = 'StoreClosedError';
  readonly code = 'STORE_CLOSED';
  constructor() {
    super('event store is closed');
  }
}

/**
 * A commit failed earlier. The in-memory ledger is then ahead of the log, so every later
 * append is refused until the process restarts and recovers from what is durable.
 */
export class StoreFailedError extends StoreError {
  override readonly name = 'StoreFailedError';
  readonly code = 'STORE_FAILED';
  constructor(override readonly cause: unknown) {
    super(`event log stopped after a failed commit (${describe(cause)}); restart to recover from the log`);
  }
}

/** The database was migrated by a newer build, or the migration list is malformed. */
export class StoreSchemaError extends StoreError {
  override readonly name = 'StoreSchemaError';
  readonly code = 'STORE_SCHEMA';
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
