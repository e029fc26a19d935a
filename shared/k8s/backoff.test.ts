import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Backoff } from './backoff.ts';

describe('Backoff', () => {
  it('doubles from initialMs up to maxMs and stays there; reset starts over', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1_000, jitter: 0 });
    expect(Array.from({ length: 7 }, () => b.next())).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('jitter only shortens a delay, by at most the jitter fraction', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 0.999_999, noNaN: true }), { minLength: 1, maxLength: 40 }), fc.double({ min: 0, max: 0.9, noNaN: true }), (randoms, jitter) => {
        let i = 0;
        const jittered = new Backoff({ initialMs: 50, maxMs: 5_000, jitter }, () => randoms[i++ % randoms.length]!);
        const plain = new Backoff({ initialMs: 50, maxMs: 5_000, jitter: 0 });
        for (let n = 0; n < randoms.length; n++) {
          const cap = plain.next();
          const d = jittered.next();
          expect(d).toBeLessThanOrEqual(cap);
          expect(d).toBeGreaterThanOrEqual(Math.floor(cap * (1 - jitter)));
        }
      }),
    );
  });

  it('rejects settings that would never back off or never end', () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow();
    expect(() => new Backoff({ initialMs: 500, maxMs: 100 })).toThrow();
    expect(() => new Backoff({ jitter: 1 })).toThrow();
  });
});
