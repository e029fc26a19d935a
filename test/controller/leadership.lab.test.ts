// Leadership terms of the real controller process, with a fault-injecting
// proxy between each replica and the API server: a blip that costs the lease
// while status writes are in flight, a write held up until its term is over,
// and a new leader whose watch lags behind the old leader's writes. What a
// user could see go wrong is checked from the API (a client-side watch): no IP
// on two Services that may not share it, and the controller still answering
// after the blip.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FaultProxy, kubeConfigFromHandle, sleep, uniqueName, waitFor, type RequestMatch } from '../lab/index.ts';
import { api, createService, ingressIPs, metricsText, poolObject, startController, waitForEvent, waitForIngress, type ControllerProcess } from './harness.ts';
import { ServiceWatch } from './service-watch.ts';

const handle = inject('controlPlane');
const kc = kubeConfigFromHandle(handle);
const a = api(kc);
const started: ControllerProcess[] = [];
const proxies: FaultProxy[] = [];
const namespaces: string[] = [];
const watches: ServiceWatch[] = [];

// Short timings keep the tests quick: lease 3 s, renew deadline 2 s, retry 0.5 s.
const LEASE = ['--lease-duration=3s', '--renew-deadline=2s', '--retry-period=500ms'];
const STATUS_WRITES: RequestMatch = { method: 'PATCH', path: /\/services\/[^/]+\/status$/ };
const LEASES: RequestMatch = { path: '/leases/' };
/** The watch of Services that follows a sync, not a sync itself (a stream of the whole state, or a list). */
const SERVICE_WATCHES: RequestMatch = { path: /\/services$/, watch: true, where: (r) => !r.query.has('sendInitialEvents') };
const BLIP = { kind: 'fail', status: 503, reason: 'ServiceUnavailable', message: 'injected: API server blip' } as const;

