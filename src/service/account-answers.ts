/**
 * Answers for one account (`GET /v1/accounts/:id`, and the account part of a command's
 * answer), kept until an event could change them: valuing an account and searching its
 * liquidation prices is most of the cost of such a request, and most reads find the
 * account as it was.
 *
 * An answer depends on the account's record, the prices and their health, the asset
 * indexes, the configuration and the account's auctions; for an account with perp positions
 * also on every other account in its markets (the deleveraging rank, funding). So:
 * - answers for system accounts and for accounts with perp positions are never kept;
 * - an event that names the accounts it changes (a deposit, a withdrawal, a transfer, an
 *   account opened or settled) forgets those accounts (what it does to system accounts
 *   does not matter: they are never kept);
 * - any other event (prices, interest, configuration, trades, funding, liquidations,
 *   auctions) forgets everything.
 * Events are seen as they are applied in memory (Engine.onApplied), in the same turn, so an
 * answer is never older than the state it is read with. Answers are shared between
 * requests: callers must not change them.
 */
import type { SealedEvent } from '../core/ledger/ledger.ts';
import { isSystemAccount, type AccountRecord } from '../core/ledger/state.ts';

export type AccountAnswer = Record<string, unknown>;

export class AccountAnswerCache {
  private readonly answers = new Map<string, AccountAnswer>();

  /** `maxAccounts`: answers kept at most; past it the oldest is forgotten. */
  constructor(private readonly maxAccounts: number) {
    if (!Number.isSafeInteger(maxAccounts) || maxAccounts < 1) throw new RangeError(`maxAccounts must be a positive integer, got ${maxAccounts}`);
  }

  get(account: string): AccountAnswer | undefined {
    return this.answers.get(account);
  }

  /** Keeps the answer just computed for `record`, unless it depends on other accounts. */
  remember(record: AccountRecord, answer: AccountAnswer): void {
    if (isSystemAccount(record.id) || record.perps.size > 0) return;
    this.answers.delete(record.id);
    this.answers.set(record.id, answer);
    if (this.answers.size > this.maxAccounts) {
      const oldest = this.answers.keys().next().value;
      if (oldest !== undefined) this.answers.delete(oldest);
    }
  }

  /** Forgets every answer that `events` (just applied) may have changed. */
  onApplied(events: readonly SealedEvent[]): void {
    for (const { event } of events) {
      switch (event.type) {
        case 'AccountOpened':
        case 'AccountSettled':
        case 'CollateralDeposited':
        case 'CollateralWithdrawn':
          this.answers.delete(event.account);
          break;
        case 'Transferred':
          this.answers.delete(event.from);
          this.answers.delete(event.to);
          break;
        default:
          this.answers.clear();
      }
    }
  }

  get size(): number {
    return this.answers.size;
  }
}
