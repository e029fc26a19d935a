import { describe, expect, it } from 'vitest';
import { resolvePoolConflicts, type NodeAddress, type Pool } from '../../shared/config/index.ts';
import { testPool, type TestPoolOptions } from '../../shared/config/test-pools.ts';
import type { Result } from '../../shared/result.ts';
import { Allocator, formatAllocationFailure, formatInvalidation, type AllocationFailure, type Assignment } from './index.ts';
import { ip, keyOf, testRequest, type TestRequestOptions } from './test-requests.ts';

function allocatorWith(...pools: Pool[]): Allocator {
  const a = new Allocator();
  const { usable, conflicts } = resolvePoolConflicts(pools);
  expect(a.setPools(usable, conflicts)).toEqual([]);
  return a;
}

const pool = (name: string, addresses: string[], opts?: TestPoolOptions): Pool => testPool(name, addresses, opts);

/** Assigns and returns the IP texts, failing the test on a failure. */
function assignOk(a: Allocator, name: string, o: TestRequestOptions = {}): string[] {
  const r = a.assign(keyOf(testRequest(name, o)), testRequest(name, o));
  if (!r.ok) throw new Error(`assign ${name}: ${formatAllocationFailure(r.error)}`);
  return r.value.ips.map((x) => x.text);
}

function failureOf(r: Result<Assignment, AllocationFailure>): AllocationFailure {
  if (r.ok) throw new Error(`expected a failure, got ${r.value.ips.map((x) => x.text).join(',')}`);
  expect(formatAllocationFailure(r.error)).not.toContain('\n');
  return r.error;
}

const assignFail = (a: Allocator, name: string, o: TestRequestOptions = {}): AllocationFailure => failureOf(a.assign(keyOf(testRequest(name, o)), testRequest(name, o)));

describe('Allocator: picking addresses', () => {
  it('hands out the lowest free address first and reuses a released one', () => {
    const a = allocatorWith(pool('p', ['198.51.100.10-198.51.100.12', '198.51.100.0/31']));
    expect(assignOk(a, 's1')).toEqual(['198.51.100.0']);
    expect(assignOk(a, 's2')).toEqual(['198.51.100.1']);
    expect(assignOk(a, 's3')).toEqual(['198.51.100.10']);
    expect(a.release('shop/s2')?.ips.map((x) => x.text)).toEqual(['198.51.100.1']);
    expect(assignOk(a, 's4')).toEqual(['198.51.100.1']);
    expect(assignOk(a, 's5')).toEqual(['198.51.100.11']);
  });

  it('is idempotent: assigning an assigned Service again keeps its IP', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/29']));
    assignOk(a, 's1');
    expect(assignOk(a, 's2')).toEqual(['198.51.100.1']);
    a.release('shop/s1');
    expect(assignOk(a, 's2')).toEqual(['198.51.100.1']);
    expect(a.assignmentOf('shop/s2')).toEqual({ pool: 'p', ips: [ip('198.51.100.1')] });
  });

  it('skips .0 and .255 with avoidBuggyIPs, and hands them out without it (MetalLB)', () => {
    const avoid = allocatorWith(pool('p', ['198.51.100.255-198.51.101.1'], { avoidBuggyIPs: true }));
    expect(assignOk(avoid, 's1')).toEqual(['198.51.101.1']);
    expect(assignFail(avoid, 's2')).toEqual({ kind: 'pool-exhausted', pools: [{ pool: 'p', families: [4] }] });
    const plain = allocatorWith(pool('p', ['198.51.100.255-198.51.101.1']));
    expect(assignOk(plain, 's1')).toEqual(['198.51.100.255']);
  });

  it('reports usage per family, a /64 counting 2^64 without costing memory', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/24', '2001:db8::/64']));
    assignOk(a, 's1');
    assignOk(a, 's6', { ipFamilies: [6] });
    assignOk(a, 'shared', { sharingKey: 'k', ports: [['TCP', 443]] });
    assignOk(a, 'shared2', { sharingKey: 'k', ports: [['TCP', 444]] });
    expect(a.usage('p')).toEqual({ ipv4: { assigned: 2n, available: 254n }, ipv6: { assigned: 1n, available: (1n << 64n) - 1n } });
    expect(a.usage('nope')).toBeUndefined();
    expect(a.usersOf('p')).toEqual(['shop/s1', 'shop/s6', 'shop/shared', 'shop/shared2']);
  });
});

