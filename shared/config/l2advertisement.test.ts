import { describe, expect, it } from 'vitest';
import type { L2Advertisement } from '../api/index.ts';
import { formatConfigError } from './config-error.ts';
import { parseL2Advertisement } from './l2advertisement.ts';

const ad = (spec: L2Advertisement['spec'], metadata: L2Advertisement['metadata'] = { namespace: 'ballast-system', name: 'front' }): L2Advertisement => ({
  metadata,
  spec,
});

const parsed = (raw: L2Advertisement) => {
  const r = parseL2Advertisement(raw);
  if (!r.ok) throw new Error(r.error.map(formatConfigError).join('; '));
  return r.value;
};

describe('parseL2Advertisement', () => {
  it('gives an empty spec the MetalLB defaults: all pools, nodes, Services and interfaces', () => {
    const a = parsed(ad({}));
    expect(a).toMatchObject({ namespace: 'ballast-system', name: 'front', interfaces: 'all' });
    expect(a.poolNames.size).toBe(0);
    expect([a.poolSelectors, a.nodeSelectors, a.serviceSelectors].map((l) => l.length)).toEqual([0, 0, 0]);
  });

  it('compiles every selector list and keeps pool and interface names as sets', () => {
    const a = parsed(
      ad({
        ipAddressPools: ['public', 'public', 'lab'],
        ipAddressPoolSelectors: [{ matchLabels: { tier: 'edge' } }],
        nodeSelectors: [{ matchLabels: { rack: 'a' } }, { matchExpressions: [{ key: 'edge', operator: 'Exists' }] }],
        serviceSelectors: [{ matchLabels: { expose: 'lan' } }],
        interfaces: ['eth0', 'bond0.100', 'eth0'],
      }),
    );
    expect([...a.poolNames]).toEqual(['public', 'lab']);
    expect(a.poolSelectors[0]?.matches({ tier: 'edge' })).toBe(true);
    expect(a.nodeSelectors.map((s) => s.matches({ edge: '' }))).toEqual([false, true]);
    expect(a.serviceSelectors[0]?.matches({ expose: 'wan' })).toBe(false);
    expect(a.interfaces).toEqual(new Set(['eth0', 'bond0.100']));
  });

  it('reports every bad field at once, each with object and path', () => {
    const r = parseL2Advertisement(
      ad({
        ipAddressPools: [''],
        nodeSelectors: [{}, { matchExpressions: [{ key: 'rack', operator: 'In', values: [] }] }],
        serviceSelectors: [{ matchExpressions: [{ key: 'x', operator: 'Near' as 'In' }] }],
        interfaces: ['eth 0', 'averyveryverylongname', '..', 'eth0:1'],
      }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.map((e) => e.field)).toEqual([
      'spec.ipAddressPools[0]',
      'spec.nodeSelectors[1]',
      'spec.serviceSelectors[0]',
      'spec.interfaces[0]',
      'spec.interfaces[1]',
      'spec.interfaces[2]',
      'spec.interfaces[3]',
    ]);
    expect(r.error.every((e) => e.kind === 'L2Advertisement' && e.namespace === 'ballast-system' && e.name === 'front')).toBe(true);
    expect(formatConfigError(r.error[1]!)).toBe('L2Advertisement ballast-system/front spec.nodeSelectors[1]: matchExpressions[0] (rack In) needs at least one value');
    expect(r.error[4]?.message).toContain('15-byte limit');
  });

  it('rejects a list field that is not a list and a missing name', () => {
    const r = parseL2Advertisement(ad({ interfaces: 'eth0' as unknown as string[] }, { namespace: 'ballast-system' }));
    expect(!r.ok && r.error.map((e) => e.field)).toEqual(['metadata.name', 'spec.interfaces']);
  });

  it('accepts a 15-byte interface name, the kernel maximum', () => {
    expect(parsed(ad({ interfaces: ['enp0s31f6abcdef'] })).interfaces).toEqual(new Set(['enp0s31f6abcdef']));
  });
});
