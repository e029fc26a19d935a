import { describe, expect, it } from 'vitest';
import { announcementsFor, elect, type ServiceDecision } from './index.ts';
import { ad, input, node, poolsByIP, service } from './test-fixtures.ts';

const threeNodes = [node('node-a'), node('node-b'), node('node-c')];

const decision = (d: ServiceDecision | undefined) =>
  d === undefined ? undefined : d.announced ? { node: d.node, interfaces: d.interfaces } : { reason: d.reason.code, message: d.reason.message };

describe('elect: who announces', () => {
  it('gives the IP to the lowest sha256(node#ip) among live nodes, and only that node announces it', () => {
    // sha256 order for 198.51.100.7 is node-a, node-b, node-c (see rendezvous.test.ts).
    const e = elect(input({ services: [service('shop/web', ['198.51.100.7'])], nodes: threeNodes }));
    expect(decision(e.services.get('shop/web'))).toEqual({ node: 'node-a', interfaces: 'all' });
    expect(announcementsFor(e, 'node-a')).toEqual(new Map([['198.51.100.7', { interfaces: 'all' }]]));
    expect(announcementsFor(e, 'node-b').size).toBe(0);
  });

  it('falls to the next node in hash order when the winner is not live', () => {
    const e = elect(input({ services: [service('shop/web', ['198.51.100.7'])], nodes: threeNodes, liveSpeakers: new Set(['node-b', 'node-c']) }));
    expect(decision(e.services.get('shop/web'))).toMatchObject({ node: 'node-b' });
  });

  it('ignores a live speaker it has no Node object for (its labels are unknown)', () => {
    const e = elect(input({ services: [service('shop/web', ['198.51.100.7'])], nodes: [node('node-c')], liveSpeakers: new Set(['node-a', 'node-c']) }));
    expect(decision(e.services.get('shop/web'))).toMatchObject({ node: 'node-c' });
  });

  it('skips excluded and NetworkUnavailable nodes', () => {
    const nodes = [node('node-a', { excluded: true }), node('node-b', { networkUnavailable: true }), node('node-c')];
    const e = elect(input({ services: [service('shop/web', ['198.51.100.7'])], nodes }));
    expect(decision(e.services.get('shop/web'))).toMatchObject({ node: 'node-c' });
  });

  it('with externalTrafficPolicy Local, only a node hosting a ready endpoint announces', () => {
    const svc = service('shop/web', ['198.51.100.7'], { externalTrafficPolicy: 'Local' });
    const e = elect(input({ services: [svc], nodes: threeNodes, readyEndpointNodes: new Map([['shop/web', new Set(['node-c', 'node-b'])]]) }));
    expect(decision(e.services.get('shop/web'))).toMatchObject({ node: 'node-b' });
  });

  it('with externalTrafficPolicy Cluster, endpoints do not matter (kube-proxy forwards from any node)', () => {
    const svc = service('shop/web', ['198.51.100.7']);
    const e = elect(input({ services: [svc], nodes: threeNodes, readyEndpointNodes: new Map([['shop/web', new Set(['node-c'])]]) }));
    expect(decision(e.services.get('shop/web'))).toMatchObject({ node: 'node-a' });
  });

  it('puts every Service on a shared IP, and both IPs of a dual-stack Service, on one node', () => {
    // Keyed per Service on its first IP (MetalLB), b would hash on 2001:db8::7 → node-c, a on 198.51.100.7 → node-a.
    const services = [service('shop/a', ['198.51.100.7']), service('shop/b', ['2001:db8::7', '198.51.100.7'])];
    const e = elect(input({ services, nodes: threeNodes }));
    expect(decision(e.services.get('shop/a'))).toMatchObject({ node: 'node-a' });
    expect(decision(e.services.get('shop/b'))).toMatchObject({ node: 'node-a' });
    expect([...announcementsFor(e, 'node-a').keys()]).toEqual(['198.51.100.7', '2001:db8::7']);
    expect(e.services.get('shop/a')?.movesWith).toEqual(['shop/b']);
  });

  it('a shared IP goes only to nodes eligible for every Service on it (ETP Local endpoints intersect)', () => {
    const services = [
      service('shop/a', ['198.51.100.7'], { externalTrafficPolicy: 'Local' }),
      service('shop/b', ['198.51.100.7'], { externalTrafficPolicy: 'Local' }),
    ];
    const readyEndpointNodes = new Map([
      ['shop/a', new Set(['node-a', 'node-c'])],
      ['shop/b', new Set(['node-b', 'node-c'])],
    ]);
    const e = elect(input({ services, nodes: threeNodes, readyEndpointNodes }));
    expect(decision(e.services.get('shop/b'))).toMatchObject({ node: 'node-c' });
  });
});

