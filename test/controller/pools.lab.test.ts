// Pool changes on the real API server: overlaps, deletion protection,
// shrinking, a broken edit, serviceAllocation and autoAssign.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { kubeConfigFromHandle, uniqueName, waitFor, sleep } from '../lab/index.ts';
import { api, createService, hasIPs, ingressIPs, poolObject, readPool, startController, waitForEvent, waitForIngress, type ControllerProcess, type ServiceSpec } from './harness.ts';

const handle = inject('controlPlane');
const a = api(kubeConfigFromHandle(handle));
const ns = uniqueName('pools');
const other = `${ns}-other`;
const cls = `ballast.io/${ns}`;
let controller: ControllerProcess;
const svc = (name: string, s: Partial<ServiceSpec> = {}): ServiceSpec => ({ name, namespace: ns, loadBalancerClass: cls, ...s });
const merge = k8s.setHeaderOptions('Content-Type', 'application/merge-patch+json');
const patchPool = (name: string, spec: unknown): Promise<unknown> =>
  a.objects.patch({ apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: ns }, spec } as k8s.KubernetesObject, undefined, undefined, undefined, undefined, k8s.PatchStrategy.MergePatch);
const deletePool = (name: string): Promise<unknown> => a.objects.delete({ apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: ns } });
const condition = async (pool: string, type: string) => (await readPool(a, ns, pool)).status?.conditions?.find((c) => c.type === type);

beforeAll(async () => {
  await a.core.createNamespace({ body: { metadata: { name: ns } } });
  await a.core.createNamespace({ body: { metadata: { name: other, labels: { tier: 'gold' } } } });
  controller = await startController(handle, { namespace: ns, loadBalancerClass: cls });
});
const nodeName = `${ns}-node`;
afterAll(async () => {
  await controller?.stop();
  for (const n of [ns, other]) await a.core.deleteNamespace({ name: n }).catch(() => undefined);
  await a.core.deleteNode({ name: nodeName }).catch(() => undefined);
});

