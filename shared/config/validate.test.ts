import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { IPAddressPool, L2Advertisement } from '../api/index.ts';
import { validateL2Advertisement, validatePool } from './validate.ts';

const NS = 'ballast-system';

const pool = (name: string, addresses: string[], extra: { labels?: Record<string, string>; namespace?: string; terminating?: boolean; avoidBuggyIPs?: boolean } = {}): IPAddressPool => ({
  apiVersion: 'ballast.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: {
    name,
    namespace: extra.namespace ?? NS,
    creationTimestamp: '2025-01-01T00:00:00Z',
    ...(extra.labels ? { labels: extra.labels } : {}),
    ...(extra.terminating ? { deletionTimestamp: '2025-02-01T00:00:00Z' } : {}),
  },
  spec: { addresses, ...(extra.avoidBuggyIPs !== undefined ? { avoidBuggyIPs: extra.avoidBuggyIPs } : {}) },
});

const ad = (name: string, spec: L2Advertisement['spec'], namespace = NS): L2Advertisement => ({
  apiVersion: 'ballast.io/v1beta1',
  kind: 'L2Advertisement',
  metadata: { name, namespace },
  spec,
});

describe('validatePool', () => {
  it('allows a pool that overlaps nothing, without warnings', () => {
    const v = validatePool(pool('web', ['203.0.113.0/25']), [pool('db', ['203.0.113.128/25'])]);
    expect(v).toEqual({ allowed: true, reasons: [], warnings: [] });
  });

  it('refuses an overlap, naming the other pool, the entry and the overlapping addresses', () => {
    const v = validatePool(pool('web', ['198.51.100.0/24', '203.0.113.0/24']), [pool('db', ['203.0.113.64-203.0.113.200'])]);
    expect(v.allowed).toBe(false);
    expect(v.reasons).toEqual(['spec.addresses[1] (203.0.113.0/24): 203.0.113.64-203.0.113.200 overlaps IPAddressPool "db"; pools must not share addresses']);
  });

  it('names every pool it overlaps', () => {
    const v = validatePool(pool('wide', ['2001:db8:100::/64']), [pool('a', ['2001:db8:100::10/127']), pool('b', ['2001:db8:100::ff/128']), pool('c', ['2001:db8:200::/64'])]);
    expect(v.allowed).toBe(false);
    expect(v.reasons).toHaveLength(2);
    expect(v.reasons[0]).toContain('2001:db8:100::10/127 overlaps IPAddressPool "a"');
    expect(v.reasons[1]).toContain('2001:db8:100::ff overlaps IPAddressPool "b"');
  });

  it('refuses an overlap whichever pool is older: an UPDATE of an old pool may not grow into a newer one', () => {
    const old = { ...pool('old', ['203.0.113.0/24']), metadata: { name: 'old', namespace: NS, creationTimestamp: '2020-01-01T00:00:00Z' } };
    const v = validatePool(old, [pool('new', ['203.0.113.200-203.0.113.210'])]);
    expect(v.allowed).toBe(false);
    expect(v.reasons[0]).toContain('203.0.113.200-203.0.113.210 overlaps IPAddressPool "new"');
  });

  it('does not compare a pool with its own previous version (UPDATE)', () => {
    expect(validatePool(pool('web', ['203.0.113.0/24']), [pool('web', ['203.0.113.0/25'])]).allowed).toBe(true);
  });

  it('ignores pools in other namespaces: Ballast reads pools only from its own', () => {
    expect(validatePool(pool('web', ['203.0.113.0/24']), [pool('web2', ['203.0.113.0/24'], { namespace: 'elsewhere' })]).allowed).toBe(true);
  });

  it('ignores other pools that do not parse: they allocate nothing', () => {
    expect(validatePool(pool('web', ['203.0.113.0/24']), [pool('broken', ['203.0.113.9-203.0.113.1'])]).allowed).toBe(true);
  });

  it('allows an overlap with a terminating pool, with a warning (replacing a pool)', () => {
    const v = validatePool(pool('web2', ['203.0.113.0/24']), [pool('web', ['203.0.113.0/24'], { terminating: true })]);
    expect(v.allowed).toBe(true);
    expect(v.warnings).toEqual(['spec.addresses[0] (203.0.113.0/24): 203.0.113.0/24 overlaps IPAddressPool "web", which is being deleted; this pool allocates nothing until it is gone']);
  });

  it('refuses what the parser refuses, with the field and the parser message', () => {
    const v = validatePool(pool('web', ['203.0.113.20-203.0.113.10', '203.0.113.0/24', '203.0.113.128/25']), []);
    expect(v.allowed).toBe(false);
    expect(v.reasons).toEqual([
      'IPAddressPool ballast-system/web spec.addresses[0]: "203.0.113.20-203.0.113.10" is reversed: start 203.0.113.20 is after end 203.0.113.10',
      'IPAddressPool ballast-system/web spec.addresses[2]: 203.0.113.128/25 overlaps spec.addresses[1] (203.0.113.0/24) of the same pool',
    ]);
  });

  it('refuses a malformed object instead of throwing', () => {
    const v = validatePool({ metadata: { name: 'x', namespace: NS }, spec: { addresses: 'nope' } } as unknown as IPAddressPool, []);
    expect(v.allowed).toBe(false);
    expect(v.reasons[0]).toContain('spec.addresses');
  });

  it('warns that avoidBuggyIPs does nothing in an IPv6-only pool', () => {
    expect(validatePool(pool('v6', ['2001:db8:100::/120'], { avoidBuggyIPs: true }), []).warnings).toEqual(['spec.avoidBuggyIPs has no effect: the pool has no IPv4 addresses']);
    expect(validatePool(pool('v4', ['203.0.113.0/24'], { avoidBuggyIPs: true }), []).warnings).toEqual([]);
  });

  it('warns when advertisements are known and none announces the pool', () => {
    const web = pool('web', ['203.0.113.0/24'], { labels: { tier: 'front' } });
    const warning = 'no L2Advertisement in namespace ballast-system selects this pool: Services get its addresses, but no node announces them';
    expect(validatePool(web, [], [ad('other', { ipAddressPools: ['db'] })]).warnings).toEqual([warning]);
    expect(validatePool(web, [], []).warnings).toEqual([warning]);
    expect(validatePool(web, [], [ad('all', {})]).warnings).toEqual([]);
    expect(validatePool(web, [], [ad('byname', { ipAddressPools: ['web'] })]).warnings).toEqual([]);
    expect(validatePool(web, [], [ad('bylabel', { ipAddressPoolSelectors: [{ matchLabels: { tier: 'front' } }] })]).warnings).toEqual([]);
    expect(validatePool(web, [], [ad('elsewhere', {}, 'other-ns')]).warnings).toEqual([warning]);
    // Without the list (the caller could not read advertisements) there is nothing to say.
    expect(validatePool(web, []).warnings).toEqual([]);
  });

  it('refuses exactly when some other pool shares an address (property, small IPv4 space)', () => {
    const span = fc.tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 63 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
    const text = ([a, b]: readonly [number, number]): string => `203.0.113.${a}-203.0.113.${b}`;
    fc.assert(
      fc.property(span, fc.array(span, { maxLength: 5 }), (candidate, others) => {
        const v = validatePool(pool('cand', [text(candidate)]), others.map((s, i) => pool(`p${i}`, [text(s)])));
        const overlapping = others.filter(([a, b]) => a <= candidate[1] && candidate[0] <= b).length;
        expect(v.allowed).toBe(overlapping === 0);
        expect(v.reasons).toHaveLength(overlapping);
      }),
    );
  });
});

