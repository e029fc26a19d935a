import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { majorityOf, quorum, type QuorumInput } from './quorum.ts';

const set = (...names: string[]) => new Set(names);
const base: QuorumInput = { self: 'a', readyInAPI: set('a', 'b', 'c'), mutual: set('b', 'c'), supporters: set('b', 'c'), tieLease: false };

describe('quorum', () => {
  it('acts on its own view while a majority of the cluster vouches for it', () => {
    expect(quorum(base)).toEqual({ mode: 'agreed', via: 'majority', cluster: 3, vouched: 3 });
    expect(quorum({ ...base, supporters: set('b') }).mode).toBe('agreed');
  });

  it('detaches in a minority: it cannot tell a crash of the others from being cut off from them', () => {
    expect(quorum({ ...base, mutual: set(), supporters: set() })).toEqual({ mode: 'detached', why: 'minority', cluster: 3, vouched: 1 });
  });

  it('counts speakers it hears that the API does not show Ready yet, and Ready ones it never heard', () => {
    expect(quorum({ ...base, readyInAPI: set('a'), mutual: set('b', 'c', 'd'), supporters: set('b') })).toMatchObject({ mode: 'detached', why: 'tie', cluster: 4 });
    expect(quorum({ ...base, readyInAPI: set('a', 'b', 'c', 'd', 'e'), supporters: set('b') })).toMatchObject({ mode: 'detached', cluster: 5, vouched: 2 });
  });

  it('breaks an even split with the Lease: only the half that holds it acts on its own view', () => {
    const half = { ...base, readyInAPI: set('a', 'b'), mutual: set(), supporters: set() };
    expect(quorum(half)).toMatchObject({ mode: 'detached', why: 'tie' });
    expect(quorum({ ...half, tieLease: true })).toMatchObject({ mode: 'agreed', via: 'lease' });
    // The Lease never makes a minority: one of three vouched is not half.
    expect(quorum({ ...base, mutual: set(), supporters: set(), tieLease: true }).mode).toBe('detached');
  });

  it('does nothing on its own view before it knows the API view', () => {
    expect(quorum({ ...base, readyInAPI: undefined })).toMatchObject({ mode: 'detached', why: 'no-api-view' });
  });

  it('a single speaker is its own majority', () => {
    expect(quorum({ self: 'a', readyInAPI: set('a'), mutual: set(), supporters: set(), tieLease: false }).mode).toBe('agreed');
    expect(quorum({ self: 'a', readyInAPI: set(), mutual: set(), supporters: set(), tieLease: false }).mode).toBe('agreed');
  });

  it('two disjoint groups of speakers can never both act on their own views without the Lease', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 9 }), (n, k) => {
        const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
        const cut = Math.min(k, n);
        const left = nodes.slice(0, cut);
        const right = nodes.slice(cut);
        const verdict = (side: string[]) =>
          side.length === 0 ? 'none' : quorum({ self: side[0]!, readyInAPI: new Set(nodes), mutual: new Set(side.slice(1)), supporters: new Set(side.slice(1)), tieLease: false }).mode;
        expect(verdict(left) === 'agreed' && verdict(right) === 'agreed').toBe(false);
        expect(majorityOf(n)).toBeGreaterThan(n / 2);
      }),
    );
  });
});
