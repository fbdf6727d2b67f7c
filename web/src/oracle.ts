/**
 * An asset's oracle status in words: fresh, stale (no quote within the maximum age) or halted
 * (the circuit breaker is open), from the reason codes of `GET /v1/prices` (src/oracle/guards.ts).
 */

export type OracleState = 'fresh' | 'stale' | 'halted' | 'none';

const REASONS: Readonly<Record<string, string>> = {
  STALE: 'no fresh quote within the maximum age',
  QUORUM_NOT_MET: 'fewer fresh sources than the quorum',
  DEVIATION_PER_UPDATE: 'moved more in one update than the guard allows',
  DEVIATION_PER_WINDOW: 'moved more over the window than the guard allows',
  CONFIDENCE_TOO_WIDE: 'the sources disagree: confidence too wide',
  NO_PRICE: 'never had a price that passed every guard',
  SIGNATURE_THRESHOLD_NOT_MET: 'too few valid publisher signatures',
  TIMESTAMP_IN_FUTURE: 'quotes stamped in the future',
};

export function reasonWords(code: string): string {
  return REASONS[code] ?? code.toLowerCase().replaceAll('_', ' ');
}

export function oracleState(healthy: boolean, reasons: readonly string[]): OracleState {
  if (healthy) return 'fresh';
  if (reasons.includes('NO_PRICE')) return 'none';
  if (reasons.length > 0 && reasons.every((reason) => reason === 'STALE')) return 'stale';
  return 'halted';
}

/** One sentence for the status column. */
export function oracleWhy(state: OracleState, reasons: readonly string[], freshSources: number | null, quorum: number | null): string {
  const sources = freshSources === null || quorum === null ? '' : ` (${freshSources} of ${quorum} required sources fresh)`;
  switch (state) {
    case 'fresh':
      return `passes every guard${sources}`;
    case 'none':
      return 'no price yet: never had one that passed every guard';
    case 'stale':
    case 'halted': {
      const why = reasons.map(reasonWords).join('; ');
      const effect = 'no liquidation and no risk-increasing action on it until it recovers';
      return `${state === 'stale' ? 'stale' : 'circuit breaker open'}: ${why}${sources}; ${effect}`;
    }
  }
}