afterAll(async () => {
  for (const w of watches) w.stop();
  await Promise.all(started.map((c) => c.stop()));
  await Promise.all(proxies.map((p) => p.close()));
  for (const ns of namespaces) await a.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

async function setUp(prefix: string, addresses: string[]): Promise<{ ns: string; cls: string; watch: ServiceWatch }> {
  const ns = uniqueName(prefix);
  await a.core.createNamespace({ body: { metadata: { name: ns } } });
  namespaces.push(ns);
  await a.objects.create(poolObject(ns, 'pool', addresses));
  const watch = new ServiceWatch(kc, ns);
  await watch.start();
  watches.push(watch);
  return { ns, cls: `ballast.io/${ns}`, watch };
}

async function proxy(): Promise<FaultProxy> {
  const p = await FaultProxy.forControlPlane(handle);
  proxies.push(p);
  return p;
}

/** A replica of the controller that reaches the API server through the proxy. */
async function replica(ns: string, cls: string, instance: string, via: FaultProxy): Promise<ControllerProcess> {
  const c = await startController(handle, {
    namespace: ns,
    loadBalancerClass: cls,
    instance,
    leaderElect: true,
    kubeconfig: via.writeKubeconfig(join(handle.dir, `${ns}-${instance}.kubeconfig`)),
    extraArgs: ['--lease-name', `lease-${ns}`, ...LEASE],
  });
  started.push(c);
  return c;
}

/** Two proxies, and the first replica (through the first proxy) leading. */
async function firstLeader(ns: string, cls: string, prefix: string): Promise<{ p1: FaultProxy; p2: FaultProxy; r1: ControllerProcess }> {
  const [p1, p2] = [await proxy(), await proxy()];
  const r1 = await replica(ns, cls, `${prefix}-1`, p1);
  await waitFor('replica 1 to lead', () => leads(r1), { timeoutMs: 15_000 });
  return { p1, p2, r1 };
}

const logLines = (c: ControllerProcess, msg: string): number => readFileSync(c.proc.logFile, 'utf8').split('\n').filter((l) => l.includes(`"msg":"${msg}`)).length;
const leads = async (c: ControllerProcess): Promise<boolean> => /^ballast_controller_leader 1$/m.test(await metricsText(c));

describe('leadership terms', () => {
  it('loses and regains the lease with a status write in flight: the new term handles what comes after, and the leader gauge says so', async () => {
    const { ns, cls, watch } = await setUp('blip', ['2001:db8:100:3::/120']);
    const p = await proxy();
    const r = await replica(ns, cls, 'blip-1', p);
    await waitFor('the replica to lead', () => leads(r), { timeoutMs: 15_000 });
    await createService(a, { name: 'before', namespace: ns, loadBalancerClass: cls, families: ['IPv6'] });
    await waitForIngress(a, ns, 'before', (ips) => ips.length === 1);

    // A status write in flight (held in the network) …
    const held = p.add({ match: STATUS_WRITES, action: { kind: 'hold' } });
    await createService(a, { name: 'during', namespace: ns, loadBalancerClass: cls, families: ['IPv6'] });
    await waitFor('the write for "during" to be in flight', () => held.holding >= 1);
    // … when the lease cannot be renewed: the term ends at the renew deadline.
    const blip = p.add({ match: LEASES, action: BLIP });
    await waitFor('the term to end', () => logLines(r, 'stopped leading') >= 1, { timeoutMs: 10_000 });
    blip.remove();
    await waitFor('a second term', () => logLines(r, 'restored assignments') >= 2, { timeoutMs: 20_000 });
    // What was held goes on now (where its client still waits for it).
    held.remove();
    held.release();

    await createService(a, { name: 'after', namespace: ns, loadBalancerClass: cls, families: ['IPv6'] });
    await waitForIngress(a, ns, 'after', (ips) => ips.length === 1, 'an IP after the blip');
    await waitForIngress(a, ns, 'during', (ips) => ips.length === 1, 'an IP after the blip');
    expect(await leads(r)).toBe(true);
    expect(watch.violations).toEqual([]);
  });

  it('a status write held up until its term is over never lands: the next leader’s decisions stand', async () => {
    // Two addresses. The first leader gives the lower one to "z1", but that write is held up; the second
    // leader starts with "a2" (newer, listed first) and "z1" both pending and gives the lower one to "a2".
    const { ns, cls, watch } = await setUp('fence', ['2001:db8:100:4::/127']);
    const { p1, p2, r1 } = await firstLeader(ns, cls, 'fence');
    const held1 = p1.add({ match: STATUS_WRITES, action: { kind: 'hold' } });
    await createService(a, { name: 'z1', namespace: ns, loadBalancerClass: cls, families: ['IPv6'] });
    await waitFor('replica 1’s write for z1 to be in flight', () => held1.holding >= 1);
    p1.add({ match: LEASES, action: BLIP });
    await waitFor('replica 1’s term to end', () => logLines(r1, 'stopped leading') >= 1, { timeoutMs: 10_000 });

    await createService(a, { name: 'a2', namespace: ns, loadBalancerClass: cls, families: ['IPv6'] });
    const r2 = await replica(ns, cls, 'fence-2', p2);
    const held2 = p2.add({ match: STATUS_WRITES, action: { kind: 'hold' } });
    await waitFor('replica 2 to lead with both writes in flight', async () => (await leads(r2)) && held2.holding >= 2, { timeoutMs: 20_000 });

    // The old term's write is let through first: it must not reach the API server any more …
    held1.remove();
    held1.release();
    await sleep(1_000);
    // … so the new leader's writes are the ones that land.
    held2.remove();
    held2.release();
    await waitFor('both Services to have their IP', async () => {
      const list = await a.core.listNamespacedService({ namespace: ns });
      return list.items.length === 2 && list.items.every((s) => ingressIPs(s).length === 1);
    }, { timeoutMs: 20_000 });
    const ips = (await a.core.listNamespacedService({ namespace: ns })).items.map((s) => ingressIPs(s)[0]);
    expect(new Set(ips).size).toBe(2);
    expect(watch.violations).toEqual([]);
  });

  it('a new leader whose watch lags behind the old leader’s writes reads fresh before it allocates', async () => {
    // One address. The old leader moves it from "hold-x" (deleted) to "a"; the new leader's watch stopped
    // before it saw that, and "b" comes first in its cache.
    const { ns, cls, watch } = await setUp('fresh', ['2001:db8:100:5::/128']);
    const { p1, p2, r1 } = await firstLeader(ns, cls, 'fresh');
    const r2 = await replica(ns, cls, 'fresh-2', p2);
    await createService(a, { name: 'hold-x', namespace: ns, loadBalancerClass: cls, families: ['IPv6'] });
    await waitForIngress(a, ns, 'hold-x', (ips) => ips.length === 1);
    for (const name of ['b', 'a']) {
      await createService(a, { name, namespace: ns, loadBalancerClass: cls, families: ['IPv6'] });
      await waitForEvent(a, ns, 'Service', name, 'AllocationFailed');
    }
    const held1 = p1.add({ match: STATUS_WRITES, action: { kind: 'hold' } });
    await a.core.deleteNamespacedService({ namespace: ns, name: 'hold-x' });
    await waitFor('replica 1’s write giving the address to "a"', () => held1.holding >= 1);
    await sleep(1_000); // replica 2's watch brings the delete

    // Replica 2's watch of Services breaks and stays broken: its cache stops here.
    const frozen = p2.add({ match: SERVICE_WATCHES, action: BLIP });
    expect(p2.cut({ path: /\/services$/, watch: true })).toBeGreaterThan(0);
    held1.remove();
    held1.release();
    await waitForIngress(a, ns, 'a', (ips) => ips.length === 1);

    p1.add({ match: LEASES, action: BLIP });
    await waitFor('replica 2 to lead', () => leads(r2), { timeoutMs: 20_000 });
    await waitFor('replica 2 to have decided', () => logLines(r2, 'restored assignments') >= 1);
    await sleep(2_000);
    const b = await a.core.readNamespacedServiceStatus({ namespace: ns, name: 'b' });
    expect(ingressIPs(b)).toEqual([]);
    expect(watch.violations).toEqual([]);
    frozen.remove();
  });
});
