import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Backoff, backoffDelay } from './backoff.ts';

describe('backoff', () => {
  it('ceilings double from initialMs up to maxMs (client-go: 800 ms to 30 s)', () => {
    const top = (n: number): number => backoffDelay(n, { random: () => 1 });
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100].map(top)).toEqual([800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000, 30_000]);
  });

  it('full jitter: every delay is uniform in [0, ceiling], never above it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, r) => {
        const ceiling = backoffDelay(n, { random: () => 1 });
        const d = backoffDelay(n, { random: () => r });
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(ceiling);
        expect(Math.abs(d - ceiling * r)).toBeLessThanOrEqual(0.5);
      }),
    );
  });

  it('a failure after a healthy period starts over; failures in a row keep growing', () => {
    let now = 0;
    const b = new Backoff({ initialMs: 100, maxMs: 1_000, resetAfterMs: 60_000, random: () => 1 }, () => now);
    const delays = [b.next(), b.next(), b.next(), b.next(), b.next()];
    expect(delays).toEqual([100, 200, 400, 800, 1_000]);
    now += 59_999;
    expect(b.next()).toBe(1_000);
    now += 60_000;
    expect(b.next()).toBe(100);
    b.next();
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('waits at least as long as the API server asks (Retry-After)', () => {
    const b = new Backoff({ random: () => 0 });
    expect(b.next()).toBe(0);
    expect(b.next(5_000)).toBe(5_000);
  });

  it('rejects settings that would never back off or never end', () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow();
    expect(() => new Backoff({ initialMs: 500, maxMs: 100 })).toThrow();
    expect(() => backoffDelay(1, { resetAfterMs: -1 })).toThrow();
  });
});