describe('elect: which advertisements apply', () => {
  const pools = poolsByIP({
    public: { name: 'public', labels: { tier: 'edge' }, ips: ['198.51.100.7'] },
    lab: { name: 'lab', ips: ['203.0.113.7'] },
  });

  it('matches pools by name or by selector; an advertisement naming neither covers every pool', () => {
    const services = [service('shop/web', ['198.51.100.7']), service('shop/lab', ['203.0.113.7'])];
    const byName = elect(input({ services, nodes: threeNodes, poolOf: pools, advertisements: [ad('named', { pools: ['lab'] })] }));
    expect(byName.services.get('shop/lab')?.announced).toBe(true);
    expect(decision(byName.services.get('shop/web'))).toMatchObject({ reason: 'NoAdvertisement', message: 'no L2Advertisement selects pool public (holding 198.51.100.7 of shop/web)' });

    const bySelector = elect(input({ services, nodes: threeNodes, poolOf: pools, advertisements: [ad('edge', { poolSelectors: [{ matchLabels: { tier: 'edge' } }] })] }));
    expect([bySelector.services.get('shop/web')?.announced, bySelector.services.get('shop/lab')?.announced]).toEqual([true, false]);
  });

  it('applies serviceSelectors (OR) and says which advertisements refused the Service', () => {
    const ads = [ad('lan', { serviceSelectors: [{ matchLabels: { expose: 'lan' } }, { matchLabels: { expose: 'all' } }] })];
    const services = [service('shop/in', ['198.51.100.7'], { labels: { expose: 'all' } }), service('shop/out', ['203.0.113.7'], { labels: { expose: 'none' } })];
    const e = elect(input({ services, nodes: threeNodes, poolOf: pools, advertisements: ads }));
    expect(e.services.get('shop/in')?.announced).toBe(true);
    expect(decision(e.services.get('shop/out'))).toMatchObject({
      reason: 'NoAdvertisement',
      message: 'the serviceSelectors of L2Advertisement ballast-system/lan (for pool lab) do not match shop/out',
    });
  });

  it('unions node selectors of several advertisements, and gives the owner only the interfaces of advertisements that select it', () => {
    const nodes = [node('node-a', { labels: { rack: 'r1' } }), node('node-b', { labels: { rack: 'r2' } }), node('node-c', { labels: { rack: 'r3' } })];
    const ads = [
      ad('r1', { nodeSelectors: [{ matchLabels: { rack: 'r1' } }], interfaces: ['eth1'] }),
      ad('r2', { nodeSelectors: [{ matchLabels: { rack: 'r2' } }], interfaces: ['eth2'] }),
      ad('r2-bond', { nodeSelectors: [{ matchLabels: { rack: 'r2' } }], interfaces: ['bond0'] }),
    ];
    const svc = service('shop/web', ['198.51.100.7']);
    const e = elect(input({ services: [svc], nodes, advertisements: ads, liveSpeakers: new Set(['node-b', 'node-c']) }));
    expect(decision(e.services.get('shop/web'))).toEqual({ node: 'node-b', interfaces: new Set(['eth2', 'bond0']) });
  });

  it('an advertisement without interfaces lets the owner announce on all of them', () => {
    const ads = [ad('eth1', { interfaces: ['eth1'] }), ad('any')];
    const e = elect(input({ services: [service('shop/web', ['198.51.100.7'])], nodes: threeNodes, advertisements: ads }));
    expect(announcementsFor(e, 'node-a').get('198.51.100.7')).toEqual({ interfaces: 'all' });
  });

  it('keeps interfaces per IP when a dual-stack Service spans two pools', () => {
    const dual = poolsByIP({ v4: { name: 'v4', ips: ['198.51.100.7'] }, v6: { name: 'v6', ips: ['2001:db8::7'] } });
    const ads = [ad('v4', { pools: ['v4'], interfaces: ['eth0'] }), ad('v6', { pools: ['v6'], interfaces: ['eth1'] })];
    const e = elect(input({ services: [service('shop/web', ['198.51.100.7', '2001:db8::7'])], nodes: threeNodes, advertisements: ads, poolOf: dual }));
    const own = announcementsFor(e, 'node-a');
    expect([own.get('198.51.100.7'), own.get('2001:db8::7')]).toEqual([{ interfaces: new Set(['eth0']) }, { interfaces: new Set(['eth1']) }]);
    expect(decision(e.services.get('shop/web'))).toMatchObject({ interfaces: new Set(['eth0', 'eth1']) });
  });
});