describe('pool changes', () => {
  it('puts the newer of two overlapping pools in Conflict, naming the older, and allocates nothing from it', async () => {
    await a.objects.create(poolObject(ns, 'older', ['203.0.113.0/28']));
    await sleep(1_100); // creationTimestamp has one-second resolution
    await a.objects.create(poolObject(ns, 'newer', ['203.0.113.8/29', '203.0.113.32/30']));
    const conflict = await waitFor('the Conflict condition', async () => {
      const c = await condition('newer', 'Conflict');
      return c?.status === 'True' ? c : undefined;
    });
    expect(conflict.message).toContain('203.0.113.8/29 overlaps older pool "older"');
    expect(await condition('newer', 'Ready')).toMatchObject({ status: 'False', reason: 'Conflict' });
    expect(await condition('older', 'Ready')).toMatchObject({ status: 'True' });
    await waitForEvent(a, ns, 'IPAddressPool', 'newer', 'Conflict');
    await createService(a, svc('wants-newer', { annotations: { 'ballast.io/address-pool': 'newer' } }));
    expect((await waitForEvent(a, ns, 'Service', 'wants-newer', 'AllocationFailed')).message).toContain('overlaps older pool "older"');
    await deletePool('newer');
  });

  it('keeps a deleted pool while a Service uses it, names the users, and removes it when the last one leaves', async () => {
    await a.objects.create(poolObject(ns, 'doomed', ['203.0.113.64/29'], { autoAssign: false }));
    await createService(a, svc('tenant', { annotations: { 'ballast.io/address-pool': 'doomed' } }));
    const ip = ingressIPs(await waitForIngress(a, ns, 'tenant', hasIPs(1)))[0];
    expect(ip).toBe('203.0.113.64');
    await waitFor('the protection finalizer', async () => (await readPool(a, ns, 'doomed')).metadata.finalizers?.includes('ballast.io/pool-protection'));
    await deletePool('doomed');
    const ready = await waitFor('the Terminating condition', async () => {
      const c = await condition('doomed', 'Ready');
      return c?.reason === 'Terminating' ? c : undefined;
    });
    expect(ready.message).toContain(`${ns}/tenant`);
    await sleep(1_000);
    expect(ingressIPs(await a.core.readNamespacedServiceStatus({ namespace: ns, name: 'tenant' }))).toEqual([ip]);
    await a.core.deleteNamespacedService({ namespace: ns, name: 'tenant' });
    await waitFor('the pool to be gone', () => readPool(a, ns, 'doomed').then(() => false, () => true));
  });

  it('moves only the Services whose IP left a shrunk pool, each with an IPChanged event', async () => {
    await a.objects.create(poolObject(ns, 'shrink', ['203.0.113.96/29'], { autoAssign: false }));
    for (const n of ['s0', 's1', 's2', 's3']) await createService(a, svc(n, { annotations: { 'ballast.io/address-pool': 'shrink' } }));
    const before = new Map<string, string>();
    for (const n of ['s0', 's1', 's2', 's3']) before.set(n, ingressIPs(await waitForIngress(a, ns, n, hasIPs(1)))[0]!);
    expect([...before.values()].sort()).toEqual(['203.0.113.96', '203.0.113.97', '203.0.113.98', '203.0.113.99']);
    // Drop .98 and .99 from the pool, keep room elsewhere in it.
    await patchPool('shrink', { addresses: ['203.0.113.96/31', '203.0.113.100/30'] });
    const moved = [...before].filter(([, ip]) => ip === '203.0.113.98' || ip === '203.0.113.99').map(([n]) => n);
    for (const n of moved) {
      const after = ingressIPs(await waitForIngress(a, ns, n, (ips) => ips.length === 1 && ips[0] !== before.get(n), 'to move'));
      expect(after[0]).toMatch(/^203\.0\.113\.10[0-3]$/);
      expect((await waitForEvent(a, ns, 'Service', n, 'IPChanged')).message).toContain(`${before.get(n)} is no longer in pool "shrink"`);
    }
    for (const [n, ip] of before) if (!moved.includes(n)) expect(ingressIPs(await a.core.readNamespacedServiceStatus({ namespace: ns, name: n }))).toEqual([ip]);
  });

  it('keeps serving the last valid spec when an edit breaks the pool, and says why in its status', async () => {
    await a.objects.create(poolObject(ns, 'fragile', ['203.0.113.112/30'], { autoAssign: false }));
    await createService(a, svc('steady', { annotations: { 'ballast.io/address-pool': 'fragile' } }));
    const ip = ingressIPs(await waitForIngress(a, ns, 'steady', hasIPs(1)))[0];
    // Valid for the CRD rules, invalid for the pool: two entries overlap each other.
    await patchPool('fragile', { addresses: ['203.0.113.112/30', '203.0.113.113-203.0.113.114'] });
    const ready = await waitFor('InvalidConfiguration', async () => {
      const c = await condition('fragile', 'Ready');
      return c?.reason === 'InvalidConfiguration' ? c : undefined;
    });
    expect(ready.message).toContain('still serving the last valid spec (203.0.113.112/30)');
    await sleep(1_000);
    expect(ingressIPs(await a.core.readNamespacedServiceStatus({ namespace: ns, name: 'steady' }))).toEqual([ip]);
  });

  it('reserves a pool for selected namespaces by priority, and never auto-assigns from an autoAssign=false pool', async () => {
    await a.objects.create(poolObject(ns, 'gold', ['203.0.113.120/30'], { serviceAllocation: { priority: 10, namespaceSelectors: [{ matchLabels: { tier: 'gold' } }] } }));
    await a.objects.create(poolObject(ns, 'gold-backup', ['203.0.113.124/30'], { serviceAllocation: { priority: 20, namespaces: [other] } }));
    await createService(a, { name: 'vip', namespace: other, loadBalancerClass: cls });
    expect(ingressIPs(await waitForIngress(a, other, 'vip', hasIPs(1)))).toEqual(['203.0.113.120']);
    // In a namespace the reserved pools do not select: the general pool (autoAssign=false pools are skipped).
    await createService(a, svc('plain'));
    const plain = ingressIPs(await waitForIngress(a, ns, 'plain', hasIPs(1)))[0]!;
    expect(plain).toMatch(/^203\.0\.113\.(\d|1[0-5])$/);
  });

  it("names the node whose address lies in a pool (NodeConflict, a Warning) and gives no Service that address", async () => {
    // A Node as the kubelet registers it: addresses in status. Only its name is this file's; the pool's range is too.
    const node = await a.core.createNode({ body: { metadata: { name: nodeName } } });
    node.status = { addresses: [{ type: 'InternalIP', address: '203.0.113.129' }, { type: 'Hostname', address: nodeName }] };
    await a.core.replaceNodeStatus({ name: nodeName, body: node });
    await a.objects.create(poolObject(ns, 'nodes', ['203.0.113.128/30'], { autoAssign: false }));
    const conflict = await waitFor('the NodeConflict condition', async () => {
      const c = await condition('nodes', 'NodeConflict');
      return c?.status === 'True' ? c : undefined;
    });
    expect(conflict.message).toContain(`spec.addresses[0] (203.0.113.128/30) holds the InternalIP 203.0.113.129 of node ${nodeName}`);
    expect(await condition('nodes', 'Ready')).toMatchObject({ status: 'True' });
    expect((await waitForEvent(a, ns, 'IPAddressPool', 'nodes', 'NodeAddressInPool')).message).toContain(nodeName);
    for (const n of ['n0', 'n1']) await createService(a, svc(n, { annotations: { 'ballast.io/address-pool': 'nodes' } }));
    const got = [];
    for (const n of ['n0', 'n1']) got.push(ingressIPs(await waitForIngress(a, ns, n, hasIPs(1)))[0]);
    expect(got.sort()).toEqual(['203.0.113.128', '203.0.113.130']);
    await createService(a, svc('n2', { annotations: { 'ballast.io/address-pool': 'nodes', 'ballast.io/loadBalancerIPs': '203.0.113.129' } }));
    expect((await waitForEvent(a, ns, 'Service', 'n2', 'AllocationFailed')).message).toContain(`203.0.113.129 is an address of node ${nodeName}`);
    // The node goes: its address is free, and the Service that asked for it gets it.
    await a.core.deleteNode({ name: nodeName });
    expect(ingressIPs(await waitForIngress(a, ns, 'n2', hasIPs(1)))).toEqual(['203.0.113.129']);
    await waitFor('NodeConflict to clear', async () => (await condition('nodes', 'NodeConflict'))?.status === 'False');
  });

  it('skips .0 and .255 with avoidBuggyIPs', async () => {
    await a.objects.create(poolObject(`${ns}`, 'buggy', ['198.51.100.255-198.51.100.255', '203.0.113.255/32'], { avoidBuggyIPs: true, autoAssign: false }));
    await createService(a, svc('edge', { annotations: { 'ballast.io/address-pool': 'buggy' } }));
    expect((await waitForEvent(a, ns, 'Service', 'edge', 'AllocationFailed')).message).toContain('no free');
    await a.core.patchNamespacedService({ namespace: ns, name: 'edge', body: { metadata: { annotations: { 'ballast.io/address-pool': 'buggy', 'ballast.io/loadBalancerIPs': '203.0.113.255' } } } }, merge);
    expect((await waitForEvent(a, ns, 'Service', 'edge', 'AllocationFailed', 'avoidBuggyIPs')).message).toContain('203.0.113.255');
  });
});
