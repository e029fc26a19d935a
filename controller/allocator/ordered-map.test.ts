import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OrderedMap } from './ordered-map.ts';

type Op = { op: 'set'; key: number; value: number } | { op: 'delete'; key: number };

describe('OrderedMap', () => {
  it('behaves like a sorted map under any sequence of sets and deletes', () => {
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 40 }), value: fc.integer() }),
      fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), fc.integer({ min: -1, max: 41 }), (ops, probe) => {
        const map = new OrderedMap<number>();
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.op === 'set') {
            map.set(BigInt(o.key), o.value);
            model.set(o.key, o.value);
          } else {
            expect(map.delete(BigInt(o.key))).toBe(model.delete(o.key));
          }
        }
        const keys = [...model.keys()].sort((a, b) => a - b);
        expect(map.size).toBe(model.size);
        expect([...map.entries()].map((e) => [Number(e.key), e.value])).toEqual(keys.map((k) => [k, model.get(k)]));
        expect(map.get(BigInt(probe))).toBe(model.get(probe));
        const floor = keys.filter((k) => k <= probe).at(-1);
        const ceiling = keys.find((k) => k >= probe);
        expect(map.floor(BigInt(probe))?.key).toBe(floor === undefined ? undefined : BigInt(floor));
        expect(map.ceiling(BigInt(probe))?.key).toBe(ceiling === undefined ? undefined : BigInt(ceiling));
      }),
      { numRuns: 300 },
    );
  });

  it('stays balanced: 100 000 ascending keys do not exhaust the stack of its recursive insert and delete', () => {
    const map = new OrderedMap<true>();
    for (let i = 0n; i < 100_000n; i++) map.set(i, true);
    expect(map.size).toBe(100_000);
    for (let i = 0n; i < 100_000n; i += 2n) map.delete(i);
    expect(map.size).toBe(50_000);
    expect(map.floor(10n)?.key).toBe(9n);
  });
});