describe('elect: why nothing is announced', () => {
  const one = (partial: Partial<Parameters<typeof input>[0]>, svc = service('shop/web', ['198.51.100.7'])) =>
    decision(elect(input({ services: [svc], nodes: threeNodes, ...partial })).services.get('shop/web'));

  it('NoIP: a Service without ingress IPs', () => {
    expect(one({}, service('shop/web', []))).toMatchObject({ reason: 'NoIP' });
  });

  it('NotInPool: the IP left every pool', () => {
    expect(one({ poolOf: () => undefined })).toEqual({ reason: 'NotInPool', message: '198.51.100.7 of shop/web is in no IPAddressPool' });
  });

  it('NoNodeMatchesSelectors, naming the advertisements', () => {
    const ads = [ad('gpu', { nodeSelectors: [{ matchLabels: { gpu: 'yes' } }] })];
    expect(one({ advertisements: ads })).toEqual({ reason: 'NoNodeMatchesSelectors', message: 'no node matches the nodeSelectors of L2Advertisement ballast-system/gpu' });
  });

  it('NoCommonNode: IPs that must move together are advertised from disjoint nodes', () => {
    const dual = poolsByIP({ v4: { name: 'v4', ips: ['198.51.100.7'] }, v6: { name: 'v6', ips: ['2001:db8::7'] } });
    const nodes = [node('node-a', { labels: { rack: 'r1' } }), node('node-b', { labels: { rack: 'r2' } })];
    const ads = [ad('v4', { pools: ['v4'], nodeSelectors: [{ matchLabels: { rack: 'r1' } }] }), ad('v6', { pools: ['v6'], nodeSelectors: [{ matchLabels: { rack: 'r2' } }] })];
    expect(one({ nodes, advertisements: ads, poolOf: dual }, service('shop/web', ['198.51.100.7', '2001:db8::7']))).toMatchObject({ reason: 'NoCommonNode' });
  });

  it('NoLiveSpeaker, AllExcluded, AllNetworkUnavailable in that order', () => {
    expect(one({ liveSpeakers: new Set() })).toEqual({ reason: 'NoLiveSpeaker', message: 'no live speaker on the nodes the L2Advertisements select (node-a, node-b, node-c)' });
    const excluded = threeNodes.map((n) => ({ ...n, excluded: true }));
    expect(one({ nodes: excluded, liveSpeakers: new Set(['node-b']) })).toEqual({
      reason: 'AllExcluded',
      message: 'every candidate node is labelled node.kubernetes.io/exclude-from-external-load-balancers (node-b)',
    });
    expect(one({ nodes: threeNodes.map((n) => ({ ...n, networkUnavailable: true })) })).toMatchObject({ reason: 'AllNetworkUnavailable' });
  });

  it('NoReadyEndpoint for externalTrafficPolicy Local, naming the Service', () => {
    const svc = service('shop/web', ['198.51.100.7'], { externalTrafficPolicy: 'Local' });
    expect(one({ readyEndpointNodes: new Map([['shop/web', new Set(['node-x'])]]) }, svc)).toEqual({
      reason: 'NoReadyEndpoint',
      message: 'no candidate node (node-a, node-b, node-c) hosts a ready endpoint of shop/web (externalTrafficPolicy Local)',
    });
  });

  it('one uncovered Service withholds the IP it shares, and its partner says so (MetalLB #3025)', () => {
    const ads = [ad('web-only', { serviceSelectors: [{ matchLabels: { app: 'web' } }] })];
    const services = [service('shop/web', ['198.51.100.7'], { labels: { app: 'web' } }), service('shop/db', ['198.51.100.7'], { labels: { app: 'db' } })];
    const e = elect(input({ services, nodes: threeNodes, advertisements: ads }));
    for (const key of ['shop/web', 'shop/db']) {
      expect(decision(e.services.get(key))).toMatchObject({ reason: 'NoAdvertisement', message: expect.stringContaining('do not match shop/db') });
    }
    expect(e.byNode.size).toBe(0);
  });

  it('shortens long node lists in messages', () => {
    const many = Array.from({ length: 9 }, (_, i) => node(`n${i}`));
    expect(one({ nodes: many, liveSpeakers: new Set() })).toMatchObject({ message: expect.stringContaining('(n0, n1, n2, n3, n4 and 4 more)') });
  });
});
