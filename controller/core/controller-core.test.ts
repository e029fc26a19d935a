import { describe, expect, it } from 'vitest';
import type { V1Node, V1Service } from '@kubernetes/client-node';
import type { IPAddressPool } from '../../shared/api/index.ts';
import { POOL_FINALIZER } from '../../shared/api/index.ts';
import { ControllerCore } from './index.ts';

const T0 = '2026-01-01T00:00:00Z';

function pool(name: string, addresses: string[], extra: Partial<IPAddressPool['spec']> = {}, meta: Partial<IPAddressPool['metadata']> = {}): IPAddressPool {
  return {
    metadata: { name, namespace: 'ballast-system', uid: `uid-${name}`, creationTimestamp: T0, generation: 1, finalizers: [POOL_FINALIZER], ...meta },
    spec: { addresses, ...extra },
  };
}

function svc(name: string, opts: { ips?: string[]; annotations?: Record<string, string>; type?: string; created?: string; ports?: number[]; families?: string[]; policy?: string } = {}): V1Service {
  return {
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, creationTimestamp: new Date(opts.created ?? T0), annotations: opts.annotations },
    spec: {
      type: opts.type ?? 'LoadBalancer',
      ipFamilies: opts.families ?? ['IPv4'],
      ipFamilyPolicy: opts.policy ?? 'SingleStack',
      ports: (opts.ports ?? [80]).map((port) => ({ port, protocol: 'TCP' })),
    },
    status: { loadBalancer: { ingress: (opts.ips ?? []).map((ip) => ({ ip, ipMode: 'VIP' })) } },
  };
}

const withStatus = (s: V1Service, ingress: ReadonlyArray<{ ip: string }> | undefined): V1Service => ({ ...s, status: { loadBalancer: { ingress: ingress?.map((i) => ({ ...i, ipMode: 'VIP' })) } } });

