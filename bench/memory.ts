// Memory of the controller and the speaker with a cluster's worth of objects
// in their caches: 5 000 Services (all LoadBalancer, 1 000 of them announced),
// 5 000 EndpointSlices and 100 Nodes, shaped like real ones (managedFields,
// kubectl's last-applied annotation, Node images and conditions). Both run as
// the image runs them (scripts/build-js.ts), the controller also as .ts.
// Against a private etcd + kube-apiserver; the speaker in a lab node namespace.
// With MetalLB's controller built (bench/metallb.ts), the same work by it on
// the same objects, for comparison.
//
//   node bench/memory.ts [services]     (root)
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { ControlPlane, REPO_ROOT, sleep, waitFor } from '../test/lab/index.ts';
import { E2ECluster } from '../test/e2e/cluster.ts';
import { objectClient, RESOURCES, type ApiAccess, type ApiObject, type Resource } from '../shared/k8s/index.ts';
import { buildJs } from '../scripts/build-js.ts';
import { formatBenchTable, type BenchResult } from './result.ts';
import { metallbControllerBinary, runMetalLBController } from './metallb.ts';

export interface MemoryBenchOptions {
  readonly services?: number;
  readonly announced?: number;
  readonly slices?: number;
  readonly nodes?: number;
  readonly log?: (msg: string) => void;
}

/** VmRSS and VmHWM (peak) of a process, MiB. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Creates objects with 32 requests in flight (the API server's create rate bounds this). */
export async function createAll<T extends ApiObject>(access: ApiAccess, resource: Resource<T>, objects: readonly T[]): Promise<T[]> {
  const client = objectClient(access, resource);
  const created: T[] = new Array<T>(objects.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < objects.length; i = next++) {
        const r = await client.create(objects[i]!);
        if (!r.ok) throw new Error(`creating ${resource.kind} ${objects[i]!.metadata?.name}: ${r.error.message}`);
        created[i] = r.value;
      }
    }),
  );
  return created;
}

const hex = (i: number, width: number): string => i.toString(16).padStart(width, '0');

/** A Service as `kubectl apply` leaves it: labels, its own last-applied annotation, two ports. */
export function benchService(namespace: string, name: string, lbClass: string | undefined, labels: Record<string, string>): V1Service {
  const body: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { app: name, 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'memory-bench', ...labels } },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: lbClass,
      ipFamilies: ['IPv6'],
      ipFamilyPolicy: 'SingleStack',
      ports: [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
        { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
      ],
      selector: { app: name },
      allocateLoadBalancerNodePorts: false,
    },
  };
  body.metadata!.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': `${JSON.stringify(body)}\n` };
  return body;
}