describe('Allocator: which pool', () => {
  it('orders serviceAllocation pools by priority (unset last, ties by name), before plain autoAssign pools by name', () => {
    const a = allocatorWith(
      pool('a-plain', ['198.51.100.0/32']),
      pool('b-plain', ['198.51.100.1/32']),
      pool('c-unset', ['198.51.100.2/32'], { serviceAllocation: { namespaces: ['shop'] } }),
      pool('d-prio2', ['198.51.100.3/32'], { serviceAllocation: { priority: 2 } }),
      pool('e-prio1', ['198.51.100.4/32'], { serviceAllocation: { priority: 1, namespaces: ['shop'] } }),
      pool('f-prio1', ['198.51.100.5/32'], { serviceAllocation: { priority: 1 } }),
    );
    const order = ['s1', 's2', 's3', 's4', 's5', 's6'].map((s) => assignOk(a, s)[0]);
    expect(order).toEqual(['198.51.100.4', '198.51.100.5', '198.51.100.3', '198.51.100.2', '198.51.100.0', '198.51.100.1']);
  });

  it('skips autoAssign=false pools and non-selecting serviceAllocation pools, saying why', () => {
    const a = allocatorWith(
      pool('manual', ['198.51.100.0/32'], { autoAssign: false }),
      pool('other-ns', ['198.51.100.1/32'], { serviceAllocation: { namespaces: ['bank'] } }),
      pool('labelled', ['198.51.100.2/32'], { serviceAllocation: { serviceSelectors: [{ matchLabels: { tier: 'edge' } }] } }),
      pool('team', ['198.51.100.3/32'], { serviceAllocation: { namespaceSelectors: [{ matchLabels: { team: 'x' } }] } }),
    );
    expect(assignOk(a, 'edge', { labels: { tier: 'edge' } })).toEqual(['198.51.100.2']);
    expect(assignOk(a, 'teamx', { namespaceLabels: { team: 'x' } })).toEqual(['198.51.100.3']);
    const f = assignFail(a, 's');
    expect(f).toEqual({
      kind: 'no-pool',
      skipped: [
        { pool: 'labelled', reason: `its serviceAllocation.serviceSelectors do not match the Service's labels` },
        { pool: 'manual', reason: 'has autoAssign false (request it by name or IP)' },
        { pool: 'other-ns', reason: 'its serviceAllocation does not select namespace "shop"' },
        { pool: 'team', reason: 'its serviceAllocation does not select namespace "shop"' },
      ],
    });
    expect(formatAllocationFailure(f)).toMatch(/^no IPAddressPool can serve this Service: pool "labelled" its serviceAllocation/);
    expect(formatAllocationFailure(assignFail(new Allocator(), 's'))).toBe('no IPAddressPool exists');
  });

  it('falls through from exhausted serviceAllocation pools to plain pools; all exhausted names each pool', () => {
    const a = allocatorWith(pool('pinned', ['198.51.100.0/32'], { serviceAllocation: { priority: 1 } }), pool('plain', ['198.51.100.1/32']));
    expect(assignOk(a, 's1')).toEqual(['198.51.100.0']);
    expect(assignOk(a, 's2')).toEqual(['198.51.100.1']);
    const f = assignFail(a, 's3');
    expect(f).toEqual({ kind: 'pool-exhausted', pools: [{ pool: 'pinned', families: [4] }, { pool: 'plain', families: [4] }] });
    expect(formatAllocationFailure(f)).toBe('no free address: pool "pinned" has no free IPv4 address; pool "plain" has no free IPv4 address');
  });

  it('a named pool bypasses autoAssign=false but not serviceAllocation selectors', () => {
    const a = allocatorWith(
      pool('manual', ['198.51.100.0/31'], { autoAssign: false }),
      pool('bank-only', ['198.51.100.8/31'], { autoAssign: false, serviceAllocation: { namespaces: ['bank'] } }),
    );
    expect(assignOk(a, 's1', { pool: 'manual' })).toEqual(['198.51.100.0']);
    expect(assignOk(a, 'b1', { pool: 'bank-only', namespace: 'bank' })).toEqual(['198.51.100.8']);
    expect(assignFail(a, 's2', { pool: 'bank-only' })).toEqual({ kind: 'pool-not-selecting', pool: 'bank-only', why: 'its serviceAllocation does not select namespace "shop"' });
    expect(assignFail(a, 's3', { pool: 'nope' })).toEqual({ kind: 'unknown-pool', pool: 'nope' });
    expect(assignFail(a, 's4', { pool: 'manual', ipFamilies: [6] })).toEqual({ kind: 'family-unavailable', pool: 'manual', families: [6] });
    assignOk(a, 's5', { pool: 'manual' });
    expect(assignFail(a, 's6', { pool: 'manual' })).toEqual({ kind: 'pool-exhausted', pools: [{ pool: 'manual', families: [4] }] });
  });
});

