/**
 * One total order for ids (assets, markets, accounts): decisions that iterate maps must not
 * depend on insertion order, or a ledger restored from a snapshot would decide differently.
 */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A map's entries in id order. */
export function sortedEntries<T>(map: ReadonlyMap<string, T>): [string, T][] {
  return [...map].sort(([a], [b]) => compareIds(a, b));
}
