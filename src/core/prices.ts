/**
 * Prices as the risk model uses them: a USD price per whole unit of an asset with a
 * confidence half-width, both wads. Collateral is valued at price − confidence and debts
 * at price + confidence, so an uncertain price always counts against the account.
 */
import type { Level } from './config.ts';
import { mulDivDown, mulDivUp, WAD_DECIMALS } from './fixed.ts';
import { InputReader, join, type InputIssue } from './input.ts';
import { err, ok, type Result } from './result.ts';

export interface Price {
  /** USD per whole unit, > 0: the spot aggregate. */
  readonly priceWad: bigint;
  /** Half-width of the confidence interval in USD, ≥ 0. */
  readonly confidenceWad: bigint;
  /**
   * A slow price whose growth per unit of time is bounded (oracle). Initial margin values at
   * the less favourable of spot and stable, so a sudden pump cannot be borrowed against.
   * Absent: spot.
   */
  readonly stablePriceWad?: bigint;
  /** Mark price of perps on this base asset (an EMA of spot, oracle). Absent: spot. */
  readonly markPriceWad?: bigint;
}

/** Guarded prices by asset id. */
export type PriceBook = ReadonlyMap<string, Price>;

/**
 * Price used for what the account holds: price − confidence, never below zero. At the
 * initial level the lower of spot and stable price.
 */
export function priceLow(price: Price, level: Level = 'maintenance'): bigint {
  const reference =
    level === 'initial' && price.stablePriceWad !== undefined && price.stablePriceWad < price.priceWad
      ? price.stablePriceWad
      : price.priceWad;
  const low = reference - price.confidenceWad;
  return low > 0n ? low : 0n;
}

/** Price used for what the account owes: price + confidence; at the initial level the higher of spot and stable. */
export function priceHigh(price: Price, level: Level = 'maintenance'): bigint {
  const reference =
    level === 'initial' && price.stablePriceWad !== undefined && price.stablePriceWad > price.priceWad
      ? price.stablePriceWad
      : price.priceWad;
  return reference + price.confidenceWad;
}

/** The mark price of perps on this base asset. */
export function markPrice(price: Price): bigint {
  return price.markPriceWad ?? price.priceWad;
}

/**
 * The book with `asset` moved to `priceWad`. Confidence, stable and mark prices move in
 * proportion (rounded up, the wider side, for the confidence), so that a what-if move keeps
 * the source's relative uncertainty and the smoothing's relative lag. Liquidation prices and
 * what-if price moves both go through here.
 */
export function withPrice(prices: PriceBook, asset: string, priceWad: bigint): PriceBook {
  const current = prices.get(asset);
  const scaled = (value: bigint | undefined): bigint | undefined =>
    current === undefined || value === undefined ? undefined : mulDivDown(priceWad, value, current.priceWad);
  const confidenceWad =
    current === undefined || current.confidenceWad === 0n
      ? 0n
      : mulDivUp(priceWad, current.confidenceWad, current.priceWad);
  const stablePriceWad = scaled(current?.stablePriceWad);
  const markPriceWad = scaled(current?.markPriceWad);
  const next = new Map(prices);
  next.set(asset, {
    priceWad,
    confidenceWad,
    ...(stablePriceWad !== undefined && { stablePriceWad }),
    ...(markPriceWad !== undefined && { markPriceWad }),
  });
  return next;
}

/**
 * Reads a `prices.json` value: `{ "ETH": "3000.12", "USDC": { "price": "1", "confidence": "0.0005" } }`.
 * Prices must be positive; confidences non-negative.
 */
export function parsePriceBook(json: unknown): Result<PriceBook, readonly InputIssue[]> {
  const reader = new InputReader();
  const record = reader.dictionary(json, '');
  if (record === undefined) return err(reader.issues);
  const book = new Map<string, Price>();
  for (const [asset, value] of Object.entries(record)) {
    const field = join('', asset);
    if (reader.identifier(asset, field) === undefined) continue;
    const price = readPrice(reader, value, field);
    if (price !== undefined) book.set(asset, price);
  }
  return reader.issues.length > 0 ? err(reader.issues) : ok(book);
}

const POSITIVE = { min: 0n, minExclusive: true, text: '(0, ∞)' };
const NON_NEGATIVE = { min: 0n, text: '[0, ∞)' };

function readPrice(reader: InputReader, value: unknown, field: string): Price | undefined {
  if (typeof value === 'string') {
    const priceWad = reader.decimalWithin(value, field, WAD_DECIMALS, POSITIVE);
    return priceWad === undefined ? undefined : { priceWad, confidenceWad: 0n };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reader.fail(field, `must be a decimal string or { "price", "confidence" }, got ${JSON.stringify(value) ?? typeof value}`);
  }
  const record = reader.object(value, field, ['price', 'confidence']);
  if (record === undefined) return undefined;
  const priceWad = reader.required(record, 'price', field, (v) =>
    reader.decimalWithin(v, join(field, 'price'), WAD_DECIMALS, POSITIVE),
  );
  const confidenceWad =
    reader.optional(record, 'confidence', (v) =>
      reader.decimalWithin(v, join(field, 'confidence'), WAD_DECIMALS, NON_NEGATIVE),
    ) ?? 0n;
  return priceWad === undefined ? undefined : { priceWad, confidenceWad };
}
