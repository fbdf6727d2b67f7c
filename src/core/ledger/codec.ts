/**
 * The one codec between values with bigints and JSON text. A bigint is written as
 * `{"$n":"123"}`: ids are strings, so no user value can be mistaken for a number. Object
 * keys are written sorted, so equal values always give equal text (for hashes).
 */

/** Canonical JSON text of a value that may contain bigints and Maps (Maps written as sorted entries). */
export function encodeCanonical(value: unknown): string {
  return JSON.stringify(toJsonValue(value));
}

/** Parses text written by encodeCanonical, restoring bigints (Maps stay entry arrays). */
export function decodeCanonical(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.length === 1 && keys[0] === '$n' && typeof record.$n === 'string') return BigInt(record.$n);
    }
    return value;
  });
}

function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return { $n: value.toString() };
  if (value instanceof Map) {
    return [...value.entries()]
      .sort(([a], [b]) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0))
      .map(([key, entry]) => [key, toJsonValue(entry)]);
  }
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(record).sort()) {
      if (record[key] !== undefined) sorted[key] = toJsonValue(record[key]);
    }
    return sorted;
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new Error('encodeCanonical: only safe integers may be numbers');
  }
  return value;
}
