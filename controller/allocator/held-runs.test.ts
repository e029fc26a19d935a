import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AddressSet } from './address-set.ts';
import { HeldRuns } from './held-runs.ts';

describe('HeldRuns', () => {
  it('tracks held addresses like a plain set, and lowestFree is the least eligible free address', () => {
    const ranges = [
      { first: 250n, last: 270n }, // crosses a .255/.0 boundary
      { first: 300n, last: 305n },
      { first: 511n, last: 513n },
    ];
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.tuple(fc.boolean(), fc.nat(100)), { maxLength: 120 }), (avoid, ops) => {
        const set = new AddressSet(4, ranges, avoid);
        const eligible: bigint[] = [];
        for (const r of ranges) for (let x = r.first; x <= r.last; x++) if (set.contains(x)) eligible.push(x);
        const runs = new HeldRuns(set);
        const model = new Set<bigint>();
        for (const [takeLowest, pick] of ops) {
          if (takeLowest) {
            const x = runs.lowestFree();
            expect(x).toBe(eligible.find((e) => !model.has(e)));
            if (x !== undefined) {
              runs.take(x);
              model.add(x);
            }
          } else {
            const x = eligible[pick % eligible.length]!;
            if (model.has(x)) {
              runs.free(x);
              model.delete(x);
            } else {
              runs.take(x);
              model.add(x);
            }
          }
          expect(runs.held).toBe(BigInt(model.size));
          expect(runs.available).toBe(set.capacity - BigInt(model.size));
          expect(runs.runCount).toBeLessThanOrEqual(model.size);
        }
        expect([...runs.addresses()]).toEqual(eligible.filter((e) => model.has(e)));
        for (const e of eligible) expect(runs.isHeld(e)).toBe(model.has(e));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to take a held or ineligible address, or free a free one (bugs, not results)', () => {
    const runs = new HeldRuns(new AddressSet(4, [{ first: 0xc6336400n, last: 0xc63364ffn }], true));
    runs.take(0xc6336401n);
    expect(() => runs.take(0xc6336401n)).toThrow(/bug/);
    expect(() => runs.take(0xc6336400n)).toThrow(/bug/);
    expect(() => runs.free(0xc6336402n)).toThrow(/bug/);
  });

  it('keeps one run for a contiguous fill, so memory follows runs, not addresses', () => {
    const first = 0x20010db8000000000000000000000000n;
    const runs = new HeldRuns(new AddressSet(6, [{ first, last: first + (1n << 64n) - 1n }], false));
    for (let i = 0; i < 1000; i++) runs.take(runs.lowestFree()!);
    expect(runs.runCount).toBe(1);
    expect(runs.lowestFree()).toBe(first + 1000n);
    runs.free(first + 10n);
    expect(runs.runCount).toBe(2);
    expect(runs.lowestFree()).toBe(first + 10n);
  });
});
