import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PriceWindow, WINDOW_BUCKETS } from './window.ts';

describe('PriceWindow', () => {
  it('is empty until a price arrives', () => {
    expect(new PriceWindow(64_000).range(1_000_000)).toBeUndefined();
  });

  it('holds the low and high of the window, and forgets what left it', () => {
    const window = new PriceWindow(64_000); // buckets of 1 s
    window.push(100_000, 100n);
    window.push(110_000, 130n);
    window.push(120_000, 90n);
    expect(window.range(120_000)).toEqual({ lowWad: 90n, highWad: 130n });
    // at 165 s the window starts at 101 s: the bucket [100 s, 101 s) has ended
    expect(window.range(165_000)).toEqual({ lowWad: 90n, highWad: 130n });
    expect(window.range(165_001)).toEqual({ lowWad: 90n, highWad: 130n });
    // the 100 left with its bucket, the 130 leaves at 175 s
    window.push(170_000, 95n);
    expect(window.range(175_000)).toEqual({ lowWad: 90n, highWad: 95n });
    expect(window.range(185_000)).toEqual({ lowWad: 95n, highWad: 95n });
    expect(window.range(235_000)).toBeUndefined();
  });

  it('keeps at most 65 buckets however many prices arrive, and never loses one still in the window', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 5_000 }), price: fc.bigInt({ min: 1n, max: 1000n }) }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1_000, max: 100_000 }),
        (steps, windowMs) => {
          const window = new PriceWindow(windowMs);
          const seen: { atMs: number; price: bigint }[] = [];
          let atMs = 1_000_000;
          for (const step of steps) {
            atMs += step.gapMs;
            window.push(atMs, step.price);
            seen.push({ atMs, price: step.price });
          }
          const range = window.range(atMs)!;
          const inWindow = seen.filter((entry) => entry.atMs >= atMs - windowMs).map((entry) => entry.price);
          // everything inside the window is covered (the range may be wider by one bucket, never narrower)
          const covered = inWindow.every((price) => price >= range.lowWad && price <= range.highWad);
          return covered && window.bucketCount <= WINDOW_BUCKETS + 1;
        },
      ),
    );
  });

  it('rejects a window that is not a positive integer', () => {
    expect(() => new PriceWindow(0)).toThrow(RangeError);
    expect(() => new PriceWindow(1.5)).toThrow(RangeError);
  });
});
