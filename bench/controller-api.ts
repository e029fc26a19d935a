// Allocation against the lab's real API server: the real controller process
// and a private etcd + kube-apiserver (DESIGN §5 target: 5 000 Services with IPs
// in status ≤ 15 s). Two scenarios in one run:
//   A. the controller runs while 5 000 Services are created (32 clients);
//   B. 5 000 Services exist without IPs, then the controller starts.
// A is bounded by how fast the API server accepts creates on this machine
// (also measured), B by how fast the controller decides and writes.
//
//   node bench/controller-api.ts [count]
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { ControlPlane, REPO_ROOT, sleep } from '../test/lab/index.ts';
import { poolObject, serviceObject, startController } from '../test/controller/harness.ts';
import { objectClient, RESOURCES, type ApiAccess } from '../shared/k8s/index.ts';
import { formatBenchTable, type BenchResult } from './result.ts';

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function createServices(access: ApiAccess, ns: string, count: number, loadBalancerClass?: string): Promise<number> {
  // shared/k8s's client reuses connections (client-node's makes a TLS handshake per request).
  const services = objectClient(access, RESOURCES.service);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < count; i = next++) {
        const r = await services.create(serviceObject({ name: `s${i}`, namespace: ns, families: ['IPv6'], loadBalancerClass }));
        if (!r.ok) throw new Error(`creating ${ns}/s${i}: ${r.error.message}`);
      }
    }),
  );
  return performance.now() - t0;
}

/** Polls until every Service in ns has an IP; returns ms since t0 and the distinct IPs. */
async function untilAllHaveIPs(core: k8s.CoreV1Api, ns: string, count: number, t0: number): Promise<{ ms: number; distinct: number }> {
  for (;;) {
    await sleep(200);
    const list = await core.listNamespacedService({ namespace: ns, resourceVersion: '0' });
    const ips = list.items.map((s) => s.status?.loadBalancer?.ingress?.[0]?.ip).filter(Boolean);
    if (ips.length === count) return { ms: performance.now() - t0, distinct: new Set(ips).size };
    if (performance.now() - t0 > 300_000) throw new Error(`only ${ips.length} of ${count} Services in ${ns} had IPs after 300 s`);
  }
}

export async function runControllerApiBench(count = 5_000): Promise<BenchResult[]> {
  const cp = await ControlPlane.start({ manifests: [join(REPO_ROOT, 'deploy', 'crds')], controllerManager: false });
  try {
    const kc = cp.kubeConfig();
    const access = cp.access();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const rows: BenchResult[] = [];

    // The floor: creates alone, no controller.
    await core.createNamespace({ body: { metadata: { name: 'floor' } } });
    const floorMs = await createServices(access, 'floor', 1_000);
    rows.push({ name: 'API server alone: creates per second', value: 1_000 / (floorMs / 1000), unit: '/s', note: `1 000 Services, 32 clients, no controller: creating ${count} takes ≈${((count * floorMs) / 1_000_000).toFixed(0)} s here before any allocation` });
    await core.deleteCollectionNamespacedService({ namespace: 'floor' });

    // A: created while the controller runs. IPv6: the documentation IPv4 ranges hold a few hundred addresses.
    await core.createNamespace({ body: { metadata: { name: 'bench' } } });
    await objects.create(poolObject('bench', 'bench', ['2001:db8:100:8::/64']));
    // Each scenario's Services have their own class, so one scenario's controller never touches another's.
    let controller = await startController(cp.handle(), { namespace: 'bench', loadBalancerClass: 'bench.example/a', extraArgs: ['--log-level=info'] });
    const idleRss = rssMiB(controller.proc.pid);
    const t0 = performance.now();
    const created = createServices(access, 'bench', count, 'bench.example/a');
    const a = await untilAllHaveIPs(core, 'bench', count, t0);
    const createMs = await created;
    rows.push({ name: `A: ${count} Services created with the controller running → all with an IP`, value: a.ms / 1000, unit: 's', note: 'target ≤ 15 s; from the first create; bounded by the create rate above' });
    rows.push({ name: 'A: last IP after the last create', value: (a.ms - createMs) / 1000, unit: 's', note: `the controller keeps pace (creates took ${(createMs / 1000).toFixed(1)} s; polled every 200 ms)` });
    rows.push({ name: 'A: distinct IPs', value: a.distinct, unit: '', note: `of ${count}` });
    rows.push({ name: 'controller RSS idle / with 5 000 Services', value: rssMiB(controller.proc.pid), unit: 'MiB', note: `${idleRss.toFixed(0)} MiB idle (run as .ts with type stripping)` });
    await controller.stop();

    // B: the Services are there, without IPs; then the controller starts.
    await core.createNamespace({ body: { metadata: { name: 'cold' } } });
    await objects.create(poolObject('cold', 'cold', ['2001:db8:100:9::/64']));
    await createServices(access, 'cold', count, 'bench.example/b');
    const t1 = performance.now();
    controller = await startController(cp.handle(), { namespace: 'cold', loadBalancerClass: 'bench.example/b', extraArgs: ['--log-level=info'] });
    const b = await untilAllHaveIPs(core, 'cold', count, t1);
    rows.push({ name: `B: controller started with ${count} Services waiting → all with an IP`, value: b.ms / 1000, unit: 's', note: 'target ≤ 15 s; from process start (includes its start-up and initial list)' });
    await controller.stop();

    // C: restart with every IP assigned: time until nothing is left to do, and no IP may change.
    const before = new Map((await core.listNamespacedService({ namespace: 'cold' })).items.map((s) => [s.metadata!.name!, s.status?.loadBalancer?.ingress?.[0]?.ip]));
    const t2 = performance.now();
    controller = await startController(cp.handle(), { namespace: 'cold', loadBalancerClass: 'bench.example/b', extraArgs: ['--log-level=info'] });
    const readyMs = performance.now() - t2;
    await sleep(2_000);
    const after = (await core.listNamespacedService({ namespace: 'cold' })).items;
    const changed = after.filter((s) => before.get(s.metadata!.name!) !== s.status?.loadBalancer?.ingress?.[0]?.ip).length;
    rows.push({ name: `C: restart with ${count} assigned → ready`, value: readyMs / 1000, unit: 's', note: `IPs changed by the restart: ${changed}` });
    await controller.stop();
    return rows;
  } finally {
    await cp.stop();
  }
}

if (import.meta.main) {
  console.log(formatBenchTable(await runControllerApiBench(Number(process.argv[2] ?? 5_000))));
}
