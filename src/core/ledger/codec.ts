/**
 * The one codec between values with bigints and JSON text. A bigint is written as
 * `{"$n":"123"}`: ids are strings, so no user value can be mistaken for a number. Object
 * keys are written sorted, so equal values always give equal text (for hashes).
 */

/**
 * Canonical JSON text of a value that may contain bigints and Maps (Maps written as sorted
 * entries). Written straight to text, one pass, because every event is encoded for its hash
 * and for the store: the same bytes `JSON.stringify` gives for the value with its object keys
 * sorted (array-index keys first in numeric order, as a JavaScript object orders them).
 */
export function encodeCanonical(value: unknown): string {
  return encodeValue(value) ?? 'null';
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

/** The text of one value; undefined where JSON has none (an object member is then left out). */
function encodeValue(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'bigint':
      return `{"$n":"${value.toString()}"}`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new Error('encodeCanonical: only safe integers may be numbers');
      return JSON.stringify(value);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'object':
      if (value === null) return 'null';
      if (value instanceof Map) return encodeMap(value);
      if (Array.isArray(value)) return `[${value.map((item: unknown) => encodeValue(item) ?? 'null').join(',')}]`;
      return encodeObject(value as Record<string, unknown>);
  }
}

function encodeMap(map: ReadonlyMap<unknown, unknown>): string {
  const entries = [...map.entries()].sort(([a], [b]) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  return `[${entries.map(([key, entry]) => `[${encodeValue(key) ?? 'null'},${encodeValue(entry) ?? 'null'}]`).join(',')}]`;
}

function encodeObject(record: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const key of canonicalKeyOrder(Object.keys(record))) {
    const text = encodeValue(record[key]);
    if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/** Sorted, except that array-index keys come first in numeric order (how an object rebuilt in sorted order iterates). */
function canonicalKeyOrder(keys: string[]): string[] {
  keys.sort();
  if (!keys.some(isArrayIndex)) return keys;
  // Without leading zeros, a shorter index is a smaller one.
  const indexes = keys.filter(isArrayIndex).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  return [...indexes, ...keys.filter((key) => !isArrayIndex(key))];
}

/** 2³² − 2, the largest array index. */
const MAX_ARRAY_INDEX = '4294967294';

function isArrayIndex(key: string): boolean {
  if (!/^(0|[1-9][0-9]*)$/.test(key)) return false;
  return key.length < MAX_ARRAY_INDEX.length || (key.length === MAX_ARRAY_INDEX.length && key <= MAX_ARRAY_INDEX);
}
