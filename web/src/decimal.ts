/**
 * Display of the service's decimal strings. Money is never turned into a float here: values
 * are parsed to bigint (18 decimals), rounded half away from zero to the digits shown, and
 * written back with thousands separators. `toNumber` exists for charts only.
 */

const SCALE = 18;
const CANONICAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const POSITIVE = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const MINUS = '−';

/** `text` at 18 decimals (digits past the 18th are dropped); null when not a decimal. */
export function parseWad(text: string): bigint | null {
  if (!CANONICAL.test(text)) return null;
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const value = BigInt(whole + fraction.padEnd(SCALE, '0').slice(0, SCALE));
  return negative ? -value : value;
}

/** A positive canonical decimal, as the API accepts for amounts and prices. */
export function isPositiveDecimal(text: string): boolean {
  return POSITIVE.test(text) && /[1-9]/.test(text);
}

function round(value: bigint, digits: number): bigint {
  const divisor = 10n ** BigInt(SCALE - digits);
  const magnitude = value < 0n ? -value : value;
  const rounded = (magnitude + divisor / 2n) / divisor;
  return value < 0n ? -rounded : rounded;
}

function render(scaled: bigint, digits: number, group: boolean): string {
  const negative = scaled < 0n;
  const text = (negative ? -scaled : scaled).toString().padStart(digits + 1, '0');
  let whole = text.slice(0, text.length - digits);
  if (group) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = digits > 0 ? `.${text.slice(text.length - digits)}` : '';
  return `${negative ? MINUS : ''}${whole}${fraction}`;
}

export interface FixedOptions {
  /** Show `+` on positive values. */
  readonly sign?: boolean;
  readonly group?: boolean;
}

/** `text` with exactly `digits` decimals; "—" for null. */
export function fixed(text: string | null | undefined, digits: number, options: FixedOptions = {}): string {
  if (text === null || text === undefined) return '—';
  const value = parseWad(text);
  if (value === null) return text;
  const rounded = round(value, digits);
  const out = render(rounded, digits, options.group ?? true);
  return options.sign === true && rounded > 0n ? `+${out}` : out;
}

/** US dollars: "$12,345.68", "−$3.10". */
export function usd(text: string | null | undefined, digits = 2, options: FixedOptions = {}): string {
  const out = fixed(text, digits, options);
  if (out.startsWith(MINUS)) return `${MINUS}$${out.slice(1)}`;
  if (out.startsWith('+')) return `+$${out.slice(1)}`;
  return out === '—' ? out : `$${out}`;
}

const UNITS = [
  { digits: 12, suffix: 'T' },
  { digits: 9, suffix: 'B' },
  { digits: 6, suffix: 'M' },
  { digits: 3, suffix: 'k' },
] as const;

/** US dollars in short form: "$510.05M". */
export function compactUsd(text: string | null | undefined): string {
  if (text === null || text === undefined) return '—';
  const value = parseWad(text);
  if (value === null) return text;
  const magnitude = value < 0n ? -value : value;
  for (const unit of UNITS) {
    const threshold = 10n ** BigInt(SCALE + unit.digits);
    if (magnitude >= threshold) {
      const scaled = round(value / 10n ** BigInt(unit.digits), 2);
      const out = render(scaled, 2, true);
      return out.startsWith(MINUS) ? `${MINUS}$${out.slice(1)}${unit.suffix}` : `$${out}${unit.suffix}`;
    }
  }
  return usd(text);
}

/** A price with the digits its size deserves. */
export function price(text: string | null | undefined): string {
  if (text === null || text === undefined) return '—';
  const value = parseWad(text);
  if (value === null) return text;
  const magnitude = value < 0n ? -value : value;
  const one = 10n ** BigInt(SCALE);
  return fixed(text, magnitude >= 1000n * one ? 2 : magnitude >= one ? 4 : 6);
}

/** An amount of an asset: all its digits (up to 8), thousands grouped. */
export function amount(text: string, options: FixedOptions = {}): string {
  const value = parseWad(text);
  if (value === null) return text;
  const fraction = text.split('.')[1] ?? '';
  const digits = Math.min(fraction.length, 8);
  return fixed(text, digits, options);
}

/** A ratio (assets / liabilities); "∞" when there are no liabilities. */
export function ratio(text: string | null | undefined): string {
  if (text === undefined) return '—';
  return text === null ? '∞' : fixed(text, 3);
}

/** (to − from) / from in percent with two decimals: "−12.34 %". */
export function percentChange(from: string, to: string): string {
  const a = parseWad(from);
  const b = parseWad(to);
  if (a === null || b === null || a === 0n) return '—';
  const hundredths = ((b - a) * 10_000n) / a;
  const out = render(hundredths, 2, true);
  return `${hundredths > 0n ? '+' : ''}${out} %`;
}

/** `text` × (100 + percent) / 100 as a canonical decimal (18 decimals at most, rounded down). */
export function movedBy(text: string, percent: number): string {
  const value = parseWad(text);
  if (value === null || !Number.isInteger(percent)) return text;
  return canonical((value * BigInt(100 + percent)) / 100n);
}

/** A wad as the shortest canonical decimal string. */
export function canonical(wad: bigint): string {
  const negative = wad < 0n;
  const digits = (negative ? -wad : wad).toString().padStart(SCALE + 1, '0');
  const whole = digits.slice(0, digits.length - SCALE);
  const fraction = digits.slice(digits.length - SCALE).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/** a − b as a canonical decimal. */
export function difference(a: string, b: string): string {
  return canonical((parseWad(a) ?? 0n) - (parseWad(b) ?? 0n));
}

export function signOf(text: string | null | undefined): -1 | 0 | 1 {
  const value = text === null || text === undefined ? null : parseWad(text);
  if (value === null || value === 0n) return 0;
  return value < 0n ? -1 : 1;
}

/** For charts only: nothing is decided by it. */
export function toNumber(text: string | null | undefined): number {
  return text === null || text === undefined ? Number.NaN : Number(text);
}

export function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function ago(ms: number | null, nowMs: number): string {
  if (ms === null) return 'never';
  const seconds = Math.max(0, Math.round((nowMs - ms) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return `${Math.floor(seconds / 3600)} h ago`;
}