describe('Allocator: requested IPs', () => {
  const setup = (): Allocator =>
    allocatorWith(
      pool('manual', ['198.51.100.0/28'], { autoAssign: false }),
      pool('dual', ['203.0.113.0/28', '2001:db8::/120']),
      pool('avoid', ['203.0.113.255/32'], { avoidBuggyIPs: true }),
      pool('bank', ['198.51.100.128/28'], { serviceAllocation: { namespaces: ['bank'] } }),
    );

  it('gives a requested IP from any usable pool, autoAssign=false included', () => {
    const a = setup();
    expect(assignOk(a, 's1', { ips: ['198.51.100.7'] })).toEqual(['198.51.100.7']);
    expect(a.assignmentOf('shop/s1')?.pool).toBe('manual');
    expect(assignOk(a, 's2', { ips: ['203.0.113.3', '2001:db8::9'], ipFamilyPolicy: 'RequireDualStack', ipFamilies: [4, 6] })).toEqual(['203.0.113.3', '2001:db8::9']);
  });

  it('fails with the specific reason', () => {
    const a = setup();
    assignOk(a, 'owner', { ips: ['198.51.100.7'] });
    expect(assignFail(a, 's', { ips: ['198.51.100.7'] })).toEqual({
      kind: 'ip-held',
      ip: '198.51.100.7',
      conflict: { rule: 'key', holder: 'shop/owner', holderKey: '', ownKey: '' },
    });
    expect(formatAllocationFailure(assignFail(a, 's', { ips: ['198.51.100.7'] }))).toBe(
      'IP 198.51.100.7 is taken: shop/owner holds it and sharing needs the same non-empty allow-shared-ip key on both (shop/owner: none, this Service: none)',
    );
    expect(assignFail(a, 's', { ips: ['198.51.100.200'] })).toEqual({ kind: 'ip-outside-pools', ip: '198.51.100.200' });
    expect(assignFail(a, 's', { ips: ['198.51.100.7'], pool: 'dual' })).toEqual({ kind: 'ip-not-in-pool', ip: '198.51.100.7', pool: 'dual' });
    expect(assignFail(a, 's', { ips: ['203.0.113.255'] })).toEqual({ kind: 'ip-avoided', ip: '203.0.113.255', pool: 'avoid' });
    expect(assignFail(a, 's', { ips: ['198.51.100.130'] })).toMatchObject({ kind: 'pool-not-selecting', pool: 'bank' });
    expect(assignFail(a, 's', { ips: ['198.51.100.1', '2001:db8::1'], ipFamilyPolicy: 'RequireDualStack', ipFamilies: [4, 6] })).toEqual({
      kind: 'ips-in-different-pools',
      ips: [
        { ip: '198.51.100.1', pool: 'manual' },
        { ip: '2001:db8::1', pool: 'dual' },
      ],
    });
  });
});