/** An EndpointSlice as kube-controller-manager writes it: three ready endpoints on nodes, with Pod references. */
export function benchSlice(namespace: string, service: string, i: number, nodes: readonly string[]): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-${hex(i, 5)}`,
      namespace,
      labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', app: service },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)).toISOString().replace('.000', '') },
    },
    addressType: 'IPv6',
    endpoints: [0, 1, 2].map((e) => ({
      addresses: [`2001:db8:300:${(i + 1).toString(16)}:1:1:1:${e + 1}`],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: nodes[(i * 3 + e) % nodes.length],
      targetRef: { kind: 'Pod', namespace, name: `${service}-5d8f7c9b6-${hex(i * 3 + e, 5)}`, uid: `00000000-0000-4000-8000-${hex(i * 3 + e, 12)}` },
      zone: `zone-${'abc'[e]}`,
    })),
    ports: [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'https', port: 8443, protocol: 'TCP' },
    ],
  };
}

/** A Node as kubeadm and kubelet leave it (its status is written separately, through the status subresource). */
export function benchNode(name: string): { node: V1Node; status: V1Node['status'] } {
  const node: V1Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'bare-metal',
        'topology.kubernetes.io/region': 'lab',
        'topology.kubernetes.io/zone': 'zone-a',
      },
      annotations: {
        'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock',
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: { podCIDR: '2001:db8:400::/64', podCIDRs: ['2001:db8:400::/64'], providerID: `lab://${name}` },
  };
  const at = '2026-01-01T00:00:00Z';
  const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: at as unknown as Date, lastTransitionTime: at as unknown as Date });
  const status: V1Node['status'] = {
    addresses: [
      { type: 'InternalIP', address: '2001:db8:500::10' },
      { type: 'Hostname', address: name },
    ],
    capacity: { cpu: '16', 'ephemeral-storage': '490617784Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '65776104Ki', pods: '110' },
    allocatable: { cpu: '16', 'ephemeral-storage': '452160359770', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '65673704Ki', pods: '110' },
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      architecture: 'amd64',
      bootID: '3f1e2d4c-0000-4000-8000-000000000001',
      containerRuntimeVersion: 'containerd://1.7.24',
      kernelVersion: '6.1.0-28-amd64',
      kubeProxyVersion: '',
      kubeletVersion: 'v1.36.3',
      machineID: 'a3c5e7f9b1d34f6a8c0e2b4d6f8a0c1e',
      operatingSystem: 'linux',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      systemUUID: '4c4c4544-0000-1000-8000-000000000001',
    },
    images: Array.from({ length: 20 }, (_, i) => ({
      names: [`registry.example/team-${i}/app@sha256:${hex(i, 64)}`, `registry.example/team-${i}/app:v1.${i}.0`],
      sizeBytes: 50_000_000 + i * 1_000_000,
    })),
  };
  return { node, status };
}

/** Compiles the programs as the image does (scripts/build-js.ts), with this checkout's node_modules. */
async function builtPrograms(): Promise<{ dir: string; controller: string; speaker: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ballast-bench-js-'));
  buildJs({ outDir: dir, entries: ['controller/main.ts', 'speaker/main.ts'] });
  await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return { dir, controller: join(dir, 'controller', 'main.js'), speaker: join(dir, 'speaker', 'main.js') };
}

/** A gauge from a Prometheus text page (the first series of that name). */
function gauge(text: string, name: string): number {
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}
const MiB = 1024 * 1024;

/** Polls (list served from the watch cache) until `count` Services in ns have an IP. */
async function untilAssigned(access: ApiAccess, ns: string, count: number, timeoutMs = 300_000): Promise<void> {
  const services = objectClient(access, RESOURCES.service);
  await waitFor(`${count} Services in ${ns} with an IP`, async () => {
    const r = await services.list({ namespace: ns });
    if (!r.ok) return false;
    return r.value.items.filter((s) => (s.status?.loadBalancer?.ingress?.length ?? 0) > 0).length >= count;
  }, { timeoutMs, intervalMs: 1_000 });
}

/** Clears every Service's ingress, so the next controller allocates them all again. */
async function clearIngress(access: ApiAccess, ns: string): Promise<void> {
  const services = objectClient(access, RESOURCES.service);
  const list = await services.list({ namespace: ns });
  if (!list.ok) throw new Error(list.error.message);
  const names = list.value.items.map((s) => s.metadata!.name!);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < names.length; i = next++) {
        const r = await services.patchStatus({ namespace: ns, name: names[i]! }, { loadBalancer: { ingress: null } } as never);
        if (!r.ok) throw new Error(`clearing ${names[i]}: ${r.error.message}`);
      }
    }),
  );
}

const SETTLE_MS = 5_000;
/** The failover bench's cap for the speaker (bench/failover.ts). */
const SPEAKER_CAPPED = '--max-semi-space-size=1 --max-old-space-size=64';
/** How the controller runs in the image and the manifests. */
const CONTROLLER_V8 = '--max-semi-space-size=2';

