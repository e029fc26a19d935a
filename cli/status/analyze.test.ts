import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { testPool } from '../../shared/config/test-pools.ts';
import { analyze, isSpeakerPod, poolSize, type ClusterSnapshot } from './analyze.ts';
import { ad, healthy, l2status, node, NS, pool, readyStatus, service, speakerPod, warning } from './fixtures.test-util.ts';

const problems = (s: ClusterSnapshot): string[] => analyze(s).problems.map((p) => `${p.severity} ${p.object}: ${p.message}`);

describe('analyze', () => {
  it('finds nothing wrong with a healthy cluster, and reports pools, Services and speakers', () => {
    const r = analyze(healthy());
    expect(r.problems).toEqual([]);
    expect(r.speakers).toEqual({ ready: 2, nodes: 2 });
    expect(r.pools).toEqual([
      {
        name: 'default',
        addresses: ['203.0.113.0/24', '2001:db8:100::/64'],
        autoAssign: true,
        terminating: false,
        usage: [
          { family: 'IPv4', assigned: 2n, available: 254n, source: 'status' },
          // The exact text wins over the number, which JSON caps at 2^53-1.
          { family: 'IPv6', assigned: 1n, available: 18446744073709551615n, source: 'status' },
        ],
        conditions: [{ type: 'Ready', status: 'True', reason: 'Allocating', message: 'ready' }],
      },
    ]);
    expect(r.services).toEqual([
      { namespace: 'shop', name: 'api', ips: ['203.0.113.2'], pool: 'default', nodes: ['node-2'] },
      { namespace: 'shop', name: 'web', ips: ['203.0.113.1', '2001:db8:100::1'], pool: 'default', nodes: ['node-1'] },
    ]);
  });

  it('counts usage from Services when the pool has no status yet (controller not running)', () => {
    const s = { ...healthy(), pools: [pool('default', ['203.0.113.0/30', '2001:db8:100::/126'])] };
    expect(analyze(s).pools[0]!.usage).toEqual([
      { family: 'IPv4', assigned: 2n, available: 2n, source: 'services' },
      { family: 'IPv6', assigned: 1n, available: 3n, source: 'services' },
    ]);
  });

  it('explains a Service without an IP with its latest Warning event', () => {
    const s = healthy();
    s.services.push(service('shop', 'db', []));
    s.events.push(
      warning('shop', 'db', 'AllocationFailed', 'old news', '2025-01-01T00:00:00Z'),
      warning('shop', 'db', 'AllocationFailed', 'no available IPs in pool "default"', '2025-01-02T00:00:00Z'),
      warning('shop', 'web', 'Other', 'not about db', '2025-01-03T00:00:00Z'),
    );
    expect(problems(s)).toEqual(['error Service shop/db: has no IP: AllocationFailed: no available IPs in pool "default"']);
  });

  it('says when nothing explains a missing IP, and when the requested pool does not exist', () => {
    const s = healthy();
    s.services.push(service('shop', 'db', []), service('shop', 'cache', [], { annotations: { 'metallb.universe.tf/address-pool': 'gold' } }));
    expect(problems(s)).toEqual([
      'error Service shop/cache: has no IP: it asks for pool "gold", which does not exist; no Warning event explains it; is the controller running? (kubectl logs deploy/ballast-controller)',
      'error Service shop/db: has no IP: no Warning event explains it; is the controller running? (kubectl logs deploy/ballast-controller)',
    ]);
  });

  it('reports IPs announced by no node and by more than one', () => {
    const s = healthy();
    s.serviceL2Statuses.splice(1, 1, l2status('l2-c', 'shop', 'web', 'node-2'), l2status('l2-d', 'shop', 'web', 'node-2'));
    expect(problems(s)).toEqual([
      'error Service shop/api: 203.0.113.2 announced by no node: no ServiceL2Status: no ready endpoints, no eligible node, or no speaker running',
      'error Service shop/web: 203.0.113.1, 2001:db8:100::1 announced by 2 nodes (node-1, node-2): clients see whichever answered last',
    ]);
  });

  it('blames a missing L2Advertisement when a Service is announced by no node', () => {
    const s = { ...healthy(), l2Advertisements: [ad('other', { ipAddressPools: ['elsewhere'] })], serviceL2Statuses: [] };
    expect(problems(s)).toEqual([
      'error Service shop/api: 203.0.113.2 announced by no node: no L2Advertisement selects its pool "default"',
      'error Service shop/web: 203.0.113.1, 2001:db8:100::1 announced by no node: no L2Advertisement selects its pool "default"',
      'warning IPAddressPool ballast-system/default: no L2Advertisement selects it: Services get its addresses, but no node announces them',
      `warning L2Advertisement ballast-system/other: spec.ipAddressPools[0]: no IPAddressPool "elsewhere" in namespace ${NS}; nothing is announced for it until one is created`,
    ]);
  });

  it('reports pool conditions: conflict, not ready, exhausted', () => {
    const cond = (type: string, status: 'True' | 'False', reason: string, message: string) => ({ type, status, reason, message, lastTransitionTime: '2025-01-01T00:00:00Z' });
    const s = {
      ...healthy(),
      pools: [
        pool('default', ['203.0.113.0/24', '2001:db8:100::/64'], { status: { assignedIPv4: 3, availableIPv4: 0, conditions: [cond('Ready', 'True', 'Allocating', ''), cond('Exhausted', 'True', 'NoFreeAddresses', 'all 256 IPv4 addresses are in use')] } }),
        pool('copy', ['203.0.113.0/25'], { creationTimestamp: '2025-02-01T00:00:00Z', status: { conditions: [cond('Ready', 'False', 'Conflict', 'x'), cond('Conflict', 'True', 'Overlap', '203.0.113.0/25 overlaps older pool "default"')] } }),
        pool('broken', ['2001:db8:200::/64'], { status: { conditions: [cond('Ready', 'False', 'Invalid', 'spec.addresses[0]: nope')] } }),
        pool('lan', ['198.51.100.0/28'], { status: { conditions: [cond('Ready', 'True', 'Allocating', ''), cond('NodeConflict', 'True', 'NodeAddressInPool', 'spec.addresses[0] (198.51.100.0/28) holds the InternalIP 198.51.100.11 of node n1')] } }),
      ],
    };
    expect(problems(s)).toEqual([
      'error IPAddressPool ballast-system/broken: not ready: Invalid: spec.addresses[0]: nope',
      'error IPAddressPool ballast-system/copy: in conflict: 203.0.113.0/25 overlaps older pool "default"',
      'warning IPAddressPool ballast-system/default: exhausted: all 256 IPv4 addresses are in use',
      "warning IPAddressPool ballast-system/lan: holds a node's address: spec.addresses[0] (198.51.100.0/28) holds the InternalIP 198.51.100.11 of node n1",
    ]);
  });

  it('finds conflicts and exhaustion itself when pools have no status', () => {
    const s = { ...healthy(), pools: [pool('default', ['203.0.113.0/24', '2001:db8:100::/64']), pool('small', ['203.0.113.1/32'], { creationTimestamp: '2025-03-01T00:00:00Z' })] };
    expect(problems(s)).toEqual([
      'error IPAddressPool ballast-system/small: in conflict: IPAddressPool ballast-system/small spec.addresses[0]: 203.0.113.1 overlaps older pool "default"; this pool allocates nothing until the overlap is removed',
      'warning IPAddressPool ballast-system/small: exhausted: every IPv4 address is in use',
    ]);
  });

  it('reports a pool that does not parse, field by field', () => {
    const s = { ...healthy(), pools: [...healthy().pools, pool('bad', ['203.0.113.9-203.0.113.1'])] };
    expect(problems(s)).toEqual(['error IPAddressPool ballast-system/bad: spec.addresses[0]: "203.0.113.9-203.0.113.1" is reversed: start 203.0.113.9 is after end 203.0.113.1']);
  });

  it('reports a terminating pool that Services still use, naming them', () => {
    const s = { ...healthy(), pools: [pool('default', ['203.0.113.0/24', '2001:db8:100::/64'], { deletionTimestamp: '2025-05-01T00:00:00Z', status: readyStatus(2, 254) })] };
    expect(problems(s)).toEqual([
      'warning IPAddressPool ballast-system/default: is being deleted but 2 Services still use its addresses (shop/api, shop/web); it stays until they release them',
    ]);
  });

  it('reports IPs outside every pool and stale ServiceL2Statuses', () => {
    const s = healthy();
    s.services.push(service('ops', 'manual', ['198.51.100.7']));
    s.serviceL2Statuses.push(l2status('l2-m', 'ops', 'manual', 'node-1'), l2status('l2-z', 'ops', 'gone', 'node-2'));
    expect(problems(s)).toEqual([
      'warning Service ops/manual: IP 198.51.100.7 is in no IPAddressPool of ballast-system (set by hand, or its pool was removed)',
      'warning ServiceL2Status ballast-system/l2-z: node node-2 claims Service ops/gone, which has no load-balancer IP (stale)',
    ]);
  });

  it('reports L2Advertisements that do not parse or name unknown pools', () => {
    const s = { ...healthy(), l2Advertisements: [ad('all'), ad('typo', { ipAddressPools: ['defualt'] }), ad('bad', { interfaces: ['eth 0'] })] };
    expect(problems(s)).toEqual([
      'error L2Advertisement ballast-system/bad: spec.interfaces[0]: "eth 0" contains "/", ":" or whitespace, which interface names cannot',
      'warning L2Advertisement ballast-system/typo: spec.ipAddressPools[0]: no IPAddressPool "defualt" in namespace ballast-system; nothing is announced for it until one is created',
    ]);
  });

  it('reports nodes without a ready speaker, but not nodes excluded from load balancers', () => {
    const s = { ...healthy(), nodes: [node('node-1'), node('node-2'), node('node-3'), node('cp', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' })], pods: [speakerPod('node-1'), speakerPod('node-2', false)] };
    expect(problems(s)).toEqual(['warning speakers: 2 nodes have no ready speaker and cannot announce: node-2, node-3']);
    expect(analyze(s).speakers).toEqual({ ready: 1, nodes: 3 });
    expect(problems({ ...s, pods: [] })).toEqual(['error speakers: no speaker pods in namespace ballast-system: nothing is announced (is DaemonSet ballast-speaker installed?)']);
  });

  it('recognises speaker pods by their DaemonSet or their labels', () => {
    expect(isSpeakerPod({ metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ballast-speaker', uid: 'u' }] } })).toBe(true);
    expect(isSpeakerPod(speakerPod('n'))).toBe(true);
    expect(isSpeakerPod({ metadata: { labels: { 'app.kubernetes.io/component': 'speaker' } } })).toBe(false);
    expect(isSpeakerPod({ metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'ballast-speaker', uid: 'u' }] } })).toBe(false);
  });

  it('considers only Services of the selected load-balancer class', () => {
    const s = healthy();
    s.services.push(service('shop', 'other-lb', [], { loadBalancerClass: 'example.com/other' }), service('shop', 'plain', [], { type: 'ClusterIP' }));
    expect(analyze(s).services.map((x) => x.name)).toEqual(['api', 'web']);
    const classed = analyze({ ...s, loadBalancerClass: 'example.com/other' });
    expect(classed.services.map((x) => x.name)).toEqual(['other-lb']);
  });

  it('mentions every list it could not read', () => {
    expect(problems({ ...healthy(), unreadable: ['nodes (403 nodes is forbidden)'] })).toEqual(['warning cluster: could not read nodes (403 nodes is forbidden); the report below may be incomplete']);
  });
});

describe('poolSize', () => {
  it('counts every address, less IPv4 .0 and .255 with avoidBuggyIPs', () => {
    expect(poolSize(testPool('a', ['203.0.113.0/24', '198.51.100.250-198.51.100.255']), 4)).toBe(262n);
    expect(poolSize(testPool('a', ['203.0.113.0/24', '198.51.100.250-198.51.100.255'], { avoidBuggyIPs: true }), 4)).toBe(259n);
    expect(poolSize(testPool('a', ['2001:db8::/64'], { avoidBuggyIPs: true }), 6)).toBe(1n << 64n);
  });

  it('agrees with counting address by address (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 700 }), fc.boolean(), (start, length, avoid) => {
        const base = (198 << 24) + (51 << 16) + (100 << 8); // inside 198.51.100.0 and beyond; only the arithmetic matters
        const a = base + start;
        const b = a + length;
        const text = (v: number): string => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
        let expected = 0n;
        for (let v = a; v <= b; v++) if (!avoid || ((v & 255) !== 0 && (v & 255) !== 255)) expected++;
        expect(poolSize(testPool('p', [`${text(a)}-${text(b)}`], { avoidBuggyIPs: avoid }), 4)).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });
});