describe('ControllerCore: Services', () => {
  it('assigns the lowest free address with ipMode VIP, tells the user once, and is quiet on resync', () => {
    const core = new ControllerCore();
    core.updatePools([pool('web', ['203.0.113.10-203.0.113.20'])]);
    const first = core.syncService('shop/a', svc('a'), {});
    expect(first.ingress).toEqual([{ ip: '203.0.113.10', ipMode: 'VIP' }]);
    expect(first.events).toEqual([{ type: 'Normal', reason: 'IPAllocated', message: 'assigned 203.0.113.10 from pool "web"' }]);
    const again = core.syncService('shop/a', withStatus(svc('a'), first.ingress), {});
    expect(again).toEqual({ key: 'shop/a', ingress: undefined, events: [], wake: [] });
  });

  it('gives a dual-stack Service one address per family, IPv4 first', () => {
    const core = new ControllerCore();
    core.updatePools([pool('dual', ['203.0.113.0/30', '2001:db8:100::/126'])]);
    const plan = core.syncService('shop/d', svc('d', { families: ['IPv6', 'IPv4'], policy: 'RequireDualStack' }), {});
    expect(plan.ingress?.map((i) => i.ip)).toEqual(['203.0.113.0', '2001:db8:100::']);
  });

  it('warns once about a MetalLB annotation and names the new key', () => {
    const core = new ControllerCore();
    core.updatePools([pool('web', ['203.0.113.0/29'])]);
    const s = svc('a', { annotations: { 'metallb.universe.tf/loadBalancerIPs': '203.0.113.5' } });
    const plan = core.syncService('shop/a', s, {});
    expect(plan.ingress).toEqual([{ ip: '203.0.113.5', ipMode: 'VIP' }]);
    expect(plan.events.find((e) => e.reason === 'DeprecatedAnnotation')?.message).toContain('use "ballast.io/loadBalancerIPs"');
    expect(core.syncService('shop/a', withStatus(s, [{ ip: '203.0.113.5' }]), {}).events).toEqual([]);
  });

  it('names the holder when a requested IP is taken, and names the reason when it is outside every pool', () => {
    const core = new ControllerCore();
    core.updatePools([pool('web', ['203.0.113.0/29'])]);
    core.syncService('shop/a', svc('a', { annotations: { 'ballast.io/loadBalancerIPs': '203.0.113.3' } }), {});
    const taken = core.syncService('shop/b', svc('b', { annotations: { 'ballast.io/loadBalancerIPs': '203.0.113.3' } }), {});
    expect(taken.ingress).toBeUndefined();
    expect(taken.events[0]).toMatchObject({ type: 'Warning', reason: 'AllocationFailed' });
    expect(taken.events[0]!.message).toContain('shop/a');
    const outside = core.syncService('shop/c', svc('c', { annotations: { 'ballast.io/loadBalancerIPs': '198.51.100.77' } }), {});
    expect(outside.events[0]!.message).toBe('requested IP 198.51.100.77 is in no IPAddressPool');
  });

  it('wakes the Services waiting for an address when one is freed', () => {
    const core = new ControllerCore();
    core.updatePools([pool('web', ['203.0.113.0/29'])]);
    core.syncService('shop/a', svc('a', { annotations: { 'ballast.io/loadBalancerIPs': '203.0.113.3' } }), {});
    expect(core.syncService('shop/b', svc('b', { annotations: { 'ballast.io/loadBalancerIPs': '203.0.113.3' } }), {}).ingress).toBeUndefined();
    expect(core.syncService('shop/c', svc('c'), {}).wake).toEqual([]);
    expect(core.syncService('shop/a', undefined, {}).wake).toEqual(['shop/b']);
    expect(core.syncService('shop/b', svc('b', { annotations: { 'ballast.io/loadBalancerIPs': '203.0.113.3' } }), {}).ingress).toEqual([{ ip: '203.0.113.3', ipMode: 'VIP' }]);
  });

  it('keeps the held IP when a Service is edited into an invalid request', () => {
    const core = new ControllerCore();
    core.updatePools([pool('web', ['203.0.113.0/29'])]);
    core.syncService('shop/a', svc('a'), {});
    const broken = svc('a', { ips: ['203.0.113.0'], annotations: { 'ballast.io/loadBalancerIPs': '203.0.113.1,203.0.113.2' } });
    const plan = core.syncService('shop/a', broken, {});
    expect(plan.ingress).toBeUndefined();
    expect(plan.events[0]).toMatchObject({ type: 'Warning', reason: 'InvalidService' });
    expect(plan.events[0]!.message).toContain('at most one per family');
    expect(plan.events[0]!.message).toContain('keeping 203.0.113.0');
    expect(core.assignmentOf('shop/a')?.ips.map((i) => i.text)).toEqual(['203.0.113.0']);
  });

  it('releases and clears status when a Service stops being a LoadBalancer, and frees the IP for others', () => {
    const core = new ControllerCore();
    core.updatePools([pool('one', ['203.0.113.9/32'])]);
    core.syncService('shop/a', svc('a'), {});
    const plan = core.syncService('shop/a', svc('a', { type: 'ClusterIP', ips: ['203.0.113.9'] }), {});
    expect(plan.ingress).toEqual([]);
    expect(plan.events[0]).toMatchObject({ reason: 'IPReleased' });
    expect(core.syncService('shop/b', svc('b'), {}).ingress).toEqual([{ ip: '203.0.113.9', ipMode: 'VIP' }]);
  });

  it('never touches Services of another loadBalancerClass, nor status IPs outside its pools', () => {
    const core = new ControllerCore({ loadBalancerClass: 'ballast.io/lab' });
    core.updatePools([pool('web', ['203.0.113.0/29'])]);
    expect(core.syncService('shop/a', svc('a', { ips: ['198.51.100.5'] }), {})).toEqual({ key: 'shop/a', ingress: undefined, events: [], wake: [] });
    const mine: V1Service = { ...svc('m', { ips: ['198.51.100.5'] }), spec: { ...svc('m').spec, loadBalancerClass: 'ballast.io/lab' } };
    core.updatePools([]);
    const plan = core.syncService('shop/m', mine, {});
    expect(plan.events[0]).toMatchObject({ reason: 'AllocationFailed', message: 'no IPAddressPool exists' });
    expect(plan.ingress).toBeUndefined();
  });
});

describe('ControllerCore: restarts', () => {
  it('restores every IP from status before allocating, so no Service changes IP', () => {
    const before = new ControllerCore();
    before.updatePools([pool('web', ['203.0.113.0/28'])]);
    const services = ['a', 'b', 'c', 'd'].map((n) => svc(n));
    const assigned = services.map((s) => withStatus(s, before.syncService(`shop/${s.metadata!.name}`, s, {}).ingress));
    before.syncService('shop/b', undefined, {}); // b deleted: .1 is free now
    const live = assigned.filter((s) => s.metadata!.name !== 'b');

    const after = new ControllerCore();
    after.updatePools([pool('web', ['203.0.113.0/28'])]);
    expect(after.restore([...live].reverse(), () => ({}))).toEqual({ restored: 3, failed: [] });
    const newcomer = after.syncService('shop/e', svc('e'), {});
    expect(newcomer.ingress?.[0]?.ip).toBe('203.0.113.1');
    for (const s of live) expect(after.syncService(`shop/${s.metadata!.name}`, s, {}).ingress).toBeUndefined();
  });

  it('lets the older of two Services that claim one IP keep it; the newer is told and moved', () => {
    const core = new ControllerCore();
    core.updatePools([pool('web', ['203.0.113.0/29'])]);
    const older = svc('old', { ips: ['203.0.113.4'], created: '2025-01-01T00:00:00Z' });
    const newer = svc('new', { ips: ['203.0.113.4'], created: '2025-06-01T00:00:00Z' });
    const outcome = core.restore([newer, older], () => ({}));
    expect(outcome.restored).toBe(1);
    expect(outcome.failed.map((f) => f.key)).toEqual(['shop/new']);
    const plan = core.syncService('shop/new', newer, {});
    expect(plan.ingress).toEqual([{ ip: '203.0.113.0', ipMode: 'VIP' }]);
    expect(plan.events[0]).toMatchObject({ type: 'Warning', reason: 'IPChanged' });
    expect(plan.events[0]!.message).toContain('shop/old');
  });
});

