/**
 * Hashes of the tamper-evident log and of the state. SHA-256 over canonical JSON: each
 * event's hash covers its sequence number, its command key, its content and the previous
 * event's hash; the state hash covers everything that decides future outcomes.
 */
import { createHash } from 'node:crypto';
import { encodeCanonical } from './codec.ts';
import type { LedgerState } from './state.ts';

/** Hash before the first event. */
export const GENESIS_HASH = '0'.repeat(64);

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function stateHash(state: LedgerState): string {
  return sha256Hex(
    encodeCanonical({
      config: state.configJson,
      prices: state.prices,
      unhealthyPrices: state.unhealthyPrices,
      accounts: state.accounts,
      assets: state.assets,
      markets: state.markets,
      liquidationWindows: state.liquidationWindows,
      auctions: state.auctions,
      nextAuctionId: state.nextAuctionId,
      halted: state.halted,
    }),
  );
}
