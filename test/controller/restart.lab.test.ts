// Restart safety and high availability with the real controller process:
// SIGKILL during Service churn changes no IP; of two replicas one writes.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeConfigFromHandle, uniqueName, waitFor, sleep } from '../lab/index.ts';
import { api, createService, eventsFor, ingressIPs, metricsText, poolObject, startController, type ControllerProcess } from './harness.ts';
import { ServiceWatch } from './service-watch.ts';

const handle = inject('controlPlane');
const kc = kubeConfigFromHandle(handle);
const a = api(kc);
const started: ControllerProcess[] = [];
const namespaces: string[] = [];

async function namespace(prefix: string): Promise<string> {
  const ns = uniqueName(prefix);
  await a.core.createNamespace({ body: { metadata: { name: ns } } });
  namespaces.push(ns);
  return ns;
}
async function controller(...args: Parameters<typeof startController>): Promise<ControllerProcess> {
  const c = await startController(...args);
  started.push(c);
  return c;
}

afterAll(async () => {
  await Promise.all(started.map((c) => c.stop()));
  for (const ns of namespaces) await a.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

describe('restart safety', () => {
  it('SIGKILLed and restarted twice during Service churn, the controller changes no IP and double-books none', async () => {
    const ns = await namespace('restart');
    const cls = `ballast.io/${ns}`;
    // IPv6 Services: the lab's IPv4 ClusterIP range is small. A /122 (64 addresses) keeps freed IPs in play.
    await a.objects.create(poolObject(ns, 'churn', ['2001:db8:100:1::/122']));
    const watch = new ServiceWatch(kc, ns);
    await watch.start();
    let c = await controller(handle, { namespace: ns, loadBalancerClass: cls });

    let created = 0;
    const alive: string[] = [];
    let churning = true;
    const churn = (async () => {
      while (churning) {
        if (alive.length > 30 || (alive.length > 5 && Math.random() < 0.3)) {
          const victim = alive.splice(Math.floor(Math.random() * alive.length), 1)[0]!;
          await a.core.deleteNamespacedService({ namespace: ns, name: victim });
        } else {
          const name = `s${created++}`;
          await createService(a, { name, namespace: ns, loadBalancerClass: cls, families: ['IPv6'] });
          alive.push(name);
        }
        await sleep(20);
      }
    })();

    for (let round = 0; round < 2; round++) {
      await sleep(1_500);
      c.proc.kill('SIGKILL');
      await c.proc.exited;
      await sleep(300); // churn goes on with no controller
      c = await controller(handle, { namespace: ns, loadBalancerClass: cls, instance: `${c.instance}-r${round}` });
    }
    await sleep(1_500);
    churning = false;
    await churn;

    await waitFor('every live Service to have an IP', async () => {
      const list = await a.core.listNamespacedService({ namespace: ns });
      return list.items.length === alive.length && list.items.every((s) => ingressIPs(s).length === 1);
    });
    watch.stop();
    expect(created).toBeGreaterThan(60);
    expect(watch.firstIPs.size).toBeGreaterThan(50);
    expect(watch.violations).toEqual([]);
  });
});

describe('two replicas', () => {
  it('exactly one writes; when it is SIGKILLed the other takes over after the lease and changes nothing', async () => {
    const ns = await namespace('ha');
    const cls = `ballast.io/${ns}`;
    await a.objects.create(poolObject(ns, 'ha', ['2001:db8:100:2::/120']));
    const lease = ['--lease-name', `lease-${ns}`, '--lease-duration=3s', '--renew-deadline=2s', '--retry-period=500ms'];
    const r1 = await controller(handle, { namespace: ns, loadBalancerClass: cls, instance: 'replica-1', leaderElect: true, extraArgs: lease });
    const r2 = await controller(handle, { namespace: ns, loadBalancerClass: cls, instance: 'replica-2', leaderElect: true, extraArgs: lease });
    for (let i = 0; i < 10; i++) await createService(a, { name: `a${i}`, namespace: ns, loadBalancerClass: cls, families: ['IPv6'] });
    await waitFor('10 Services with IPs', async () => (await a.core.listNamespacedService({ namespace: ns })).items.filter((s) => ingressIPs(s).length === 1).length === 10);

    const leaderOf = async (): Promise<string[]> => {
      const flags = await Promise.all([r1, r2].map(async (r) => (/^ballast_controller_leader 1$/m.test(await metricsText(r)) ? r.instance : '')));
      return flags.filter(Boolean);
    };
    const leaders = await leaderOf();
    expect(leaders).toHaveLength(1);
    const writers = new Set<string>();
    for (let i = 0; i < 10; i++) for (const e of await eventsFor(a, ns, 'Service', `a${i}`)) if (e.reason === 'IPAllocated') writers.add(e.source);
    expect([...writers]).toEqual(leaders);

    const watch = new ServiceWatch(kc, ns);
    await watch.start();
    const [leader, standby] = leaders[0] === r1.instance ? [r1, r2] : [r2, r1];
    leader.proc.kill('SIGKILL');
    const killedAt = Date.now();
    for (let i = 0; i < 5; i++) await createService(a, { name: `b${i}`, namespace: ns, loadBalancerClass: cls, families: ['IPv6'] });
    await waitFor('the standby to allocate the new Services', async () => (await a.core.listNamespacedService({ namespace: ns })).items.filter((s) => ingressIPs(s).length === 1).length === 15, { timeoutMs: 30_000 });
    const takeover = Date.now() - killedAt;
    expect(/^ballast_controller_leader 1$/m.test(await metricsText(standby))).toBe(true);
    for (let i = 0; i < 5; i++) expect((await eventsFor(a, ns, 'Service', `b${i}`)).find((e) => e.reason === 'IPAllocated')?.source).toBe(standby.instance);
    watch.stop();
    expect(watch.violations).toEqual([]);
    // The lease is 3 s: the standby may not start before it expires, and should start soon after.
    expect(takeover).toBeGreaterThan(2_000);
    expect(takeover).toBeLessThan(10_000);
  });
});