describe('Allocator: sharing', () => {
  const shared = (ports: Array<['TCP' | 'UDP', number]>, more: TestRequestOptions = {}): TestRequestOptions => ({ sharingKey: 'k', ports, ...more });

  it('puts Services with the same key, disjoint ports and the same backend on one IP', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/29']));
    expect(assignOk(a, 'dns-tcp', shared([['TCP', 53]]))).toEqual(['198.51.100.0']);
    expect(assignOk(a, 'dns-udp', shared([['UDP', 53]]))).toEqual(['198.51.100.0']);
    expect(assignOk(a, 'other', { sharingKey: 'other', ports: [['TCP', 80]] })).toEqual(['198.51.100.1']);
    expect(assignOk(a, 'clash', shared([['TCP', 53]]))).toEqual(['198.51.100.2']);
    expect(assignOk(a, 'local', shared([['TCP', 8080]], { backendKey: 'app=x' }))).toEqual(['198.51.100.3']);
    expect(assignOk(a, 'nokey')).toEqual(['198.51.100.4']);
    a.release('shop/dns-tcp');
    expect(a.usersOf('p')).toContain('shop/dns-udp');
    expect(assignOk(a, 'next')).toEqual(['198.51.100.5']);
  });

  it('says which sharing rule a requested IP breaks', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/29']));
    assignOk(a, 'web', shared([['TCP', 80], ['TCP', 443]], { ips: ['198.51.100.5'] }));
    expect(assignFail(a, 'x', shared([['TCP', 443], ['UDP', 443]], { ips: ['198.51.100.5'] }))).toEqual({
      kind: 'ip-held',
      ip: '198.51.100.5',
      conflict: { rule: 'ports', holder: 'shop/web', ports: ['TCP/443'] },
    });
    expect(assignFail(a, 'y', shared([['UDP', 1]], { ips: ['198.51.100.5'], backendKey: 'app=y' }))).toMatchObject({ conflict: { rule: 'backend', holder: 'shop/web' } });
    expect(assignFail(a, 'z', { sharingKey: 'zz', ips: ['198.51.100.5'] })).toMatchObject({ conflict: { rule: 'key', holderKey: 'k', ownKey: 'zz' } });
    expect(assignOk(a, 'ok', shared([['UDP', 443]], { ips: ['198.51.100.5'] }))).toEqual(['198.51.100.5']);
  });

  it('lands on an IP its key already holds, even in a later pool, before taking a fresh one', () => {
    const a = allocatorWith(pool('a', ['198.51.100.0/30']), pool('b', ['198.51.100.8/30']));
    assignOk(a, 'first', shared([['TCP', 1]], { pool: 'b' }));
    expect(assignOk(a, 'second', shared([['TCP', 2]]))).toEqual(['198.51.100.8']);
    expect(a.assignmentOf('shop/second')?.pool).toBe('b');
  });
});

describe('Allocator: dual-stack', () => {
  const dual: TestRequestOptions = { ipFamilyPolicy: 'RequireDualStack', ipFamilies: [4, 6] };
  const prefer = (families: Array<4 | 6>): TestRequestOptions => ({ ipFamilyPolicy: 'PreferDualStack', ipFamilies: families });

  it('RequireDualStack takes both families from one pool that has both', () => {
    const a = allocatorWith(pool('a-v4', ['198.51.100.0/30']), pool('b-dual', ['203.0.113.0/30', '2001:db8::/126']));
    expect(assignOk(a, 's', dual)).toEqual(['203.0.113.0', '2001:db8::']);
    const b = allocatorWith(pool('a-v4', ['198.51.100.0/30']), pool('b-v6', ['2001:db8::/126']));
    expect(assignFail(b, 's', dual)).toEqual({
      kind: 'no-pool',
      skipped: [
        { pool: 'a-v4', reason: 'has no IPv6 range' },
        { pool: 'b-v6', reason: 'has no IPv4 range' },
      ],
    });
  });

  it('PreferDualStack: both if a pool has both, else the primary family, else the secondary', () => {
    expect(assignOk(allocatorWith(pool('a-v6', ['2001:db8::/126']), pool('b-dual', ['198.51.100.0/30', '2001:db8:1::/126'])), 's', prefer([6, 4]))).toEqual([
      '198.51.100.0',
      '2001:db8:1::',
    ]);
    expect(assignOk(allocatorWith(pool('a-v4', ['198.51.100.0/30']), pool('b-v6', ['2001:db8::/126'])), 's', prefer([6, 4]))).toEqual(['2001:db8::']);
    expect(assignOk(allocatorWith(pool('a-v4', ['198.51.100.0/30'])), 's', prefer([6, 4]))).toEqual(['198.51.100.0']);
  });

  it('a PreferDualStack Service with one family gains the other from its pool once it frees up, keeping its IP', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/30', '2001:db8::/128']));
    assignOk(a, 'v6', { ipFamilies: [6] });
    expect(assignOk(a, 's', prefer([4, 6]))).toEqual(['198.51.100.0']);
    a.release('shop/v6');
    expect(assignOk(a, 's', prefer([4, 6]))).toEqual(['198.51.100.0', '2001:db8::']);
  });
});

