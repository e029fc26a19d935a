// Properties every speaker relies on: same inputs ⇒ same owners on every node,
// one owner per group of IPs that move together, owners only change when they
// must, and the owner is the best eligible node by rendezvous hash.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { advertisesFromNode, advertisesPool, advertisesService, serviceKey, type AnnouncedService, type NodeInfo } from '../../shared/config/index.ts';
import type { IPAddress } from '../../shared/net/index.ts';
import { announcementsFor, elect, RendezvousMemo, rendezvousOrder, type Election, type ElectionInput } from './index.ts';
import { ad, ip, node, service } from './test-fixtures.ts';

const NODE_NAMES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];
// Few IPs for many Services, so sharing and dual-stack chains are common.
const IPS = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4', '203.0.113.1', '203.0.113.2', '2001:db8::1', '2001:db8::2', '2001:db8:1::1'];
const POOL_OF: Record<string, string> = {
  '198.51.100.1': 'p1',
  '198.51.100.2': 'p1',
  '198.51.100.3': 'p2',
  '198.51.100.4': 'p2',
  '203.0.113.1': 'p3',
  '2001:db8::1': 'p1',
  '2001:db8::2': 'p2',
  '2001:db8:1::1': 'p3',
  // 203.0.113.2 is in no pool
};
const poolOf = (address: IPAddress) => {
  const name = POOL_OF[address.text];
  return name === undefined ? undefined : { name, labels: { family: name === 'p3' ? 'spare' : 'main' } };
};

const rarely = fc.integer({ min: 0, max: 5 }).map((x) => x === 0);
const arbNodes = fc.uniqueArray(fc.constantFrom(...NODE_NAMES), { minLength: 1, maxLength: NODE_NAMES.length }).chain((names) =>
  fc.tuple(...names.map((name) => fc.record({ rack: fc.constantFrom('r1', 'r2'), excluded: rarely, networkUnavailable: rarely }).map((a) => node(name, { labels: { rack: a.rack }, excluded: a.excluded, networkUnavailable: a.networkUnavailable })))),
);
const arbServices = fc.uniqueArray(
  fc.record({
    name: fc.constantFrom(...Array.from({ length: 16 }, (_, i) => `s${i}`)),
    ips: fc.uniqueArray(fc.constantFrom(...IPS), { maxLength: 2 }),
    local: rarely,
    team: fc.constantFrom('a', 'b'),
  }),
  { selector: (s) => s.name, maxLength: 12 },
);
const arbAds = fc.array(
  fc.record({
    // Mostly permissive, so that most groups are announced and ownership is what gets tested.
    pools: fc.oneof(fc.constant<string[]>([]), fc.subarray(['p1', 'p2'])),
    spare: fc.boolean(),
    rack: fc.option(fc.constantFrom('r1', 'r2'), { freq: 2 }),
    team: fc.option(fc.constantFrom('a', 'b'), { freq: 2 }),
    interfaces: fc.subarray(['eth0', 'eth1']),
  }),
  { minLength: 1, maxLength: 3 },
);

const arbInput: fc.Arbitrary<ElectionInput> = fc
  .tuple(arbNodes, arbServices, arbAds)
  .chain(([nodes, specs, adSpecs]) =>
    fc.record({
      nodes: fc.constant(nodes),
      dead: fc.subarray(NODE_NAMES, { maxLength: 3 }),
      endpoints: fc.tuple(...specs.map(() => fc.subarray(NODE_NAMES))),
      specs: fc.constant(specs),
      adSpecs: fc.constant(adSpecs),
    }),
  )
  .map(({ nodes, dead, endpoints, specs, adSpecs }) => ({
    nodes,
    liveSpeakers: new Set(NODE_NAMES.filter((n) => !dead.includes(n))),
    services: specs.map((s) => service(`shop/${s.name}`, s.ips, { labels: { team: s.team }, externalTrafficPolicy: s.local ? 'Local' : 'Cluster' })),
    readyEndpointNodes: new Map(specs.map((s, i) => [`shop/${s.name}`, new Set(endpoints[i])])),
    advertisements: adSpecs.map((a, i) =>
      ad(`ad${i}`, {
        pools: a.pools,
        poolSelectors: a.spare ? [{ matchLabels: { family: 'spare' } }] : [],
        nodeSelectors: a.rack ? [{ matchLabels: { rack: a.rack } }] : [],
        serviceSelectors: a.team ? [{ matchLabels: { team: a.team } }] : [],
        interfaces: a.interfaces,
      }),
    ),
    poolOf,
  }));

/** Eligibility spelled out directly from the rules, independent of elect's funnel. */
function eligible(input: ElectionInput, n: NodeInfo, services: readonly AnnouncedService[]): boolean {
  if (!input.liveSpeakers.has(n.name) || n.excluded || n.networkUnavailable) return false;
  return services.every(
    (s) =>
      (s.externalTrafficPolicy === 'Cluster' || (input.readyEndpointNodes.get(serviceKey(s))?.has(n.name) ?? false)) &&
      s.ips.every((address) => {
        const pool = input.poolOf(address);
        return pool !== undefined && input.advertisements.some((a) => advertisesPool(a, pool) && advertisesService(a, s.labels) && advertisesFromNode(a, n.labels));
      }),
  );
}

const owners = (e: Election) => new Map(e.groups.map((g) => [g.key.text, g.owner]));

