// The controller against the lab's real API server: each allocation rule,
// observed through the API as a user would (Service status, Events, pool
// status), never through the allocator's memory.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeConfigFromHandle, run, findBinaries, uniqueName, waitFor, describeApiError } from '../lab/index.ts';
import { api, createService, eventsFor, hasIPs, ingressIPs, metricsText, poolObject, readPool, startController, waitForEvent, waitForIngress, type ControllerProcess, type ServiceSpec } from './harness.ts';

const handle = inject('controlPlane');
const a = api(kubeConfigFromHandle(handle));
const ns = uniqueName('alloc');
const cls = `ballast.io/${ns}`;
let controller: ControllerProcess;

const svc = (name: string, s: Partial<ServiceSpec> = {}): ServiceSpec => ({ name, namespace: ns, loadBalancerClass: cls, ...s });

beforeAll(async () => {
  await a.core.createNamespace({ body: { metadata: { name: ns, labels: { team: 'blue' } } } });
  controller = await startController(handle, { namespace: ns, loadBalancerClass: cls });
});
afterAll(async () => {
  await controller?.stop();
  await a.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

describe('allocation', () => {
  it('assigns the lowest free address with ipMode VIP and records an IPAllocated event', async () => {
    await a.objects.create(poolObject(ns, 'main', ['203.0.113.0/28', '2001:db8:100::/120']));
    await createService(a, svc('web'));
    const web = await waitForIngress(a, ns, 'web', hasIPs(1));
    expect(web.status?.loadBalancer?.ingress).toEqual([{ ip: '203.0.113.0', ipMode: 'VIP' }]);
    const ev = await waitForEvent(a, ns, 'Service', 'web', 'IPAllocated');
    expect(ev).toMatchObject({ type: 'Normal', message: 'assigned 203.0.113.0 from pool "main"', source: controller.instance });
  });

  it('leaves Services of another class (or none) alone', async () => {
    await createService(a, svc('other', { loadBalancerClass: 'example.com/other' }));
    await createService(a, { name: 'classless', namespace: ns });
    await createService(a, svc('probe'));
    await waitForIngress(a, ns, 'probe', hasIPs(1));
    for (const name of ['other', 'classless']) {
      expect(ingressIPs(await a.core.readNamespacedServiceStatus({ namespace: ns, name }))).toEqual([]);
      expect(await eventsFor(a, ns, 'Service', name)).toEqual([]);
    }
  });

  it('gives a RequireDualStack Service one address of each family from one pool, IPv4 first', async () => {
    await createService(a, svc('dual', { families: ['IPv6', 'IPv4'], policy: 'RequireDualStack' }));
    const dual = await waitForIngress(a, ns, 'dual', hasIPs(2));
    expect(ingressIPs(dual)[0]).toMatch(/^203\.0\.113\./);
    expect(ingressIPs(dual)[1]).toMatch(/^2001:db8:100::/);
  });

  it('honours ballast.io/loadBalancerIPs and spec.loadBalancerIP, and MetalLB annotations with a Warning naming the new key', async () => {
    await createService(a, svc('req', { annotations: { 'ballast.io/loadBalancerIPs': '203.0.113.9' } }));
    await createService(a, svc('legacy', { annotations: { 'metallb.universe.tf/loadBalancerIPs': '203.0.113.10' } }));
    await createService(a, svc('spec', { loadBalancerIP: '203.0.113.11' }));
    expect(ingressIPs(await waitForIngress(a, ns, 'req', hasIPs(1)))).toEqual(['203.0.113.9']);
    expect(ingressIPs(await waitForIngress(a, ns, 'legacy', hasIPs(1)))).toEqual(['203.0.113.10']);
    expect(ingressIPs(await waitForIngress(a, ns, 'spec', hasIPs(1)))).toEqual(['203.0.113.11']);
    const warning = await waitForEvent(a, ns, 'Service', 'legacy', 'DeprecatedAnnotation');
    expect(warning.type).toBe('Warning');
    expect(warning.message).toContain('use "ballast.io/loadBalancerIPs"');
  });

  it('explains each failure on the Service: IP outside every pool, IP held by another, two of one family, unknown pool', async () => {
    await createService(a, svc('outside', { annotations: { 'ballast.io/loadBalancerIPs': '198.51.100.77' } }));
    await createService(a, svc('taken', { annotations: { 'ballast.io/loadBalancerIPs': '203.0.113.9' } }));
    await createService(a, svc('twice', { annotations: { 'ballast.io/loadBalancerIPs': '203.0.113.12,203.0.113.13' } }));
    await createService(a, svc('nopool', { annotations: { 'ballast.io/address-pool': 'does-not-exist' } }));
    expect((await waitForEvent(a, ns, 'Service', 'outside', 'AllocationFailed')).message).toBe('requested IP 198.51.100.77 is in no IPAddressPool');
    expect((await waitForEvent(a, ns, 'Service', 'taken', 'AllocationFailed')).message).toContain(`${ns}/req`);
    expect((await waitForEvent(a, ns, 'Service', 'twice', 'InvalidService')).message).toContain('at most one per family');
    expect((await waitForEvent(a, ns, 'Service', 'nopool', 'AllocationFailed')).message).toBe('pool "does-not-exist" does not exist');
    for (const name of ['outside', 'taken', 'twice', 'nopool']) expect(ingressIPs(await a.core.readNamespacedServiceStatus({ namespace: ns, name }))).toEqual([]);
  });

  it('shares an IP between Services with one sharing key and disjoint ports, and refuses overlapping ports with the reason', async () => {
    const key = { 'ballast.io/allow-shared-ip': 'front' };
    await createService(a, svc('share-http', { annotations: { ...key, 'ballast.io/loadBalancerIPs': '203.0.113.14' }, ports: [80] }));
    await createService(a, svc('share-dns', { annotations: key, ports: [{ port: 53, protocol: 'UDP' }] }));
    await createService(a, svc('share-clash', { annotations: { ...key, 'ballast.io/loadBalancerIPs': '203.0.113.14' }, ports: [80] }));
    expect(ingressIPs(await waitForIngress(a, ns, 'share-http', hasIPs(1)))).toEqual(['203.0.113.14']);
    expect(ingressIPs(await waitForIngress(a, ns, 'share-dns', hasIPs(1)))).toEqual(['203.0.113.14']);
    const clash = await waitForEvent(a, ns, 'Service', 'share-clash', 'AllocationFailed');
    expect(clash.message).toContain('TCP/80');
  });

  it('releases the IP when a Service stops being a LoadBalancer and gives it to the next one', async () => {
    const before = ingressIPs(await waitForIngress(a, ns, 'probe', hasIPs(1)))[0]!;
    await a.core.patchNamespacedService(
      { namespace: ns, name: 'probe', body: { spec: { type: 'ClusterIP', loadBalancerClass: null, allocateLoadBalancerNodePorts: null } } },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    ).catch((e: unknown) => {
      throw new Error(describeApiError(e));
    });
    await waitForIngress(a, ns, 'probe', hasIPs(0), 'status to be cleared');
    await createService(a, svc('reuse', { annotations: { 'ballast.io/loadBalancerIPs': before } }));
    expect(ingressIPs(await waitForIngress(a, ns, 'reuse', hasIPs(1)))).toEqual([before]);
  });

  it('shows pool usage in kubectl get ipaddresspools and in the metrics', async () => {
    // Earlier tests' Services may still be settling: wait for one count that the status, the table and the metric
    // all show, then check each of them against it.
    const seen = await waitFor('pool status, kubectl table and metric to agree', async () => {
      const p = await readPool(a, ns, 'main');
      const assigned = p.status?.assignedIPv4 ?? 0;
      if (assigned < 5) return undefined;
      const table = await run([findBinaries().kubectl, '--kubeconfig', handle.kubeconfig, 'get', 'ipaddresspools', '-n', ns]);
      const text = await metricsText(controller);
      const again = (await readPool(a, ns, 'main')).status?.assignedIPv4;
      return again === assigned && text.includes(`ballast_pool_addresses_in_use{pool="main",family="IPv4"} ${assigned}\n`) ? { pool: p, assigned, table } : undefined;
    });
    const { pool, assigned, table } = seen;
    expect(pool.status!.availableIPv4).toBe(16 - assigned);
    expect(pool.status!.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Allocating' });
    expect(table.split('\n')[0]).toMatch(/NAME\s+ADDRESSES\s+AUTO ASSIGN\s+IPV4 USED\s+IPV4 FREE\s+IPV6 USED\s+IPV6 FREE\s+READY/);
    expect(table).toMatch(new RegExp(`main\\s+\\["203.0.113.0/28","2001:db8:100::/120"\\]\\s+true\\s+${assigned}\\s+${16 - assigned}\\s+1\\s+255\\s+True`));
  });
});
