import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AddressSet } from './address-set.ts';

// Small IPv4 values (0..1023) so a brute-force list of every address is the model.
const rangesArb = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 300 })), { maxLength: 4, selector: (r) => r[0] });

function disjoint(raw: Array<[number, number]>): Array<{ first: bigint; last: bigint }> {
  const out: Array<{ first: bigint; last: bigint }> = [];
  for (const [start, len] of [...raw].sort((a, b) => a[0] - b[0])) {
    const prev = out.at(-1);
    const first = BigInt(start);
    if (prev && first <= prev.last) continue;
    out.push({ first, last: BigInt(Math.min(start + len, 1023)) });
  }
  return out;
}

describe('AddressSet', () => {
  it('agrees with listing every address: capacity, contains, next, prev, with and without node addresses', () => {
    fc.assert(
      fc.property(rangesArb, fc.boolean(), fc.integer({ min: 0, max: 1030 }), fc.array(fc.integer({ min: 0, max: 1030 }), { maxLength: 8 }), (raw, avoid, probe, nodes) => {
        const ranges = disjoint(raw);
        const excluded = nodes.map(BigInt);
        const set = new AddressSet(4, ranges, avoid, excluded);
        const all: bigint[] = [];
        for (const r of ranges) for (let x = r.first; x <= r.last; x++) if ((!avoid || (x % 256n !== 0n && x % 256n !== 255n)) && !excluded.includes(x)) all.push(x);
        const p = BigInt(probe);
        expect(set.capacity).toBe(BigInt(all.length));
        expect(set.contains(p)).toBe(all.includes(p));
        expect(set.isExcluded(p)).toBe(excluded.includes(p) && set.inRanges(p));
        expect(set.inRanges(p)).toBe(ranges.some((r) => r.first <= p && p <= r.last));
        expect(set.next(p)).toBe(all.find((x) => x >= p));
        expect(set.prev(p)).toBe(all.filter((x) => x <= p).at(-1));
      }),
      { numRuns: 500 },
    );
  });

  it('avoids .0 and .255 in every prefix length, IPv4 only, and counts a /64 without listing it', () => {
    const v4 = new AddressSet(4, [{ first: 0xc6336400n, last: 0xc63364ffn }], true); // 198.51.100.0/24
    expect(v4.capacity).toBe(254n);
    expect(v4.next(0xc6336400n)).toBe(0xc6336401n);
    expect(v4.prev(0xc63364ffn)).toBe(0xc63364fen);
    const v6first = 0x20010db8000000000000000000000000n;
    const v6 = new AddressSet(6, [{ first: v6first, last: v6first + (1n << 64n) - 1n }], true);
    expect(v6.avoidBuggyIPs).toBe(false);
    expect(v6.capacity).toBe(1n << 64n);
    expect(v6.contains(v6first + 0xffn)).toBe(true);
  });

  it('has the same fingerprint for the same addresses however the ranges were cut', () => {
    const a = new AddressSet(4, [{ first: 10n, last: 19n }, { first: 20n, last: 29n }], false);
    const b = new AddressSet(4, [{ first: 10n, last: 29n }], false);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(new AddressSet(4, [{ first: 10n, last: 29n }], true).fingerprint).not.toBe(b.fingerprint);
    // Node addresses count where they are inside the ranges, and only there.
    expect(new AddressSet(4, [{ first: 10n, last: 29n }], false, [15n]).fingerprint).not.toBe(b.fingerprint);
    expect(new AddressSet(4, [{ first: 10n, last: 29n }], false, [5n, 30n]).fingerprint).toBe(b.fingerprint);
  });
});