describe('validateL2Advertisement', () => {
  const pools = [pool('web', ['203.0.113.0/25'], { labels: { tier: 'front' } }), pool('db', ['203.0.113.128/25'])];

  it('allows an advertisement of known pools without warnings', () => {
    expect(validateL2Advertisement(ad('a', { ipAddressPools: ['web', 'db'], interfaces: ['eth0'] }), pools)).toEqual({ allowed: true, reasons: [], warnings: [] });
    expect(validateL2Advertisement(ad('all', {}), [])).toEqual({ allowed: true, reasons: [], warnings: [] });
  });

  it('allows unknown pool names with a warning naming each (decided: warn, not refuse)', () => {
    const v = validateL2Advertisement(ad('a', { ipAddressPools: ['web', 'nope'] }), pools);
    expect(v.allowed).toBe(true);
    expect(v.warnings).toEqual(['spec.ipAddressPools[1]: no IPAddressPool "nope" in namespace ballast-system; nothing is announced for it until one is created']);
  });

  it('does not count a pool of another namespace as known', () => {
    const v = validateL2Advertisement(ad('a', { ipAddressPools: ['far'] }), [pool('far', ['203.0.113.0/24'], { namespace: 'elsewhere' })]);
    expect(v.warnings).toHaveLength(1);
  });

  it('warns about a name listed twice and a pool selector that matches nothing', () => {
    const v = validateL2Advertisement(ad('a', { ipAddressPools: ['web', 'web'], ipAddressPoolSelectors: [{ matchLabels: { tier: 'back' } }] }), pools);
    expect(v.allowed).toBe(true);
    expect(v.warnings).toEqual(['spec.ipAddressPools[1]: "web" is listed twice', 'spec.ipAddressPoolSelectors match no IPAddressPool in namespace ballast-system (yet)']);
    expect(validateL2Advertisement(ad('b', { ipAddressPoolSelectors: [{ matchLabels: { tier: 'front' } }] }), pools).warnings).toEqual([]);
  });

  it('refuses what the parser refuses', () => {
    const v = validateL2Advertisement(ad('a', { interfaces: ['eth0', 'a-very-long-interface-name'], nodeSelectors: [{ matchExpressions: [{ key: 'k', operator: 'In' }] }] }), pools);
    expect(v.allowed).toBe(false);
    expect(v.reasons).toEqual([
      'L2Advertisement ballast-system/a spec.nodeSelectors[0]: matchExpressions[0] (k In) needs at least one value',
      `L2Advertisement ballast-system/a spec.interfaces[1]: "a-very-long-interface-name" is longer than the kernel's 15-byte limit (IFNAMSIZ)`,
    ]);
  });
});
