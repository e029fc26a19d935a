import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatPoolConflict, resolvePoolConflicts, type Pool } from './index.ts';
import { testPool } from './test-pools.ts';

const names = (pools: readonly Pool[]): string[] => pools.map((p) => p.name);

describe('resolvePoolConflicts', () => {
  it('puts the newer of two overlapping pools in conflict, naming the older pool and the overlap', () => {
    const older = testPool('b-older', ['198.51.100.0/24'], { createdAt: 1000 });
    const newer = testPool('a-newer', ['203.0.113.0/24', '198.51.100.128/25'], { createdAt: 2000 });
    const { usable, conflicts } = resolvePoolConflicts([newer, older]);
    expect(names(usable)).toEqual(['b-older']);
    expect(conflicts).toEqual([{ pool: newer, olderPool: 'b-older', field: 'spec.addresses[1]', overlap: '198.51.100.128/25' }]);
    expect(formatPoolConflict(conflicts[0]!)).toBe(
      'IPAddressPool ballast-system/a-newer spec.addresses[1]: 198.51.100.128/25 overlaps older pool "b-older"; this pool allocates nothing until the overlap is removed',
    );
  });

  it('breaks a createdAt tie by name', () => {
    const { usable, conflicts } = resolvePoolConflicts([testPool('zeta', ['198.51.100.10-198.51.100.20']), testPool('alpha', ['198.51.100.20-198.51.100.30'])]);
    expect(names(usable)).toEqual(['alpha']);
    expect(conflicts.map((c) => [c.pool.name, c.olderPool, c.overlap])).toEqual([['zeta', 'alpha', '198.51.100.20']]);
  });

  it('finds an overlap where the newer range starts first, and one range overlapping many', () => {
    const old1 = testPool('old1', ['198.51.100.10/32'], { createdAt: 1 });
    const old2 = testPool('old2', ['198.51.100.200/32'], { createdAt: 2 });
    const wide = testPool('wide', ['198.51.100.0/24'], { createdAt: 3 });
    const { usable, conflicts } = resolvePoolConflicts([wide, old2, old1]);
    expect(names(usable)).toEqual(['old2', 'old1']);
    expect(conflicts.map((c) => [c.pool.name, c.olderPool])).toEqual([['wide', 'old1']]);
  });

  it('keeps families apart and touches nothing that only touches', () => {
    const pools = [testPool('v4', ['198.51.100.0/25']), testPool('v4b', ['198.51.100.128/25']), testPool('v6', ['2001:db8::/64']), testPool('v6b', ['2001:db8:0:1::/64'])];
    expect(resolvePoolConflicts(pools)).toEqual({ usable: pools, conflicts: [] });
  });

  it('agrees with a pairwise check: a pool is in conflict exactly when it overlaps an older pool', () => {
    const poolArb = fc.array(
      fc.record({
        createdAt: fc.integer({ min: 0, max: 5 }),
        ranges: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 6 }), fc.boolean()), { minLength: 1, maxLength: 3, selector: (r) => r[0] }),
      }),
      { maxLength: 8 },
    );
    let seenConflicts = 0;
    fc.assert(
      fc.property(poolArb, (specs) => {
        // Ranges within one pool must not overlap each other: entry j starts at j*70 + start (≤ 206, inside one /24).
        const pools = specs.map((spec, i) =>
          testPool(
            `p${i}`,
            spec.ranges.map(([start, len, v6], j) => {
              const first = j * 70 + start;
              return v6 ? `2001:db8::${first.toString(16)}-2001:db8::${(first + len).toString(16)}` : `198.51.100.${first}-198.51.100.${first + len}`;
            }),
            { createdAt: spec.createdAt },
          ),
        );
        const older = (a: Pool, b: Pool): boolean => a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.name < b.name);
        const overlaps = (a: Pool, b: Pool): boolean =>
          a.ranges.some((x) => b.ranges.some((y) => x.family === y.family && x.first <= y.last && y.first <= x.last));
        const expected = pools.filter((p) => pools.some((q) => q !== p && older(q, p) && overlaps(p, q))).map((p) => p.name).sort();
        const { usable, conflicts } = resolvePoolConflicts(pools);
        expect(conflicts.map((c) => c.pool.name).sort()).toEqual(expected);
        seenConflicts += expected.length;
        expect(usable.length + conflicts.length).toBe(pools.length);
        for (const c of conflicts) {
          const o = pools.find((p) => p.name === c.olderPool)!;
          expect(older(o, c.pool) && overlaps(o, c.pool)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    expect(seenConflicts).toBeGreaterThan(100); // the generator does produce overlaps
  });
});
