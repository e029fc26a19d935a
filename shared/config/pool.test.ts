import { describe, expect, it } from 'vitest';
import type { IPAddressPool } from '../api/index.ts';
import { formatConfigError, parsePool, type ConfigError } from './index.ts';

const raw = (spec: Partial<IPAddressPool['spec']> & Record<string, unknown>, metadata: Partial<IPAddressPool['metadata']> = {}): IPAddressPool => ({
  metadata: { name: 'pool-a', namespace: 'ballast-system', creationTimestamp: '2026-01-02T03:04:05Z', ...metadata },
  spec: { addresses: [], ...spec } as IPAddressPool['spec'],
});

const errorsOf = (pool: IPAddressPool): ConfigError[] => {
  const r = parsePool(pool);
  if (r.ok) throw new Error('expected errors');
  return r.error;
};

describe('parsePool', () => {
  it('refuses pools that can never be valid, naming the reserved range and why, and keeps the documentation ranges', () => {
    const refused = ['0.0.0.0/0', '::/0', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', 'ff00::/8', 'fe80::/64', '255.255.255.255/32', '0.0.0.0/8', '198.51.100.0-224.0.0.1', '::fffe:0:0/95'];
    for (const address of refused) {
      const errors = errorsOf(raw({ addresses: [address] }));
      expect(errors.length, address).toBeGreaterThan(0);
      for (const e of errors) expect(e).toMatchObject({ field: 'spec.addresses[0]', message: expect.stringMatching(/^"[^"]+" overlaps [0-9a-f:.]+\/\d+, .+\(RFC \d+\)$/) });
    }
    expect(formatConfigError(errorsOf(raw({ addresses: ['fe80::/64'] }))[0]!)).toBe(
      'IPAddressPool ballast-system/pool-a spec.addresses[0]: "fe80::/64" overlaps fe80::/10, link-local: valid on one link only, every interface has its own (RFC 4291)',
    );
    expect(errorsOf(raw({ addresses: ['0.0.0.0/0'] })).map((e) => e.message.split(',')[0])).toEqual([
      '"0.0.0.0/0" overlaps 0.0.0.0/8',
      '"0.0.0.0/0" overlaps 127.0.0.0/8',
      '"0.0.0.0/0" overlaps 169.254.0.0/16',
      '"0.0.0.0/0" overlaps 224.0.0.0/4',
      '"0.0.0.0/0" overlaps 240.0.0.0/4',
      '"0.0.0.0/0" overlaps 255.255.255.255/32',
    ]);
    // The neighbours of every reserved range are fine.
    const r = parsePool(raw({ addresses: ['1.0.0.0-126.255.255.255', '128.0.0.0-169.253.255.255', '169.255.0.0-223.255.255.255', '::2-::fffe:ffff:ffff', 'fec0::/10', '2001:db8::/32'] }));
    expect(r.ok).toBe(true);
  });

  it('parses CIDRs, host routes and ranges of both families into one pool, with defaults', () => {
    const r = parsePool(raw({ addresses: ['198.51.100.0/24', ' 203.0.113.10 - 203.0.113.20 ', '2001:db8::/64', '203.0.113.99/32', '2001:db8:1::1/128'] }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const p = r.value;
    expect(p.ranges.map((x) => [x.family, x.text, x.field])).toEqual([
      [4, '198.51.100.0/24', 'spec.addresses[0]'],
      [4, '203.0.113.10-203.0.113.20', 'spec.addresses[1]'],
      [6, '2001:db8::/64', 'spec.addresses[2]'],
      [4, '203.0.113.99/32', 'spec.addresses[3]'],
      [6, '2001:db8:1::1/128', 'spec.addresses[4]'],
    ]);
    expect(p.ranges[0]).toMatchObject({ first: 0xc6336400n, last: 0xc63364ffn });
    expect(p.ranges[2]!.last - p.ranges[2]!.first + 1n).toBe(1n << 64n);
    expect(p.ranges[3]!.first).toBe(p.ranges[3]!.last);
    expect(p).toMatchObject({ name: 'pool-a', namespace: 'ballast-system', autoAssign: true, avoidBuggyIPs: false, serviceAllocation: undefined, terminating: false });
    expect(p.createdAt).toBe(Date.parse('2026-01-02T03:04:05Z'));
  });

  it('reads autoAssign, avoidBuggyIPs, deletionTimestamp and a Date creationTimestamp', () => {
    const r = parsePool(
      raw({ addresses: ['198.51.100.0/24'], autoAssign: false, avoidBuggyIPs: true }, { creationTimestamp: new Date(1000), deletionTimestamp: '2026-01-03T00:00:00Z' }),
    );
    expect(r.ok && r.value).toMatchObject({ autoAssign: false, avoidBuggyIPs: true, createdAt: 1000, terminating: true });
  });

  it('compiles serviceAllocation; priority 0 counts as unset like MetalLB', () => {
    const r = parsePool(
      raw({
        addresses: ['198.51.100.0/24'],
        serviceAllocation: { priority: 0, namespaces: ['web'], namespaceSelectors: [{ matchLabels: { team: 'a' } }], serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['edge'] }] }] },
      }),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const sa = r.value.serviceAllocation!;
    expect(sa.priority).toBeUndefined();
    expect(sa.namespaces).toEqual(['web']);
    expect(sa.namespaceSelectors[0]!.matches({ team: 'a' })).toBe(true);
    expect(sa.serviceSelectors[0]!.matches({ tier: 'core' })).toBe(false);
    const p5 = parsePool(raw({ addresses: ['198.51.100.0/24'], serviceAllocation: { priority: 5 } }));
    expect(p5.ok && p5.value.serviceAllocation?.priority).toBe(5);
  });

  it.each([
    ['198.51.100.300/24', 'spec.addresses[0]', 'not a valid IPv4 address'],
    ['2001:db8::g/64', 'spec.addresses[0]', 'not a valid IPv6 address'],
    ['198.51.100.7/24', 'spec.addresses[0]', 'has host bits set; did you mean 198.51.100.0/24?'],
    ['2001:db8::1/64', 'spec.addresses[0]', 'did you mean 2001:db8::/64?'],
    ['198.51.100.20-198.51.100.10', 'spec.addresses[0]', 'is reversed: start 198.51.100.20 is after end 198.51.100.10'],
    ['198.51.100.1-2001:db8::1', 'spec.addresses[0]', 'mixes IPv4 and IPv6'],
    ['198.51.100.0/33', 'spec.addresses[0]', 'prefix /33 is out of bounds for IPv4 (0-32)'],
    ['2001:db8::/129', 'spec.addresses[0]', 'prefix /129 is out of bounds for IPv6 (0-128)'],
    ['198.51.100.0/x', 'spec.addresses[0]', 'prefix /x is out of bounds'],
    ['198.51.100.0/24/8', 'spec.addresses[0]', 'more than one "/"'],
    ['198.51.100.1-198.51.100.2-198.51.100.3', 'spec.addresses[0]', 'exactly one "-"'],
    ['198.51.100.7', 'spec.addresses[0]', 'neither a CIDR nor a range; write 198.51.100.7/32'],
    ['', 'spec.addresses[0]', 'is empty'],
  ])('rejects %j at %s: %s', (entry, field, message) => {
    const errors = errorsOf(raw({ addresses: [entry] }));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ kind: 'IPAddressPool', namespace: 'ballast-system', name: 'pool-a', field });
    expect(errors[0]!.message).toContain(message);
  });

  it('names both entries of an overlap inside one pool, on the later entry', () => {
    const errors = errorsOf(raw({ addresses: ['198.51.100.0/24', '203.0.113.0/24', '198.51.100.128/25', '198.51.100.250-198.51.100.251'] }));
    expect(errors.map((e) => [e.field, e.message])).toEqual([
      ['spec.addresses[2]', '198.51.100.128/25 overlaps spec.addresses[0] (198.51.100.0/24) of the same pool'],
      ['spec.addresses[3]', '198.51.100.250-198.51.100.251 overlaps spec.addresses[0] (198.51.100.0/24) of the same pool'],
    ]);
  });

  it('reports an overlap whichever entry is listed first, and not across families', () => {
    const errors = errorsOf(raw({ addresses: ['2001:db8::5-2001:db8::6', '198.51.100.0/30', '2001:db8::/120'] }));
    expect(errors).toEqual([expect.objectContaining({ field: 'spec.addresses[2]', message: expect.stringContaining('overlaps spec.addresses[0] (2001:db8::5-2001:db8::6)') })]);
  });

  it('accepts adjacent ranges', () => {
    expect(parsePool(raw({ addresses: ['198.51.100.0/25', '198.51.100.128/25'] })).ok).toBe(true);
  });

  it.each([
    [{ addresses: [] }, 'spec.addresses', 'lists no addresses'],
    [{ addresses: undefined }, 'spec.addresses', 'lists no addresses'],
    [{ addresses: [42] }, 'spec.addresses[0]', 'must be a string'],
    [{ addresses: ['198.51.100.0/24'], autoAssign: 'yes' }, 'spec.autoAssign', 'must be true or false'],
    [{ addresses: ['198.51.100.0/24'], avoidBuggyIPs: 1 }, 'spec.avoidBuggyIPs', 'must be true or false'],
    [{ addresses: ['198.51.100.0/24'], serviceAllocation: { priority: 1.5 } }, 'spec.serviceAllocation.priority', 'must be an integer'],
    [{ addresses: ['198.51.100.0/24'], serviceAllocation: { namespaces: ['ok', ''] } }, 'spec.serviceAllocation.namespaces[1]', 'must be a namespace name'],
    [
      { addresses: ['198.51.100.0/24'], serviceAllocation: { serviceSelectors: [{}, { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }] } },
      'spec.serviceAllocation.serviceSelectors[1]',
      'needs at least one value',
    ],
    [
      { addresses: ['198.51.100.0/24'], serviceAllocation: { namespaceSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Near' }] }] } },
      'spec.serviceAllocation.namespaceSelectors[0]',
      'is not one of In, NotIn',
    ],
  ])('rejects spec %j at %s', (spec, field, message) => {
    const errors = errorsOf(raw(spec as Partial<IPAddressPool['spec']>));
    expect(errors).toEqual([expect.objectContaining({ field, message: expect.stringContaining(message) })]);
  });

  it('rejects a missing name and an unreadable creationTimestamp; a missing one counts as newest', () => {
    expect(errorsOf(raw({ addresses: ['198.51.100.0/24'] }, { name: '' }))[0]!.field).toBe('metadata.name');
    expect(errorsOf(raw({ addresses: ['198.51.100.0/24'] }, { creationTimestamp: 'yesterday' }))[0]!.field).toBe('metadata.creationTimestamp');
    const r = parsePool(raw({ addresses: ['198.51.100.0/24'] }, { creationTimestamp: undefined }));
    expect(r.ok && r.value.createdAt).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('collects every error of a pool, each formatting to one line', () => {
    const errors = errorsOf(raw({ addresses: ['198.51.100.7/24', '2001:db8::/64', 'nonsense'], autoAssign: 'no' as unknown as boolean }));
    expect(errors.map((e) => e.field)).toEqual(['spec.addresses[0]', 'spec.addresses[2]', 'spec.autoAssign']);
    const line = formatConfigError(errors[0]!);
    expect(line).toBe('IPAddressPool ballast-system/pool-a spec.addresses[0]: "198.51.100.7/24" has host bits set; did you mean 198.51.100.0/24?');
    expect(errors.every((e) => !formatConfigError(e).includes('\n'))).toBe(true);
  });
});

describe('parsePool on shapes the CRD schema forbids', () => {
  it('reports a non-list where a list belongs instead of throwing', () => {
    const r = parsePool({
      metadata: { name: 'odd', namespace: 'ballast-system', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { addresses: ['203.0.113.0/30'], serviceAllocation: { namespaces: '' as never, serviceSelectors: 'x' as never } },
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.map((e) => e.field)).toEqual(['spec.serviceAllocation.namespaces', 'spec.serviceAllocation.serviceSelectors']);
  });
});