describe('ControllerCore: pools', () => {
  it('moves only the Services whose IP left a shrunk pool, telling each why', () => {
    const core = new ControllerCore();
    core.updatePools([pool('web', ['203.0.113.0/29'])]);
    const a = withStatus(svc('a'), core.syncService('shop/a', svc('a'), {}).ingress);
    core.syncService('shop/b', svc('b'), {});
    const c = withStatus(svc('c'), core.syncService('shop/c', svc('c'), {}).ingress);
    expect(c.status?.loadBalancer?.ingress?.[0]?.ip).toBe('203.0.113.2');
    const requeue = core.updatePools([pool('web', ['203.0.113.0/31', '203.0.113.4/30'])]);
    expect(requeue).toEqual(['shop/c']);
    const plan = core.syncService('shop/c', c, {});
    expect(plan.ingress).toEqual([{ ip: '203.0.113.4', ipMode: 'VIP' }]);
    expect(plan.events[0]).toMatchObject({ reason: 'IPChanged' });
    expect(plan.events[0]!.message).toContain('203.0.113.2 is no longer in pool "web"');
    expect(core.syncService('shop/a', a, {}).ingress).toBeUndefined();
  });

  it('keeps serving the last valid spec when an edit breaks a pool, and says so in its status', () => {
    const core = new ControllerCore();
    core.updatePools([pool('web', ['203.0.113.0/29'])]);
    core.syncService('shop/a', svc('a'), {});
    const broken = pool('web', ['203.0.113.0/29', '203.0.113.300/32'], {}, { generation: 2 });
    expect(core.updatePools([broken])).toEqual([]);
    expect(core.assignmentOf('shop/a')?.ips[0]?.text).toBe('203.0.113.0');
    const [plan] = core.poolPlans(new Date('2026-02-01T00:00:00Z'));
    const ready = plan!.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'InvalidConfiguration', observedGeneration: 2 });
    expect(ready!.message).toContain('spec.addresses[1]');
    expect(ready!.message).toContain('still serving the last valid spec (203.0.113.0/29)');
    expect(plan!.events[0]).toMatchObject({ type: 'Warning', reason: 'InvalidConfiguration' });
  });

  it('puts the newer of two overlapping pools in Conflict, naming the older, and counts usage per family', () => {
    const core = new ControllerCore();
    core.updatePools([pool('old', ['203.0.113.0/28', '2001:db8:100::/64']), pool('new', ['203.0.113.8/29'], {}, { creationTimestamp: '2026-03-01T00:00:00Z' })]);
    core.syncService('shop/a', svc('a'), {});
    const plans = core.poolPlans(new Date('2026-04-01T00:00:00Z'));
    const old = plans.find((p) => p.name === 'old')!.status!;
    expect(old).toMatchObject({ assignedIPv4: 1, availableIPv4: 15, assignedIPv6: 0, availableIPv6: Number.MAX_SAFE_INTEGER, availableIPv6Text: (1n << 64n).toString() });
    const conflicted = plans.find((p) => p.name === 'new')!.status!;
    expect(conflicted.conditions?.find((c) => c.type === 'Conflict')).toMatchObject({ status: 'True', reason: 'Overlap' });
    expect(conflicted.conditions?.find((c) => c.type === 'Conflict')!.message).toContain('older pool "old"');
    expect(conflicted.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'Conflict' });
  });

  it('keeps a deleted pool (finalizer) while a Service uses it, names the users, and lets go when the last one leaves', () => {
    const core = new ControllerCore();
    core.updatePools([pool('web', ['203.0.113.0/29'])]);
    core.syncService('shop/a', svc('a'), {});
    const deleting = pool('web', ['203.0.113.0/29'], {}, { deletionTimestamp: '2026-05-01T00:00:00Z' });
    expect(core.updatePools([deleting])).toEqual([]);
    let [plan] = core.poolPlans(new Date('2026-05-01T00:00:01Z'));
    expect(plan!.finalizer).toBeUndefined();
    expect(plan!.status?.conditions?.find((c) => c.type === 'Ready')?.message).toContain('shop/a');
    expect(core.syncService('shop/b', svc('b'), {}).events[0]!.message).toContain('being deleted');
    core.syncService('shop/a', undefined, {});
    [plan] = core.poolPlans(new Date('2026-05-01T00:00:02Z'));
    expect(plan!.finalizer).toBe('remove');
  });

  it('adds the protection finalizer to a new pool and writes status only when it changes', () => {
    const core = new ControllerCore();
    const fresh = pool('web', ['203.0.113.0/29'], {}, { finalizers: [] });
    core.updatePools([fresh]);
    const [plan] = core.poolPlans(new Date('2026-06-01T00:00:00Z'));
    expect(plan!.finalizer).toBe('add');
    core.updatePools([{ ...fresh, status: plan!.status }]);
    const [again] = core.poolPlans(new Date('2026-06-02T00:00:00Z'));
    expect(again!.status).toBeUndefined();
  });

  it("names in NodeConflict and a Warning the nodes whose own addresses lie in a pool, and never gives a Service one", () => {
    const node = (name: string, ...addresses: Array<[string, string]>): V1Node => ({ metadata: { name }, status: { addresses: addresses.map(([type, address]) => ({ type, address })) } });
    const core = new ControllerCore();
    core.updatePools([pool('web', ['203.0.113.0/30', '2001:db8:100::/126'])]);
    const a = core.syncService('shop/a', svc('a'), {});
    expect(a.ingress?.map((i) => i.ip)).toEqual(['203.0.113.0']);
    // worker-1 has the address shop/a holds, worker-2 the next one; hostnames and addresses outside pools do not count.
    const nodes = [node('worker-1', ['InternalIP', '203.0.113.0'], ['Hostname', 'worker-1']), node('worker-2', ['ExternalIP', '203.0.113.1'], ['InternalIP', '198.51.100.2'])];
    expect(core.updateNodes(nodes)).toEqual([]);
    expect(core.syncService('shop/b', svc('b'), {}).ingress?.map((i) => i.ip)).toEqual(['203.0.113.2']);
    const asked = core.syncService('shop/c', svc('c', { annotations: { 'ballast.io/loadBalancerIPs': '203.0.113.1' } }), {});
    expect(asked.events).toEqual([{ type: 'Warning', reason: 'AllocationFailed', message: "IP 203.0.113.1 is an address of node worker-2; a Service given it would take the node's traffic" }]);
    // shop/a keeps its address: nothing moves silently.
    expect(core.syncService('shop/a', withStatus(svc('a'), a.ingress), {}).ingress).toBeUndefined();

    const [plan] = core.poolPlans(new Date('2026-07-01T00:00:00Z'));
    const condition = plan!.status?.conditions?.find((c) => c.type === 'NodeConflict');
    const message =
      'spec.addresses[0] (203.0.113.0/30) holds the InternalIP 203.0.113.0 of node worker-1, yet Service shop/a has it: move that Service to another address; ' +
      "spec.addresses[0] (203.0.113.0/30) holds the ExternalIP 203.0.113.1 of node worker-2. Ballast gives no Service a node's address; take it out of spec.addresses";
    expect(condition).toMatchObject({ status: 'True', reason: 'NodeAddressInPool', message });
    expect(plan!.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    expect(plan!.status).toMatchObject({ assignedIPv4: 2, availableIPv4: 1 });
    expect(plan!.events).toEqual([{ type: 'Warning', reason: 'NodeAddressInPool', message }]);
    // Said once: with that status written back, no new Warning.
    core.updatePools([{ ...pool('web', ['203.0.113.0/30', '2001:db8:100::/126']), status: plan!.status }]);
    expect(core.poolPlans(new Date('2026-07-01T00:00:01Z'))[0]!.events).toEqual([]);
    // worker-2 gives its address up: shop/c, waiting for it, is woken and gets it.
    expect(core.updateNodes([nodes[0]!])).toEqual(['shop/c']);
    expect(core.syncService('shop/c', svc('c', { annotations: { 'ballast.io/loadBalancerIPs': '203.0.113.1' } }), {}).ingress?.map((i) => i.ip)).toEqual(['203.0.113.1']);
    core.updateNodes([]);
    expect(core.poolPlans(new Date('2026-07-01T00:00:02Z'))[0]!.status?.conditions?.find((c) => c.type === 'NodeConflict')).toMatchObject({ status: 'False', reason: 'NoNodeAddress' });
  });
});
