// Allocation against the lab's real API server: the real controller process
// and a private etcd + kube-apiserver; time from the first create until 5 000
// Services all show an IP in status (DESIGN §5 target: ≤ 15 s).
//
//   node bench/controller-api.ts [count]    (root not needed)
import * as k8s from '@kubernetes/client-node';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { ControlPlane, REPO_ROOT, sleep } from '../test/lab/index.ts';
import { poolObject, serviceObject, startController } from '../test/controller/harness.ts';
import { formatBenchTable, type BenchResult } from './result.ts';

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function runControllerApiBench(count = 5_000): Promise<BenchResult[]> {
  const cp = await ControlPlane.start({ manifests: [join(REPO_ROOT, 'deploy', 'crds')], controllerManager: false });
  try {
    const kc = cp.kubeConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const ns = 'bench';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    // IPv6 Services: the documentation IPv4 ranges hold a few hundred addresses, a /64 holds them all.
    await objects.create(poolObject(ns, 'bench', ['2001:db8:100:8::/64']));
    const controller = await startController(cp.handle(), { namespace: ns, extraArgs: ['--log-level=info'] });
    const idleRss = rssMiB(controller.proc.pid);

    const t0 = performance.now();
    let next = 0;
    const creator = async (): Promise<void> => {
      for (let i = next++; i < count; i = next++) {
        await core.createNamespacedService({ namespace: ns, body: serviceObject({ name: `s${i}`, namespace: ns, families: ['IPv6'] }) });
      }
    };
    const created = Promise.all(Array.from({ length: 32 }, creator)).then(() => performance.now() - t0);
    let allDone = NaN;
    let lastCount = 0;
    while (Number.isNaN(allDone)) {
      await sleep(250);
      const list = await core.listNamespacedService({ namespace: ns, resourceVersion: '0' });
      lastCount = list.items.filter((s) => (s.status?.loadBalancer?.ingress ?? []).length === 1).length;
      if (lastCount === count) allDone = performance.now() - t0;
      if (performance.now() - t0 > 300_000) throw new Error(`only ${lastCount} of ${count} Services had IPs after 300 s`);
    }
    const createMs = await created;
    const ips = new Set((await core.listNamespacedService({ namespace: ns })).items.map((s) => s.status?.loadBalancer?.ingress?.[0]?.ip));
    const busyRss = rssMiB(controller.proc.pid);
    await controller.stop();
    return [
      { name: `${count} Services created (32 clients in parallel)`, value: createMs / 1000, unit: 's', note: 'the API server accepting the creates; a floor for the next row' },
      { name: `${count} Services created → all with an IP in status`, value: allDone / 1000, unit: 's', note: `target ≤ 15 s; measured from the first create, polled every 250 ms` },
      { name: 'status lag behind creation', value: (allDone - createMs) / 1000, unit: 's', note: 'how long after the last create the last IP appeared' },
      { name: 'distinct IPs', value: ips.size, unit: '', note: `of ${count} Services: no IP given twice` },
      { name: 'controller RSS, idle → after', value: busyRss, unit: 'MiB', note: `${idleRss.toFixed(0)} MiB idle` },
    ];
  } finally {
    await cp.stop();
  }
}

if (import.meta.main) {
  console.log(formatBenchTable(await runControllerApiBench(Number(process.argv[2] ?? 5_000))));
}
