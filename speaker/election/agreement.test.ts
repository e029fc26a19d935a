import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { agree } from './agreement.ts';
import { elect } from './elect.ts';
import { input, node, service } from './test-fixtures.ts';
import type { Election } from './decision.ts';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const services = Array.from({ length: 40 }, (_, i) => service(`apps/s${i}`, [`203.0.113.${10 + i}`]));
const electOver = (live: ReadonlySet<string>): Election => elect(input({ services, nodes: NODES.map((n) => node(n)), liveSpeakers: live }));

/** What `self` claims when each member's view is as given (members: the other nodes in its own view). */
function claims(self: string, views: ReadonlyMap<string, ReadonlySet<string>>): Set<string> {
  const view = views.get(self)!;
  const peerViews = new Map([...view].filter((n) => n !== self).map((n) => [n, views.get(n)!] as const));
  return new Set(agree({ self, view, peerViews, election: electOver(view), electOver }).agreed);
}

describe('agreement', () => {
  it('claims every group it wins when all members see what it sees', () => {
    const all = new Set(NODES);
    const views = new Map(NODES.map((n) => [n, all]));
    const owned = electOver(all).groups.filter((g) => g.owner === 'n1').map((g) => g.key.text);
    expect(owned.length).toBeGreaterThan(0);
    expect([...claims('n1', views)].sort()).toEqual(owned.sort());
  });

  it('claims nothing while a member does not count it (a hand-back waits for the holder to let go)', () => {
    const views = new Map([
      ['n1', new Set(['n1', 'n2'])],
      ['n2', new Set(['n2'])],
    ]);
    const r = agree({ self: 'n1', view: views.get('n1')!, peerViews: new Map([['n2', views.get('n2')!]]), election: electOver(views.get('n1')!), electOver });
    expect(r.agreed.size).toBe(0);
    expect([...r.waiting.values()][0]).toMatch(/n2 does not count this speaker yet/);
  });

  it('waits for the groups a node only a member counts would win, and claims the rest', () => {
    // n1 dropped n3 (it no longer hears it); n2 still counts it.
    const views = new Map([
      ['n1', new Set(['n1', 'n2'])],
      ['n2', new Set(['n1', 'n2', 'n3'])],
    ]);
    const mine = claims('n1', views);
    const inTwo = electOver(new Set(['n1', 'n2'])).groups.filter((g) => g.owner === 'n1').map((g) => g.key.text);
    const inThree = new Set(electOver(new Set(['n1', 'n2', 'n3'])).groups.filter((g) => g.owner === 'n1').map((g) => g.key.text));
    expect([...mine].sort()).toEqual(inTwo.filter((k) => inThree.has(k)).sort());
    expect(mine.size).toBeLessThan(inTwo.length);
  });

  it('refuses to agree with a view it cannot know', () => {
    const r = agree({ self: 'n1', view: new Set(['n1', 'n2']), peerViews: new Map([['n2', 'unknown']]), election: electOver(new Set(['n1', 'n2'])), electOver });
    expect(r.agreed.size).toBe(0);
  });

  it('never lets two speakers claim one group when their views share a node (any views that pairwise intersect)', () => {
    const arbViews = fc
      .array(fc.subarray(NODES), { minLength: NODES.length, maxLength: NODES.length })
      .map((subsets) => new Map(NODES.map((n, i) => [n, new Set([n, ...subsets[i]!])] as const)))
      .filter((views) => [...views.values()].every((a) => [...views.values()].every((b) => [...a].some((x) => b.has(x)))));
    fc.assert(
      fc.property(arbViews, (views) => {
        const claimedBy = new Map<string, string>();
        for (const n of NODES) {
          for (const group of claims(n, views)) {
            expect(claimedBy.get(group), `${group} claimed by ${claimedBy.get(group)} and ${n}`).toBeUndefined();
            claimedBy.set(group, n);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('leaves no group unclaimed when every view is the same', () => {
    fc.assert(
      fc.property(fc.subarray(NODES, { minLength: 1 }), (live) => {
        const view = new Set(live);
        const views = new Map(live.map((n) => [n, view]));
        const claimed = new Set(live.flatMap((n) => [...claims(n, views)]));
        expect(claimed.size).toBe(services.length);
      }),
    );
  });
});
