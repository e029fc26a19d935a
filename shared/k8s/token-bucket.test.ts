import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('gives a burst of capacity, then one token per 1/perSecond', () => {
    const b = new TokenBucket(3, 2, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.msUntilToken(0)).toBe(500);
    expect(b.take(499)).toBe(false);
    expect(b.take(500)).toBe(true);
    expect(b.msUntilToken(500)).toBe(500);
  });

  it('never holds more than capacity, however long it idles', () => {
    const b = new TokenBucket(2, 100, 0);
    expect(b.take(1e9) && b.take(1e9) && !b.take(1e9)).toBe(true);
  });

  it('ignores a clock that steps back', () => {
    const b = new TokenBucket(1, 1, 10_000);
    expect(b.take(10_000)).toBe(true);
    expect(b.take(0)).toBe(false);
    expect(b.take(10_999)).toBe(false);
    expect(b.take(11_000)).toBe(true);
  });

  it('over any interval grants at most capacity + rate × duration tokens', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 1, maxLength: 200 }),
        (capacity, perSecond, gaps) => {
          const b = new TokenBucket(capacity, perSecond, 0);
          let now = 0;
          let granted = 0;
          for (const gap of gaps) {
            now += gap;
            if (b.take(now)) granted++;
          }
          // (+1e-9: floating-point refill may reach a whole token a hair early)
          expect(granted).toBeLessThanOrEqual(capacity + Math.floor((perSecond * now) / 1000 + 1e-9));
        },
      ),
    );
  });
});
