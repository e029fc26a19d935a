// Per-request latency of shared/k8s's request path against the lab API server:
// N sequential GETs of one ConfigMap over one kept-alive TLS connection, and
// the same through client-node's generated client for comparison.
//
//   node bench/k8s-requests.ts [count]
import * as k8s from '@kubernetes/client-node';
import { ControlPlane } from '../test/lab/index.ts';
import { defineResource, objectClient, RESOURCES } from '../shared/k8s/index.ts';
import { formatBenchTable, type BenchResult } from './result.ts';

const configMaps = defineResource<k8s.V1ConfigMap>('v1', 'ConfigMap', 'configmaps', true);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function timed(count: number, call: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await call(); // warm up: TLS handshake, JIT
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await call();
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b);
}

export async function runK8sRequestBench(count = 500): Promise<BenchResult[]> {
  const cp = await ControlPlane.start({ controllerManager: false });
  try {
    const kc = cp.kubeConfig();
    const ns = 'bench';
    const access = cp.access();
    await objectClient(access, RESOURCES.namespace).create({ metadata: { name: ns } });
    const maps = objectClient(access, configMaps);
    await maps.create({ metadata: { namespace: ns, name: 'x' }, data: { v: '1' } });
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const rows: BenchResult[] = [];
    for (const [name, call] of [
      ['shared/k8s objectClient.get', async () => {
        const r = await maps.get({ namespace: ns, name: 'x' });
        if (!r.ok) throw new Error(r.error.message);
      }],
      ['client-node CoreV1Api.readNamespacedConfigMap', () => core.readNamespacedConfigMap({ namespace: ns, name: 'x' })],
    ] as const) {
      const ms = await timed(count, call);
      const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
      rows.push({ name: `${name}: p50`, value: percentile(ms, 50), unit: 'ms', note: `${count} sequential GETs` });
      rows.push({ name: `${name}: p99`, value: percentile(ms, 99), unit: 'ms', note: '' });
      rows.push({ name: `${name}: mean`, value: mean, unit: 'ms', note: '' });
    }
    return rows;
  } finally {
    await cp.stop();
  }
}

if (import.meta.main) {
  console.log(formatBenchTable(await runK8sRequestBench(Number(process.argv[2] ?? 500))));
}