describe('Allocator: keeping and moving', () => {
  it('moves a Service whose request no longer fits its IP, and keeps the old IP when the move fails', () => {
    const a = allocatorWith(pool('a', ['198.51.100.0/29']), pool('b', ['203.0.113.0/29']));
    assignOk(a, 's');
    expect(assignOk(a, 's', { ips: ['198.51.100.5'] })).toEqual(['198.51.100.5']);
    expect(assignOk(a, 's', { pool: 'b' })).toEqual(['203.0.113.0']);
    assignOk(a, 'holder', { ips: ['198.51.100.6'] });
    expect(assignFail(a, 's', { ips: ['198.51.100.6'] }).kind).toBe('ip-held');
    expect(a.assignmentOf('shop/s')?.ips.map((x) => x.text)).toEqual(['203.0.113.0']);
    expect(a.assignmentOf('shop/s')?.pool).toBe('b');
  });

  it('moves a sharing Service whose new ports clash with a co-holder; its old partner keeps the IP', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/29']));
    assignOk(a, 'x', { sharingKey: 'k', ports: [['TCP', 80]] });
    assignOk(a, 'y', { sharingKey: 'k', ports: [['TCP', 81]] });
    expect(assignOk(a, 'y', { sharingKey: 'k', ports: [['TCP', 81], ['TCP', 82]] })).toEqual(['198.51.100.0']);
    expect(assignOk(a, 'y', { sharingKey: 'k', ports: [['TCP', 80]] })).toEqual(['198.51.100.1']);
    expect(a.assignmentOf('shop/x')?.ips[0]?.text).toBe('198.51.100.0');
  });

  it('moves a Service whose labels no longer satisfy its pool', () => {
    const a = allocatorWith(pool('edge', ['198.51.100.0/29'], { serviceAllocation: { serviceSelectors: [{ matchLabels: { tier: 'edge' } }] } }), pool('rest', ['203.0.113.0/29']));
    expect(assignOk(a, 's', { labels: { tier: 'edge' } })).toEqual(['198.51.100.0']);
    expect(assignOk(a, 's', { labels: { tier: 'core' } })).toEqual(['203.0.113.0']);
  });
});