describe('election properties', () => {
  it('the owner is the best eligible node by rendezvous hash, and a group with no eligible node is not announced', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const e = elect(input);
        for (const group of e.groups) {
          const services = input.services.filter((s) => s.ips.some((a) => group.ips.some((g) => g.text === a.text)));
          const best = rendezvousOrder(
            input.nodes.filter((n) => eligible(input, n, services)).map((n) => n.name),
            group.key,
          )[0];
          expect(group.owner).toBe(best);
        }
      }),
    );
  });

  it('groups are closed: a Service holding an IP of a group has all its IPs in it and the same decision', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const e = elect(input);
        for (const group of e.groups) {
          const ips = new Set(group.ips.map((a) => a.text));
          for (const s of input.services.filter((s) => s.ips.some((a) => ips.has(a.text)))) {
            expect(s.ips.every((a) => ips.has(a.text))).toBe(true);
            const d = e.services.get(serviceKey(s))!;
            expect(d.announced ? d.node : undefined).toBe(group.owner);
          }
        }
      }),
    );
  });

  it('exactly one node announces each announced IP, with every IP of its group', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const e = elect(input);
        const announcers = new Map<string, string[]>();
        for (const name of NODE_NAMES) for (const text of announcementsFor(e, name).keys()) announcers.set(text, [...(announcers.get(text) ?? []), name]);
        for (const group of e.groups) {
          for (const a of group.ips) expect(announcers.get(a.text)).toEqual(group.owner === undefined ? undefined : [group.owner]);
        }
      }),
    );
  });

  it('two speakers given the same facts in a different order agree on everything', () => {
    fc.assert(
      fc.property(arbInput, fc.infiniteStream(fc.nat()), (input, seeds) => {
        const shuffle = <T>(items: readonly T[]): T[] => {
          const out = [...items];
          for (let i = out.length - 1; i > 0; i--) {
            const j = seeds.next().value % (i + 1);
            [out[i], out[j]] = [out[j]!, out[i]!];
          }
          return out;
        };
        const other: ElectionInput = {
          ...input,
          nodes: shuffle(input.nodes),
          services: shuffle(input.services).map((s) => ({ ...s, ips: shuffle(s.ips) })),
          advertisements: shuffle(input.advertisements),
          liveSpeakers: new Set(shuffle([...input.liveSpeakers])),
        };
        const [a, b] = [elect(input), elect(other)];
        expect(b.groups).toEqual(a.groups);
        expect([...b.services.keys()]).toEqual([...a.services.keys()]);
        for (const [key, d] of a.services) expect({ ...b.services.get(key), ips: undefined }).toEqual({ ...d, ips: undefined });
        expect(b.byNode).toEqual(a.byNode);
      }),
    );
  });

  it('losing a node that owns nothing moves nothing; losing an owner moves only its groups', () => {
    fc.assert(
      fc.property(arbInput, fc.constantFrom(...NODE_NAMES), (input, lost) => {
        const before = owners(elect(input));
        const after = owners(elect({ ...input, liveSpeakers: new Set([...input.liveSpeakers].filter((n) => n !== lost)) }));
        for (const [key, owner] of before) {
          if (owner === lost) expect(after.get(key)).not.toBe(lost);
          else expect(after.get(key)).toBe(owner);
        }
      }),
    );
  });

  it('with externalTrafficPolicy Local the owner hosts a ready endpoint of every such Service in its group', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        for (const d of elect(input).services.values()) {
          if (!d.announced) continue;
          for (const key of [d.service, ...d.movesWith]) {
            const s = input.services.find((x) => serviceKey(x) === key)!;
            if (s.externalTrafficPolicy === 'Local') expect(input.readyEndpointNodes.get(key)?.has(d.node)).toBe(true);
          }
        }
      }),
    );
  });

  it('a RendezvousMemo carried across a run of elections changes no result and keeps only live IPs', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(arbInput, fc.subarray(NODE_NAMES)), { minLength: 1, maxLength: 6 }), (steps) => {
        const memo = new RendezvousMemo();
        for (const [input, lost] of steps) {
          // Each input twice: once as is, once after some speakers died (the failover path).
          for (const variant of [input, { ...input, liveSpeakers: new Set([...input.liveSpeakers].filter((n) => !lost.includes(n))) }]) {
            const remembered = elect(variant, memo);
            expect(remembered).toEqual(elect(variant));
            expect(memo.size).toBe(remembered.groups.filter((g) => g.owner !== undefined).length);
          }
        }
      }),
      { numRuns: 50 },
    );
  });

  it('spreads many IPs roughly evenly over the nodes', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{2,20}$/), { minLength: 3, maxLength: 6 }), (names) => {
        const count = 3000;
        const services = Array.from({ length: count }, (_, i) => service(`bulk/s${i}`, [i < 1500 ? `198.51.100.${i % 250}` : `2001:db8::${i.toString(16)}`]));
        // 198.51.100.x repeats every 250 Services: those share IPs, so count groups, not Services.
        const e = elect({ services, nodes: names.map((n) => node(n)), liveSpeakers: new Set(names), readyEndpointNodes: new Map(), advertisements: [ad('all')], poolOf: () => ({ name: 'p', labels: {} }) });
        const share = e.groups.length / names.length;
        for (const n of names) {
          const owned = e.groups.filter((g) => g.owner === n).length;
          expect(Math.abs(owned - share)).toBeLessThan(share * 0.3);
        }
      }),
      { numRuns: 10 },
    );
  });
});
