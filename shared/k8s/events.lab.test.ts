// Events against a real API server, read back the way `kubectl describe` reads them.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CoreV1Event, V1Service } from '@kubernetes/client-node';
import { accessFromHandle, accessFromKubeconfig, findBinaries, run, serviceAccountKubeconfig, uniqueName } from '../../test/lab/index.ts';
import { createLogger } from '../observability/index.ts';
import { createEventRecorder, objectClient, RESOURCES, type ApiObject } from './index.ts';

const handle = inject('controlPlane');
const access = accessFromHandle(handle);
const events = objectClient(access, RESOURCES.event);

// kubectl describe's query: involvedObject name, namespace, kind and uid (k8s.io/kubectl/pkg/describe, searchEvents).
async function eventsAbout(obj: ApiObject): Promise<CoreV1Event[]> {
  const m = obj.metadata!;
  const r = await events.list({
    namespace: m.namespace ?? 'default',
    fieldSelector: `involvedObject.name=${m.name},involvedObject.namespace=${m.namespace ?? ''},involvedObject.kind=${obj.kind},involvedObject.uid=${m.uid}`,
  });
  if (!r.ok) throw new Error(r.error.message);
  return r.value.items;
}

describe('EventRecorder', () => {
  const ns = uniqueName('events');
  let seq = 0;

  async function newService(): Promise<V1Service> {
    const r = await objectClient(access, RESOURCES.service).create({
      metadata: { namespace: ns, name: `svc-${seq++}` },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    });
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  }

  beforeAll(async () => {
    await objectClient(access, RESOURCES.namespace).create({ metadata: { name: ns } });
  });
  afterAll(async () => {
    await objectClient(access, RESOURCES.namespace).delete({ name: ns });
  });

  it('writes Normal and Warning events that kubectl describe lists on the Service; repeats aggregate into one Event with a count', async () => {
    const svc = await newService();
    const recorder = createEventRecorder(access, { component: 'ballast-controller', instance: 'controller-0' });
    for (let i = 0; i < 5; i++) recorder.normal(svc, 'IPAllocated', 'Assigned IP ["203.0.113.5"]');
    recorder.warning(svc, 'AllocationFailed', 'no available IPs in pool "default"');
    await recorder.flush();

    const got = await eventsAbout(svc);
    expect(got).toHaveLength(2);
    const allocated = got.find((e) => e.reason === 'IPAllocated');
    expect(allocated).toMatchObject({
      type: 'Normal',
      count: 5,
      message: 'Assigned IP ["203.0.113.5"]',
      source: { component: 'ballast-controller', host: 'controller-0' },
      reportingComponent: 'ballast-controller',
      reportingInstance: 'controller-0',
      involvedObject: { apiVersion: 'v1', kind: 'Service', name: svc.metadata!.name, namespace: ns, uid: svc.metadata!.uid },
    });
    expect(got.find((e) => e.reason === 'AllocationFailed')).toMatchObject({ type: 'Warning', count: 1 });
    expect(recorder.stats()).toMatchObject({ created: 2, dropped: 0, failed: 0 });

    const described = await run([findBinaries().kubectl, '--kubeconfig', handle.kubeconfig, 'describe', 'service', '-n', ns, svc.metadata!.name!]);
    const section = described.slice(described.indexOf('Events:'));
    expect(section).toMatch(/Normal\s+IPAllocated\s+\S+ \(x5 over \S+\)\s+ballast-controller\s+Assigned IP \["203\.0\.113\.5"\]/);
    expect(section).toMatch(/Warning\s+AllocationFailed\s+\S+\s+ballast-controller\s+no available IPs in pool "default"/);
    await recorder.close();
  });

  it('a hot loop cannot flood the API server: identical events cost a few writes with an exact count, distinct ones are capped per object', async () => {
    const svc = await newService();
    const recorder = createEventRecorder(access, { component: 'ballast-controller', instance: 'controller-0', perObjectBurst: 10 });
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) recorder.warning(svc, 'SyncFailed', 'pool "p" does not exist');
    for (let i = 0; i < 500; i++) recorder.normal(svc, 'Tick', `tick ${i}`);
    const recordMs = performance.now() - started;
    await recorder.flush();

    expect(recordMs).toBeLessThan(500); // recording does not wait for the API server
    const got = await eventsAbout(svc);
    expect(got.find((e) => e.reason === 'SyncFailed')?.count).toBe(10_000);
    // 10 new distinct events per object at once: SyncFailed and 9 Ticks.
    expect(got).toHaveLength(10);
    const stats = recorder.stats();
    expect(stats.created).toBe(10);
    expect(stats.dropped).toBe(491);
    expect(stats.patched).toBeLessThanOrEqual(3);
    await recorder.close();
  });

  it('bounds the write rate across objects (burst, then writesPerSecond)', async () => {
    const services = await Promise.all(Array.from({ length: 6 }, () => newService()));
    const recorder = createEventRecorder(access, { component: 'ballast-controller', instance: 'controller-0', writeBurst: 2, writesPerSecond: 5 });
    const started = performance.now();
    for (const svc of services) recorder.normal(svc, 'IPAllocated', 'assigned');
    await recorder.flush();
    // 2 at once, the other 4 at 5/s: at least 800 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(780);
    expect(recorder.stats().created).toBe(6);
  });

  it('events about a cluster-scoped object go to the default namespace', async () => {
    const nsObj = await objectClient(access, RESOURCES.namespace).get({ name: ns });
    if (!nsObj.ok) throw new Error(nsObj.error.message);
    const recorder = createEventRecorder(access, { component: 'ballast-speaker', instance: 'node1' });
    recorder.normal(nsObj.value, 'Observed', 'seen');
    await recorder.flush();
    expect((await eventsAbout(nsObj.value)).map((e) => [e.metadata.namespace, e.reason, e.count])).toEqual([['default', 'Observed', 1]]);
  });

  it('never throws into the caller: a refused write (RBAC) is logged and counted, invalid input is dropped with an error log', async () => {
    const svc = await newService();
    const saAccess = accessFromKubeconfig(await serviceAccountKubeconfig(handle, ns, 'no-events'));
    const lines: string[] = [];
    const logger = createLogger({ component: 'test', level: 'warn', destination: { write: (s: string) => void lines.push(s) } });
    const recorder = createEventRecorder(saAccess, { component: 'ballast-controller', instance: 'c', logger });
    expect(() => recorder.normal(svc, 'IPAllocated', 'x')).not.toThrow();
    await recorder.flush();
    expect(recorder.stats()).toMatchObject({ created: 0, failed: 1 });
    const warned = lines.map((l) => JSON.parse(l) as { msg: string; error?: string });
    expect(warned).toEqual([expect.objectContaining({ msg: 'could not write event', error: expect.stringMatching(/^403 Forbidden: events is forbidden: User "system:serviceaccount:/) })]);

    // Not from the API (no kind), and a reason that is not CamelCase despite the type: bugs, logged, not thrown.
    expect(() => recorder.normal({ metadata: { name: 'x' } }, 'Fine', 'x')).not.toThrow();
    expect(() => recorder.normal(svc, 'not camel' as 'X', 'x')).not.toThrow();
    expect(recorder.stats().dropped).toBe(2);
    expect(lines.filter((l) => l.includes('invalid event dropped'))).toHaveLength(2);
  });
});
