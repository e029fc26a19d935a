import { describe, expect, it } from 'vitest';
import { elect } from '../election/index.ts';
import { ad, input, node, service } from '../election/test-fixtures.ts';
import type { AllowedInterfaces, InterfaceDescriptor } from '../l2/index.ts';
import { iface as descriptor } from '../l2/fixtures.test-util.ts';
import { interfaceProblem, namedInterfaces, ownershipTable, planInterfaces, sameOwnership } from './announce.ts';

const iface = (name: string, index: number, extra: Partial<InterfaceDescriptor> = {}): InterfaceDescriptor => descriptor(name, { index, mac: `02:00:00:00:00:0${index}`, ...extra });

const lo = iface('lo', 1, { loopback: true, mac: '00:00:00:00:00:00' });

describe('ownershipTable', () => {
  it('holds exactly what the election gives this node, with the allowed interfaces', () => {
    const e = elect(
      input({
        services: [service('shop/web', ['198.51.100.7', '2001:db8::7']), service('shop/api', ['198.51.100.9'])],
        nodes: [node('node-a')],
        advertisements: [ad('eth1-only', { interfaces: ['eth1'] })],
      }),
    );
    const table = ownershipTable(e, 'node-a');
    expect([...table.keys()].sort()).toEqual(['198.51.100.7', '198.51.100.9', '2001:db8::7']);
    expect(table.get('198.51.100.7')).toEqual(new Set(['eth1']));
    expect(ownershipTable(e, 'node-b').size).toBe(0);
  });
});

describe('sameOwnership', () => {
  it('compares IPs and interface sets, not identity', () => {
    const a = new Map<string, AllowedInterfaces>([['198.51.100.7', 'all'], ['198.51.100.8', new Set(['eth0', 'eth1'])]]);
    const table = (entries: Array<[string, AllowedInterfaces]>) => new Map<string, AllowedInterfaces>(entries);
    expect(sameOwnership(a, table([['198.51.100.8', new Set(['eth1', 'eth0'])], ['198.51.100.7', 'all']]))).toBe(true);
    expect(sameOwnership(a, table([['198.51.100.7', 'all'], ['198.51.100.8', new Set(['eth0'])]]))).toBe(false);
    expect(sameOwnership(a, table([['198.51.100.7', new Set(['eth0'])], ['198.51.100.8', new Set(['eth0', 'eth1'])]]))).toBe(false);
    expect(sameOwnership(a, table([['198.51.100.7', 'all']]))).toBe(false);
  });
});

describe('planInterfaces', () => {
  it('takes the filter\'s choice plus interfaces an advertisement names despite a name pattern, and keeps carrier-less ones configured but not up', () => {
    const all = [lo, iface('eth0', 2, { carrier: true }), iface('eth1', 3, { carrier: false }), iface('veth9', 4), iface('cni0', 5)];
    const plan = planInterfaces(all, [/^cni/], ['veth9']);
    expect(plan.configured.map((i) => i.name)).toEqual(['eth0', 'eth1', 'veth9']);
    expect(plan.up.map((i) => i.name)).toEqual(['eth0', 'veth9']);
    expect(planInterfaces(all, [/^eth/], []).configured.map((i) => i.name)).toEqual([]);
  });
});

describe('namedInterfaces', () => {
  it('lists the interfaces of advertisements selecting this node', () => {
    const ads = [ad('all'), ad('a', { interfaces: ['eth1'], nodeSelectors: [{ matchLabels: { rack: 'a' } }] }), ad('b', { interfaces: ['eth2', 'eth1'] })];
    expect(namedInterfaces(ads, { rack: 'a' })).toEqual(['eth1', 'eth2']);
    expect(namedInterfaces(ads, { rack: 'b' })).toEqual(['eth1', 'eth2']);
    expect(namedInterfaces([ads[1]!], { rack: 'b' })).toEqual([]);
    expect(namedInterfaces([ads[1]!], undefined)).toEqual(['eth1']);
  });
});

describe('interfaceProblem', () => {
  const all = [lo, iface('eth0', 2, { carrier: true }), iface('eth1', 3, { carrier: false }), iface('eth2', 4, { up: false })];
  const up = [all[1]!];

  it('is nothing when every wanted interface is up', () => {
    expect(interfaceProblem('node-a', new Set(['eth0']), all, up)).toBeUndefined();
    expect(interfaceProblem('node-a', 'all', all, up)).toBeUndefined();
  });

  it('names each missing or unusable interface with the reason, and where it still answers', () => {
    expect(interfaceProblem('node-a', new Set(['eth0', 'eth1', 'eth2', 'eth9']), all, up)).toBe(
      'node node-a cannot announce on eth1 (no carrier), eth2 (administratively down), eth9 (not present); answering on eth0',
    );
    expect(interfaceProblem('node-a', new Set(['eth9']), all, up)).toBe('node node-a cannot announce on eth9 (not present); the IPs are not answered anywhere');
    expect(interfaceProblem('node-a', 'all', all, [])).toBe('node node-a has no interface to announce on (none up and eligible)');
  });
});