export async function runMemoryBench(opts: MemoryBenchOptions = {}): Promise<BenchResult[]> {
  const log = opts.log ?? ((m: string) => console.error(`memory: ${m}`));
  const services = opts.services ?? 5_000;
  const announced = opts.announced ?? 1_000;
  const sliceCount = opts.slices ?? 5_000;
  const nodeCount = opts.nodes ?? 100;
  const cp = await ControlPlane.start({ manifests: [join(REPO_ROOT, 'deploy', 'crds')], controllerManager: false });
  let cluster: E2ECluster | undefined;
  const built = await builtPrograms();
  const rows: BenchResult[] = [];
  const scale = `${services} Services (${announced} announced), ${sliceCount} EndpointSlices, ${nodeCount} Nodes`;
  try {
    const access = cp.access();
    cluster = await E2ECluster.create({ controlPlane: cp.handle(), nodes: 1, name: 'mem', catchAllAdvertisement: false, log });
    const c = cluster;
    const t0 = performance.now();
    const fakeNodes = Array.from({ length: nodeCount - c.lan.nodes.length }, (_, i) => `${c.id}-fake-${i}`);
    for (const made of await createAll(access, RESOURCES.node, fakeNodes.map((n) => benchNode(n).node))) {
      const r = await objectClient(access, RESOURCES.node).patchStatus({ name: made.metadata!.name! }, benchNode(made.metadata!.name!).status!);
      if (!r.ok) throw new Error(r.error.message);
    }
    const nodeNames = [...c.lan.nodes.map((n) => n.name), ...fakeNodes];
    // "default" (made by the cluster) takes what the "announced" pool does not select; only "announced" is advertised.
    await c.custom.createNamespacedCustomObject({
      group: 'ballast.io',
      version: 'v1beta1',
      namespace: c.namespace,
      plural: 'ipaddresspools',
      body: { apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'announced', namespace: c.namespace }, spec: { addresses: ['2001:db8:200::/112'], serviceAllocation: { serviceSelectors: [{ matchLabels: { announced: 'yes' } }] } } },
    });
    const names = Array.from({ length: services }, (_, i) => `svc-${hex(i, 4)}`);
    await createAll(access, RESOURCES.service, names.map((n, i) => benchService(c.apps, n, c.lbClass, i < announced ? { announced: 'yes' } : {})));
    await createAll(access, RESOURCES.endpointSlice, Array.from({ length: sliceCount }, (_, i) => benchSlice(c.apps, names[i % names.length]!, i, nodeNames)));
    log(`created ${scale} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

    // The controller, allocating all of them from scratch: as deployed, with V8's default heap sizing, and as .ts.
    for (const v of [
      { label: 'built JS, as deployed', program: built.controller, env: { ...process.env, NODE_OPTIONS: CONTROLLER_V8 }, note: `node ${CONTROLLER_V8} (deploy/controller, Dockerfile)` },
      { label: 'built JS, V8 defaults', program: built.controller, env: undefined, note: 'young generation up to 16 MiB a semi-space' },
      { label: '.ts', program: join(REPO_ROOT, 'controller', 'main.ts'), env: undefined, note: 'Node strips types at run time' },
    ]) {
      const t0 = performance.now();
      await c.startController({ program: v.program, ...(v.env ? { env: v.env } : {}) });
      await untilAssigned(access, c.apps, services);
      const seconds = (performance.now() - t0) / 1000;
      await sleep(SETTLE_MS);
      const m = memoryOf(c.controller!.pid);
      const heap = gauge(await (await fetch(`${c.controllerUrl}/metrics`)).text(), 'nodejs_heap_size_used_bytes') / MiB;
      rows.push({
        name: `controller RSS, ${services} Services assigned, ${v.label}`,
        value: m.rss,
        unit: 'MiB',
        note: `peak ${m.peak.toFixed(0)} MiB, JS heap in use ${heap.toFixed(0)} MiB; all assigned ${seconds.toFixed(1)} s after start; ${v.note}`,
      });
      log(`controller ${v.label}: ${m.rss.toFixed(1)} MiB (peak ${m.peak.toFixed(1)}), ${seconds.toFixed(1)} s`);
      await c.controller!.stop();
      await clearIngress(access, c.apps);
    }

    // The speaker on the one lab node, as the image runs it: first with nothing advertised (every object cached,
    // nothing announced), then with the "announced" pool advertised.
    await c.startController({ program: built.controller, env: { ...process.env, NODE_OPTIONS: CONTROLLER_V8 } });
    await untilAssigned(access, c.apps, services);
    const node = c.node(1);
    const speaker = await c.startSpeaker(node, { program: built.speaker });
    await waitFor('the speaker to list everything', async () => (await c.speakerMetric(node, 'ballast_speaker_elections_total')) > 0, { timeoutMs: 60_000, intervalMs: 500 });
    await sleep(SETTLE_MS);
    let m = memoryOf(speaker.pid);
    const speakerHeap = async (): Promise<string> => ((await c.speakerMetric(node, 'nodejs_heap_size_used_bytes')) / MiB).toFixed(0);
    rows.push({ name: 'speaker RSS, nothing advertised, built JS', value: m.rss, unit: 'MiB', note: `peak ${m.peak.toFixed(0)} MiB, JS heap in use ${await speakerHeap()} MiB (main thread); target ≤ 80 MiB idle; ${scale} cached` });
    log(`speaker idle: ${m.rss.toFixed(1)} MiB (peak ${m.peak.toFixed(1)})`);
    await c.applyAdvertisement('announced', { ipAddressPools: ['announced'] });
    await waitFor(`the speaker to announce ${announced} IPs`, async () => (await c.speakerMetric(node, 'ballast_speaker_announced_ips')) === announced, { timeoutMs: 120_000, intervalMs: 500 });
    await sleep(SETTLE_MS);
    m = memoryOf(speaker.pid);
    rows.push({ name: `speaker RSS, announcing ${announced} IPs, built JS`, value: m.rss, unit: 'MiB', note: `peak ${m.peak.toFixed(0)} MiB, JS heap in use ${await speakerHeap()} MiB (main thread); target ≤ 100 MiB; ${scale}` });
    log(`speaker at ${announced} IPs: ${m.rss.toFixed(1)} MiB (peak ${m.peak.toFixed(1)})`);
    await speaker.stop();
    // The same with V8's heap held small (the failover bench's "heap capped"): what the live set costs.
    const capped = await c.startSpeaker(node, { program: built.speaker, env: { ...process.env, NODE_OPTIONS: SPEAKER_CAPPED } });
    await waitFor(`the capped speaker to announce ${announced} IPs`, async () => (await c.speakerMetric(node, 'ballast_speaker_announced_ips')) === announced, { timeoutMs: 120_000, intervalMs: 500 });
    await sleep(SETTLE_MS);
    m = memoryOf(capped.pid);
    rows.push({ name: `speaker RSS, announcing ${announced} IPs, built JS, heap capped`, value: m.rss, unit: 'MiB', note: `peak ${m.peak.toFixed(0)} MiB, JS heap in use ${await speakerHeap()} MiB; NODE_OPTIONS="${SPEAKER_CAPPED}"` });
    await capped.stop();
    await c.controller!.stop();

    // MetalLB's controller on the same objects, when it could be built here.
    const metallb = await metallbControllerBinary(log);
    if (metallb.ok) {
      await clearIngress(access, c.apps);
      const run = await runMetalLBController(cp, { binary: metallb.value.binary, loadBalancerClass: c.lbClass, addresses: ['2001:db8:600::/112'], log });
      try {
        await untilAssigned(access, c.apps, services);
        await sleep(SETTLE_MS);
        m = memoryOf(run.pid);
        rows.push({ name: `MetalLB controller RSS, ${services} Services assigned`, value: m.rss, unit: 'MiB', note: `peak ${m.peak.toFixed(0)} MiB; ${metallb.value.note}; same objects` });
        log(`metallb: ${m.rss.toFixed(1)} MiB (peak ${m.peak.toFixed(1)})`);
      } finally {
        await run.stop();
      }
    } else {
      rows.push({ name: 'MetalLB controller RSS', value: Number.NaN, unit: 'MiB', note: `not measured: ${metallb.error}` });
    }
    return rows;
  } finally {
    await cluster?.destroy();
    await cp.stop();
    await rm(built.dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  console.log(formatBenchTable(await runMemoryBench({ services: Number(process.argv[2] ?? 5_000) })));
}