describe('Allocator: pool changes', () => {
  it('shrinking a pool releases exactly the Services outside it, with the reason; growing moves nobody', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/29']));
    for (const s of ['s0', 's1', 's2', 's3', 's4']) assignOk(a, s);
    const invalid = a.setPools([pool('p', ['198.51.100.0/30'])], []);
    expect(invalid.map((i) => [i.key, i.reason])).toEqual([['shop/s4', { kind: 'ip-outside-pool', ip: '198.51.100.4' }]]);
    expect(formatInvalidation(invalid[0]!)).toBe('released 198.51.100.4: 198.51.100.4 is no longer in pool "p"');
    expect(a.assignmentOf('shop/s4')).toBeUndefined();
    expect(a.assignmentOf('shop/s3')?.ips[0]?.text).toBe('198.51.100.3');
    expect(assignFail(a, 's4').kind).toBe('pool-exhausted');
    expect(a.setPools([pool('p', ['198.51.100.0/28'])], [])).toEqual([]);
    expect(assignOk(a, 's4')).toEqual(['198.51.100.4']);
  });

  it('releases holders of a removed pool, of newly avoided addresses and of a pool that stopped selecting them', () => {
    const a = allocatorWith(pool('gone', ['203.0.113.0/30']), pool('p', ['198.51.100.0/24']), pool('sel', ['198.51.101.0/30']));
    assignOk(a, 'g', { pool: 'gone' });
    assignOk(a, 'zero', { ips: ['198.51.100.0'] });
    assignOk(a, 'one', { ips: ['198.51.100.1'] });
    assignOk(a, 'sel', { pool: 'sel' });
    const invalid = a.setPools([pool('p', ['198.51.100.0/24'], { avoidBuggyIPs: true }), pool('sel', ['198.51.101.0/30'], { serviceAllocation: { namespaces: ['bank'] } })], []);
    expect(invalid.map((i) => [i.key, i.reason.kind])).toEqual([
      ['shop/g', 'pool-removed'],
      ['shop/sel', 'pool-not-selecting'],
      ['shop/zero', 'ip-avoided'],
    ]);
    expect(invalid.map(formatInvalidation)).toEqual([
      'released 203.0.113.0: pool "gone" no longer exists',
      'released 198.51.101.0: pool "sel" may no longer serve this Service: its serviceAllocation does not select namespace "shop"',
      'released 198.51.100.0: pool "p" now avoids 198.51.100.0 (avoidBuggyIPs)',
    ]);
    expect(a.assignmentOf('shop/one')?.ips[0]?.text).toBe('198.51.100.1');
    expect(a.usersOf('gone')).toEqual([]);
  });

  it('a terminating pool keeps its Services but allocates nothing new', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/29']));
    assignOk(a, 's1');
    expect(a.setPools([pool('p', ['198.51.100.0/29'], { terminating: true })], [])).toEqual([]);
    expect(assignOk(a, 's1')).toEqual(['198.51.100.0']);
    expect(a.usersOf('p')).toEqual(['shop/s1']);
    expect(a.usage('p')).toEqual({ ipv4: { assigned: 1n, available: 0n }, ipv6: { assigned: 0n, available: 0n } });
    expect(assignFail(a, 's2')).toEqual({ kind: 'no-pool', skipped: [{ pool: 'p', reason: 'is being deleted' }] });
    expect(assignFail(a, 's2', { pool: 'p' })).toEqual({ kind: 'pool-terminating', pool: 'p' });
    expect(assignFail(a, 's2', { ips: ['198.51.100.5'] })).toEqual({ kind: 'pool-terminating', pool: 'p' });
  });

  it('a pool that falls into conflict keeps its Services, and the older pool never hands their IPs out', () => {
    const a = allocatorWith(pool('old', ['198.51.100.0/30'], { createdAt: 1 }), pool('new', ['198.51.100.8/30'], { createdAt: 2 }));
    expect(assignOk(a, 'n', { pool: 'new' })).toEqual(['198.51.100.8']);
    // The older pool is edited to cover the newer one's range.
    const { usable, conflicts } = resolvePoolConflicts([pool('old', ['198.51.100.0/28'], { createdAt: 1 }), pool('new', ['198.51.100.8/30'], { createdAt: 2 })]);
    expect(conflicts.map((c) => c.pool.name)).toEqual(['new']);
    expect(a.setPools(usable, conflicts)).toEqual([]);
    expect(assignOk(a, 'n', { pool: 'new' })).toEqual(['198.51.100.8']);
    const taken = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'o', 'p'].map((s) => assignOk(a, s)[0]);
    expect(taken).not.toContain('198.51.100.8');
    expect(taken).toHaveLength(15);
    expect(assignFail(a, 'q')).toEqual({ kind: 'pool-exhausted', pools: [{ pool: 'old', families: [4] }] });
    expect(formatAllocationFailure(assignFail(a, 'q', { pool: 'new' }))).toBe('pool "new" allocates nothing: its 198.51.100.8/30 overlaps older pool "old"');
    expect(a.usage('new')).toEqual({ ipv4: { assigned: 1n, available: 0n }, ipv6: { assigned: 0n, available: 0n } });
    expect(a.usage('old')?.ipv4).toEqual({ assigned: 15n, available: 0n });
  });

  it('refuses overlapping usable pools (a caller bug) without changing anything', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/29']));
    assignOk(a, 's');
    expect(() => a.setPools([pool('p', ['198.51.100.0/29']), pool('q', ['198.51.100.4/30'])], [])).toThrow(/overlap/);
    expect(() => a.setPools([pool('p', ['198.51.100.0/29']), pool('p', ['203.0.113.0/29'])], [])).toThrow(/twice/);
    expect(assignOk(a, 's2')).toEqual(['198.51.100.1']);
  });
});

