/**
 * Reading untrusted JSON values into domain values, collecting every problem with the
 * path of the field it concerns ("assets[1].collateral.initialWeight").
 *
 * One reader serves the risk configuration, portfolios, prices and (later) API bodies,
 * so that every boundary rejects the same things with the same words.
 */
import { parseDecimal } from './fixed.ts';

export interface InputIssue {
  /** Path of the offending field, JSON-path style without the leading `$.`. */
  readonly field: string;
  readonly message: string;
}

export class InputReader {
  readonly issues: InputIssue[] = [];

  fail(field: string, message: string): undefined {
    this.issues.push({ field, message });
    return undefined;
  }

  /** A plain object whose keys are all in `allowed`; unknown keys are errors, never ignored. */
  object(value: unknown, field: string, allowed: readonly string[]): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.fail(field, `must be an object, got ${kindOf(value)}`);
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) this.fail(join(field, key), `unknown field (allowed: ${allowed.join(', ')})`);
    }
    return record;
  }

  /** A plain object used as a dictionary: any keys, values checked by the caller. */
  dictionary(value: unknown, field: string): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.fail(field, `must be an object, got ${kindOf(value)}`);
    }
    return value as Record<string, unknown>;
  }

  array(value: unknown, field: string): readonly unknown[] | undefined {
    if (!Array.isArray(value)) return this.fail(field, `must be an array, got ${kindOf(value)}`);
    return value;
  }

  identifier(value: unknown, field: string): string | undefined {
    if (typeof value !== 'string') return this.fail(field, `must be a string, got ${kindOf(value)}`);
    if (!IDENTIFIER.test(value)) {
      return this.fail(field, `${JSON.stringify(value.slice(0, 80))} is not a valid id (1-64 of A-Z a-z 0-9 _ . : -)`);
    }
    return value;
  }

  integer(value: unknown, field: string, range: { readonly min: number; readonly max: number }): number | undefined {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < range.min || value > range.max) {
      return this.fail(field, `must be an integer from ${range.min} to ${range.max}, got ${kindOf(value)}`);
    }
    return value;
  }

  /** A canonical decimal string scaled by 10^scale (see fixed.ts for the grammar). */
  decimal(value: unknown, field: string, scale: number): bigint | undefined {
    const parsed = parseDecimal(value, scale);
    if (!parsed.ok) return this.fail(field, parsed.error.message);
    return parsed.value;
  }

  /** A decimal in the closed or half-open interval described by `bounds` (all in the same scale). */
  decimalWithin(value: unknown, field: string, scale: number, bounds: DecimalBounds): bigint | undefined {
    const parsed = this.decimal(value, field, scale);
    if (parsed === undefined) return undefined;
    const belowMin = bounds.minExclusive ? parsed <= bounds.min : parsed < bounds.min;
    const aboveMax =
      bounds.max !== undefined && (bounds.maxExclusive ? parsed >= bounds.max : parsed > bounds.max);
    if (belowMin || aboveMax) return this.fail(field, `${JSON.stringify(value)} must be in ${bounds.text}`);
    return parsed;
  }

  /** Reads `value[key]` through `read` when present; absent keys return `undefined` with no issue. */
  optional<T>(
    record: Record<string, unknown>,
    key: string,
    read: (value: unknown) => T | undefined,
  ): T | undefined {
    return record[key] === undefined ? undefined : read(record[key]);
  }

  /** Reads `value[key]` through `read`; an absent key is an issue. */
  required<T>(
    record: Record<string, unknown>,
    key: string,
    field: string,
    read: (value: unknown) => T | undefined,
  ): T | undefined {
    if (record[key] === undefined) return this.fail(join(field, key), 'is required');
    return read(record[key]);
  }
}

export interface DecimalBounds {
  readonly min: bigint;
  readonly minExclusive?: boolean;
  readonly max?: bigint;
  readonly maxExclusive?: boolean;
  /** The interval as a reader would write it, for messages: "[0, 1]". */
  readonly text: string;
}

/** Ids of assets, markets and accounts: short, printable, safe in URLs and logs. */
const IDENTIFIER = /^[A-Za-z0-9_.:-]{1,64}$/;

export function join(field: string, key: string | number): string {
  if (typeof key === 'number') return `${field}[${key}]`;
  return field === '' ? key : `${field}.${key}`;
}

export function formatIssues(issues: readonly InputIssue[]): string {
  return issues.map((issue) => (issue.field === '' ? issue.message : `${issue.field}: ${issue.message}`)).join('\n');
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 50 ? `${value.slice(0, 47)}...` : value);
  if (typeof value === 'number') return String(value);
  return `a ${typeof value}`;
}
