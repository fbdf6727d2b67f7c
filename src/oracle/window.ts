/**
 * The lowest and highest accepted price of a sliding time window, in bounded memory.
 *
 * Prices are kept as the low and high of time buckets of ⌈window / 64⌉ ms, so at most 65
 * buckets are held however fast updates arrive. A bucket counts while any part of it
 * overlaps the window, so the range may include prices up to one bucket older than the
 * window: the guard can only be stricter than configured, never looser.
 */
import { max, min } from '../core/fixed.ts';

export const WINDOW_BUCKETS = 64;

interface Bucket {
  readonly index: number;
  readonly lowWad: bigint;
  readonly highWad: bigint;
}

export interface PriceRange {
  readonly lowWad: bigint;
  readonly highWad: bigint;
}

export class PriceWindow {
  readonly #windowMs: number;
  readonly #bucketMs: number;
  #buckets: Bucket[] = [];

  constructor(windowMs: number) {
    if (!Number.isSafeInteger(windowMs) || windowMs <= 0) throw new RangeError(`PriceWindow: bad window ${windowMs}`);
    this.#windowMs = windowMs;
    this.#bucketMs = Math.ceil(windowMs / WINDOW_BUCKETS);
  }

  /** Records a price accepted at `atMs` (times never decrease; the oracle asserts its clock). */
  push(atMs: number, priceWad: bigint): void {
    const index = Math.floor(atMs / this.#bucketMs);
    const last = this.#buckets.at(-1);
    if (last !== undefined && last.index >= index) {
      this.#buckets[this.#buckets.length - 1] = {
        index: last.index,
        lowWad: min(last.lowWad, priceWad),
        highWad: max(last.highWad, priceWad),
      };
    } else {
      this.#buckets.push({ index, lowWad: priceWad, highWad: priceWad });
    }
    this.#prune(atMs);
  }

  /** Low and high of the prices accepted in [nowMs − window, nowMs], or undefined when there are none. */
  range(nowMs: number): PriceRange | undefined {
    this.#prune(nowMs);
    let range: PriceRange | undefined;
    for (const bucket of this.#buckets) {
      range =
        range === undefined
          ? { lowWad: bucket.lowWad, highWad: bucket.highWad }
          : { lowWad: min(range.lowWad, bucket.lowWad), highWad: max(range.highWad, bucket.highWad) };
    }
    return range;
  }

  /** Buckets held (at most WINDOW_BUCKETS + 1 after any push or range). */
  get bucketCount(): number {
    return this.#buckets.length;
  }

  /** Drops buckets that end before the window starts. */
  #prune(nowMs: number): void {
    const windowStartMs = nowMs - this.#windowMs;
    let drop = 0;
    while (drop < this.#buckets.length && (this.#buckets[drop]!.index + 1) * this.#bucketMs <= windowStartMs) drop++;
    if (drop > 0) this.#buckets = this.#buckets.slice(drop);
  }
}