describe('Allocator: restore', () => {
  it('re-takes exactly the given IPs before anything new is allocated, in any pool state', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/29']), pool('t', ['203.0.113.0/29'], { terminating: true }));
    expect(a.restore('shop/s3', testRequest('s3'), [ip('198.51.100.3')]).ok).toBe(true);
    expect(a.restore('shop/t', testRequest('t'), [ip('203.0.113.5')]).ok).toBe(true);
    expect(a.restore('shop/x', testRequest('x', { sharingKey: 'k', ports: [['TCP', 1]] }), [ip('198.51.100.0')]).ok).toBe(true);
    expect(a.restore('shop/y', testRequest('y', { sharingKey: 'k', ports: [['TCP', 2]] }), [ip('198.51.100.0')]).ok).toBe(true);
    expect(assignOk(a, 'new')).toEqual(['198.51.100.1']);
    expect(a.assignmentOf('shop/t')).toEqual({ pool: 't', ips: [ip('203.0.113.5')] });
  });

  it('keeps an IP in the pool it came from (ip-allocated-from-pool) where a conflicted pool overlaps a usable one', () => {
    const pools = resolvePoolConflicts([pool('old', ['198.51.100.0/28'], { createdAt: 1 }), pool('new', ['198.51.100.8/30'], { createdAt: 2 })]);
    const a = new Allocator();
    a.setPools(pools.usable, pools.conflicts);
    expect(a.restore('shop/hinted', testRequest('hinted'), [ip('198.51.100.9')], 'new')).toMatchObject({ ok: true, value: { pool: 'new' } });
    expect(a.restore('shop/plain', testRequest('plain'), [ip('198.51.100.10')])).toMatchObject({ ok: true, value: { pool: 'old' } });
    expect(a.restore('shop/wrong', testRequest('wrong'), [ip('198.51.100.1')], 'new')).toMatchObject({ ok: true, value: { pool: 'old' } });
    expect(a.usersOf('new')).toEqual(['shop/hinted']);
  });

  it('keeps IPs whose Service now asks for something else, as a running controller would; assign then tries the request', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/29']));
    a.restore('shop/other', testRequest('other'), [ip('198.51.100.5')]);
    // The Service asked for .5 while holding .4 (.5 was taken); after a restart it still holds .4.
    expect(a.restore('shop/s', testRequest('s', { ips: ['198.51.100.5'] }), [ip('198.51.100.4')]).ok).toBe(true);
    expect(a.assign('shop/s', testRequest('s', { ips: ['198.51.100.5'] })).ok).toBe(false);
    expect(a.assignmentOf('shop/s')?.ips.map((x) => x.text)).toEqual(['198.51.100.4']);
    a.release('shop/other');
    expect(a.assign('shop/s', testRequest('s', { ips: ['198.51.100.5'] }))).toMatchObject({ ok: true, value: { ips: [{ text: '198.51.100.5' }] } });
  });

  it('fails with a reason when the IPs cannot be kept', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/29'], { avoidBuggyIPs: true }));
    a.restore('shop/first', testRequest('first'), [ip('198.51.100.3')]);
    const restoreFail = (name: string, ips: string[], o: TestRequestOptions = {}): AllocationFailure => failureOf(a.restore(`shop/${name}`, testRequest(name, o), ips.map(ip)));
    expect(restoreFail('s', ['198.51.100.3'])).toMatchObject({ kind: 'ip-held', conflict: { holder: 'shop/first' } });
    expect(restoreFail('s', ['203.0.113.3'])).toEqual({ kind: 'ip-outside-pools', ip: '203.0.113.3' });
    expect(restoreFail('s', ['198.51.100.0'])).toEqual({ kind: 'ip-avoided', ip: '198.51.100.0', pool: 'p' });
    expect(restoreFail('s', ['198.51.100.4', '198.51.100.5'])).toMatchObject({ kind: 'restore-mismatch', why: 'two addresses of one family (198.51.100.4, 198.51.100.5)' });
    expect(restoreFail('s', [])).toMatchObject({ kind: 'restore-mismatch' });
    expect(a.usersOf('p')).toEqual(['shop/first']);
  });
});

describe('Allocator: node addresses', () => {
  const nodeAt = (node: string, text: string): NodeAddress => ({ node, type: 'InternalIP', ip: ip(text) });

  it('never hands out a node address, however it asks, and counts it as unavailable', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/30', '2001:db8::/126']));
    expect(a.setNodeAddresses([nodeAt('n1', '198.51.100.0'), nodeAt('n2', '198.51.100.2'), nodeAt('n1', '2001:db8::')])).toEqual([]);
    expect(a.usage('p')).toEqual({ ipv4: { assigned: 0n, available: 2n }, ipv6: { assigned: 0n, available: 3n } });
    expect(assignOk(a, 's1')).toEqual(['198.51.100.1']);
    expect(assignOk(a, 's2')).toEqual(['198.51.100.3']);
    expect(assignFail(a, 's3').kind).toBe('pool-exhausted');
    expect(assignOk(a, 's6', { ipFamilies: [6] })).toEqual(['2001:db8::1']);
    const asked = assignFail(a, 's4', { ips: ['198.51.100.2'] });
    expect(formatAllocationFailure(asked)).toBe("IP 198.51.100.2 is an address of node n2; a Service given it would take the node's traffic");
  });

  it('frees a node address when the node gives it up, and keeps a Service that held it before the node had it', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/31']));
    expect(assignOk(a, 's1', { sharingKey: 'k' })).toEqual(['198.51.100.0']);
    // A node takes s1's address: s1 keeps it (no silent move), nobody else gets it, not even by sharing.
    expect(a.setNodeAddresses([nodeAt('n1', '198.51.100.0')])).toEqual([]);
    expect(assignOk(a, 's1', { sharingKey: 'k' })).toEqual(['198.51.100.0']);
    expect(a.holdersOf(ip('198.51.100.0'))).toEqual(['shop/s1']);
    expect(assignOk(a, 's9', { sharingKey: 'k', ports: [['TCP', 443]] })).toEqual(['198.51.100.1']);
    a.release('shop/s9');
    a.release('shop/s1');
    expect(a.usage('p')!.ipv4).toEqual({ assigned: 0n, available: 1n });
    expect(assignOk(a, 's2')).toEqual(['198.51.100.1']);
    expect(assignFail(a, 's3').kind).toBe('pool-exhausted');
    // The node moves away: its old address is free again.
    a.setNodeAddresses([]);
    expect(assignOk(a, 's3')).toEqual(['198.51.100.0']);
  });

  it('restores a node address held in status (a restart never moves an IP)', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/30']));
    a.setNodeAddresses([nodeAt('n1', '198.51.100.1')]);
    const r = a.restore('shop/s1', testRequest('s1'), [ip('198.51.100.1')]);
    expect(r.ok).toBe(true);
    expect(assignOk(a, 's2')).toEqual(['198.51.100.0']);
    expect(assignOk(a, 's3')).toEqual(['198.51.100.2']);
  });
});
