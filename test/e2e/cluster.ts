// A Ballast installation in the lab, end to end: the real controller process
// on the host and a real speaker process inside every node namespace, against
// a real API server, with a client namespace on the same LAN. Each cluster
// gets its own install namespace, application namespace, node names and
// load-balancer class, so several can share one control plane.
//
// Used by test/e2e/*.lab.test.ts and bench/failover.ts.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { V1Service } from '@kubernetes/client-node';
import type { IPAddressPool, L2Advertisement, ServiceL2Status } from '../../shared/api/index.ts';
import type { LabelSelector } from '../../shared/labels/index.ts';
import { parseIP } from '../../shared/net/index.ts';
import { rendezvousWinner } from '../../speaker/election/index.ts';
import { Lan, REPO_ROOT, run, startProcess, uniqueName, waitFor, type ControlPlaneHandle, type LabNode, type ManagedProcess } from '../lab/index.ts';
import { startController } from '../controller/harness.ts';
import type { ProbeSample } from './probe-analysis.ts';
import type { WireWatch } from './wire-analysis.ts';

export const SPEAKER_PORT = 7473;
const CLIENT_TOOL = join(REPO_ROOT, 'speaker', 'l2', 'lab', 'client-tool.ts');

/** The last lines of a log file, or why there are none. */
function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (e) {
    return `(cannot read ${file}: ${(e as Error).message})`;
  }
}

export interface ClusterOptions {
  readonly controlPlane: ControlPlaneHandle;
  readonly nodes?: number;
  /** Prefix of every name (namespaces, nodes, class). */
  readonly name?: string;
  readonly log?: (msg: string) => void;
  /** Extra speaker flags for every speaker. */
  readonly speakerArgs?: readonly string[];
  /** Create the catch-all L2Advertisement "all" (default true). */
  readonly catchAllAdvertisement?: boolean;
  /** Install namespace (default `<id>-sys`, created and deleted by the cluster); e.g. `ballast-system` to run with deploy/'s RBAC. */
  readonly installNamespace?: string;
  /** Credentials of the controller (default: the lab admin), e.g. its ServiceAccount token. */
  readonly controllerKubeconfig?: string;
  /** Credentials of the speakers, for the API at 127.0.0.1:6443 inside a node (default: the lab admin). */
  readonly speakerKubeconfig?: string;
  /** Speaker Pod objects, Ready, as the DaemonSet would make (default true): the API's view of which speakers are alive. */
  readonly speakerPods?: boolean;
  /** The Services' namespace (default `<id>-apps`, created and deleted by the cluster). */
  readonly appsNamespace?: string;
  /** Serve Services of this class (default `ballast.io/<id>`, so clusters sharing a control plane stay apart); null: Services without a class, as an install does. */
  readonly loadBalancerClass?: string | null;
}

export interface ServiceSpec {
  readonly name: string;
  readonly ports?: readonly number[];
  readonly families?: ReadonlyArray<'IPv4' | 'IPv6'>;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly externalTrafficPolicy?: 'Cluster' | 'Local';
  readonly selector?: Record<string, string>;
}

export class E2ECluster {
  readonly id: string;
  /** Install namespace: pools, advertisements, ServiceL2Status, the heartbeat Secret. */
  readonly namespace: string;
  /** Where the test's Services live. */
  readonly apps: string;
  /** undefined: Services without a class. */
  readonly lbClass: string | undefined;
  readonly lan: Lan;
  readonly kc: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly custom: k8s.CustomObjectsApi;
  readonly speakers = new Map<string, ManagedProcess>();
  controller: ManagedProcess | undefined;
  /** The controller's http://host:port of /metrics, /readyz. */
  controllerUrl: string | undefined;
  readonly #opts: ClusterOptions;
  readonly #log: (msg: string) => void;

  private constructor(opts: ClusterOptions, id: string, lan: Lan, kc: k8s.KubeConfig) {
    this.#opts = opts;
    this.#log = opts.log ?? (() => {});
    this.id = id;
    this.namespace = opts.installNamespace ?? `${id}-sys`;
    this.apps = opts.appsNamespace ?? `${id}-apps`;
    this.lbClass = opts.loadBalancerClass === null ? undefined : (opts.loadBalancerClass ?? `ballast.io/${id}`);
    this.lan = lan;
    this.kc = kc;
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
  }

  /** The LAN, namespaces, one pool (203.0.113.10-203.0.113.200, 2001:db8:100::10-2001:db8:100::ffff) and one catch-all advertisement; no processes yet. */
  static async create(opts: ClusterOptions): Promise<E2ECluster> {
    const id = uniqueName(opts.name ?? 'e2e');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(opts.controlPlane.kubeconfig);
    const lan = await Lan.create({ nodes: opts.nodes ?? 3, controlPlane: opts.controlPlane, nodeNamePrefix: `${id}-n`, ...(opts.log ? { log: opts.log } : {}) });
    const cluster = new E2ECluster(opts, id, lan, kc);
    try {
      for (const ns of [cluster.namespace, cluster.apps]) {
        await cluster.core.createNamespace({ body: { metadata: { name: ns } } }).catch((e: { code?: number }) => {
          if (!((ns === opts.installNamespace || ns === opts.appsNamespace) && e.code === 409)) throw e;
        });
      }
      await cluster.applyPool('default', ['203.0.113.10-203.0.113.200', '2001:db8:100::10-2001:db8:100::ffff']);
      if (opts.speakerPods ?? true) await cluster.registerSpeakerPods();
      if (opts.catchAllAdvertisement ?? true) await cluster.applyAdvertisement('all', {});
      return cluster;
    } catch (e) {
      await cluster.destroy();
      throw e;
    }
  }

  node(i: number): LabNode {
    const n = this.lan.nodes[i - 1];
    if (!n) throw new Error(`no node ${i}`);
    return n;
  }

  nodeNamed(name: string): LabNode {
    return this.lan.node(name);
  }

  /** The node the election rule picks for an IP among `nodes` (all by default): lowest sha256(node#ip). */
  hashWinner(ip: string, nodes: readonly LabNode[] = this.lan.nodes): string {
    const parsed = parseIP(ip);
    if (!parsed.ok) throw new Error(parsed.error);
    return rendezvousWinner(nodes.map((n) => n.name), parsed.value)!;
  }

  /** Advertisements select lab nodes by hostname. */
  hostnameSelector(...nodes: LabNode[]): LabelSelector {
    return { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: nodes.map((n) => n.name) }] };
  }

  /** Starts the controller; `program` runs another build of it (the image's .js). */
  async startController(opts: { program?: string; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
    const c = await startController(this.#opts.controlPlane, {
      ...opts,
      namespace: this.namespace,
      instance: `${this.id}-controller`,
      kubeconfig: this.#opts.controllerKubeconfig,
      // The webhook is another component's; pools here are valid.
      extraArgs: this.lbClass ? [`--load-balancer-class=${this.lbClass}`] : [],
      logDir: this.lan.dir,
    });
    this.controller = c.proc;
    this.controllerUrl = c.metricsUrl;
    // The leader creates the heartbeat key on start; speakers wait for it.
    await waitFor('the heartbeat Secret', () => this.core.readNamespacedSecret({ namespace: this.namespace, name: 'ballast-heartbeat' }).then(() => true, () => false), { timeoutMs: 10_000 });
  }

  stateDir(node: LabNode): string {
    return join(this.lan.dir, `state-${node.name}`);
  }

  /**
   * Starts (or restarts) the speaker of a node; with `ready`, waits until its
   * /readyz passes. `program` runs another build of it (the image's .js).
   */
  async startSpeaker(node: LabNode, opts: { ready?: boolean; args?: readonly string[]; program?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ManagedProcess> {
    mkdirSync(this.stateDir(node), { recursive: true });
    const proc = this.lan.spawn(node, 'speaker', [
      process.execPath,
      opts.program ?? join(REPO_ROOT, 'speaker', 'main.ts'),
      `--namespace=${this.namespace}`,
      ...(this.lbClass ? [`--load-balancer-class=${this.lbClass}`] : []),
      `--state-dir=${this.stateDir(node)}`,
      `--metrics-bind-address=:${SPEAKER_PORT}`,
      '--log-level=debug',
      ...(this.#opts.speakerArgs ?? []),
      ...(opts.args ?? []),
    ], {
      // The lab runs TypeScript (type stripping): loading the speaker takes ~570 ms against ~180 ms
      // for the image's JavaScript. Node's compile cache brings a restart close to the image's.
      env: { BALLAST_FAULT_INJECTION: '1', NODE_COMPILE_CACHE: join(this.lan.dir, 'compile-cache'), ...opts.env },
      ...(this.#opts.speakerKubeconfig ? { kubeconfig: this.#opts.speakerKubeconfig } : {}),
    });
    this.speakers.set(node.name, proc);
    if (opts.ready ?? true) await this.waitSpeakerReady(node);
    return proc;
  }

  async startSpeakers(): Promise<void> {
    await Promise.all(this.lan.nodes.map((n) => this.startSpeaker(n, { ready: false })));
    await Promise.all(this.lan.nodes.map((n) => this.waitSpeakerReady(n)));
  }

  async waitSpeakerReady(node: LabNode): Promise<void> {
    const proc = this.speakers.get(node.name);
    await waitFor(`the speaker on ${node.name} to be ready (log ${proc?.logFile})`, async () => {
      // The lab's directory goes with the cluster: the log's end goes into the message.
      if (proc && !proc.running) throw new Error(`exited: ${await proc.exited}; its log ends:\n${tailOf(proc.logFile, 20)}`);
      return (await this.lan.http(this.speakerUrl(node, '/readyz'), 1_000)).status === 200;
    }, { timeoutMs: 30_000, intervalMs: 100 });
  }

  speakerUrl(node: LabNode, path: string): string {
    return `http://${node.ipv4}:${SPEAKER_PORT}${path}`;
  }

  /** One metric's value from a speaker's /metrics (the sum over the matching series), fetched from the client namespace. */
  async speakerMetric(node: LabNode, name: string, labels: Record<string, string> = {}): Promise<number> {
    const res = await this.lan.http(this.speakerUrl(node, '/metrics'));
    if (!res.ok) throw new Error(`metrics of ${node.name}: ${res.error}`);
    let sum = 0;
    for (const line of (res.body ?? '').split('\n')) {
      const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      if (!Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) continue;
      sum += Number(m[3]);
    }
    return sum;
  }

  speakerLog(node: LabNode): string {
    const proc = this.speakers.get(node.name);
    return proc ? readFileSync(proc.logFile, 'utf8') : '';
  }

  async applyPool(name: string, addresses: string[]): Promise<void> {
    const body: IPAddressPool = { apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: this.namespace }, spec: { addresses } };
    await this.custom.createNamespacedCustomObject({ group: 'ballast.io', version: 'v1beta1', namespace: this.namespace, plural: 'ipaddresspools', body });
  }

  async applyAdvertisement(name: string, spec: L2Advertisement['spec']): Promise<void> {
    const body: L2Advertisement = { apiVersion: 'ballast.io/v1beta1', kind: 'L2Advertisement', metadata: { name, namespace: this.namespace }, spec };
    await this.custom.createNamespacedCustomObject({ group: 'ballast.io', version: 'v1beta1', namespace: this.namespace, plural: 'l2advertisements', body });
  }

  async createService(spec: ServiceSpec): Promise<V1Service> {
    const families = spec.families ?? ['IPv4'];
    return this.core.createNamespacedService({
      namespace: this.apps,
      body: {
        metadata: { name: spec.name, labels: spec.labels, annotations: spec.annotations },
        spec: {
          type: 'LoadBalancer',
          loadBalancerClass: this.lbClass,
          ipFamilies: [...families],
          ipFamilyPolicy: families.length > 1 ? 'RequireDualStack' : 'SingleStack',
          ports: (spec.ports ?? [80]).map((port, i) => ({ name: `p${i}`, port, protocol: 'TCP', targetPort: 8080 })),
          selector: spec.selector ?? { app: spec.name },
          externalTrafficPolicy: spec.externalTrafficPolicy,
          allocateLoadBalancerNodePorts: false,
        },
      },
    });
  }

  /** Waits for the controller to give the Service `count` IPs; returns them (IPv4 first, as the controller writes them). */
  async ingress(name: string, count = 1): Promise<string[]> {
    return waitFor(`${this.apps}/${name} to get ${count} IP(s)`, async () => {
      const svc = await this.core.readNamespacedServiceStatus({ namespace: this.apps, name });
      const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
      return ips.length === count ? ips : undefined;
    }, { timeoutMs: 20_000, intervalMs: 100 });
  }

  /** The node whose kube-proxy stand-in answers an HTTP request to ip from the client, or undefined when nothing answers. */
  async answeringNode(ip: string, port = 80, timeoutMs = 1_000): Promise<string | undefined> {
    const res = await this.lan.http(`http://${ip.includes(':') ? `[${ip}]` : ip}:${port}/`, timeoutMs);
    return res.ok ? res.body?.trim() : undefined;
  }

  /** Waits until requests to ip are answered by `node` (a name or a predicate); returns the answering node. */
  async waitAnsweredBy(ip: string, expected: string | ((node: string) => boolean), timeoutMs = 10_000): Promise<string> {
    const ok = typeof expected === 'string' ? (n: string) => n === expected : expected;
    return waitFor(`${ip} to be answered by ${typeof expected === 'string' ? expected : 'the expected node'}`, async () => {
      const node = await this.answeringNode(ip, 80, 500);
      return node !== undefined && ok(node) ? node : undefined;
    }, { timeoutMs, intervalMs: 50 });
  }

  /**
   * Requests http://ip/ from the client every intervalMs for durationMs, each
   * with a short timeout (a TCP connect during an outage would otherwise wait
   * out the 1 s SYN retransmit). Sample times compare with wallClockMs().
   */
  probe(ip: string, durationMs: number, opts: { intervalMs?: number; timeoutMs?: number } = {}): Promise<ProbeSample[]> {
    const url = `http://${ip.includes(':') ? `[${ip}]` : ip}:80/`;
    return this.lan.client.agent.probe(url, { intervalMs: opts.intervalMs ?? 10, durationMs, timeoutMs: opts.timeoutMs ?? 150 });
  }

  /**
   * Asks the LAN who has ip (one broadcast ARP request or multicast Neighbor
   * Solicitation from the client) and returns the distinct MACs that answered.
   */
  async whoHas(ip: string, listenMs = 300): Promise<string[]> {
    const ours = ip.includes(':') ? this.lan.client.ipv6 : this.lan.client.ipv4;
    const out = await this.lan.exec(this.lan.client, [process.execPath, CLIENT_TOOL, 'who-has', 'eth0', ip, ours, String(listenMs)]);
    return (JSON.parse(out) as { macs: string[] }).macs;
  }

  /**
   * Starts watching the VIPs from the client: every intervalMs one ARP
   * request / NS per VIP, and which MACs answered each round (wire-analysis.ts
   * turns it into duplicate and gap times). `stop()` ends it after the round
   * under way and resolves with what it saw; it ends by itself after maxMs.
   */
  startWireWatch(vips: readonly string[], maxMs: number, intervalMs = 10): { stop(): Promise<WireWatch> } {
    const { client } = this.lan;
    const logFile = join(this.lan.dir, `${uniqueName('wire-watch')}.log`);
    const proc = startProcess('wire-watch', ['ip', 'netns', 'exec', client.ns, process.execPath, CLIENT_TOOL, 'watch', 'eth0', client.ipv4, client.ipv6, String(intervalMs), String(maxMs), ...vips], { logFile });
    return {
      stop: async () => {
        if (proc.running) proc.kill('SIGTERM');
        const code = await proc.exited;
        // stderr shares the log: the result is its one JSON line.
        const line = readFileSync(logFile, 'utf8').split('\n').find((l) => l.startsWith('{'));
        if (code !== 0 || line === undefined) throw new Error(`the wire watch failed (exit ${code}); see ${logFile}`);
        return JSON.parse(line) as WireWatch;
      },
    };
  }

  /**
   * Pod objects like the DaemonSet's, Ready on each node: the speakers are
   * processes here (no kubelet), and this is how the API shows a live speaker
   * (the speakers' quorum counts them; `ballast status` and kubectl show them).
   */
  async registerSpeakerPods(nodes: readonly LabNode[] = this.lan.nodes): Promise<void> {
    const labels = { 'app.kubernetes.io/name': 'ballast', 'app.kubernetes.io/component': 'speaker' };
    for (const n of nodes) {
      const name = `ballast-speaker-${n.name}`;
      await this.core.deleteNamespacedPod({ namespace: this.namespace, name, gracePeriodSeconds: 0 }).catch(() => undefined);
      await waitFor(`the old Pod ${name} to be gone`, () => this.core.readNamespacedPod({ namespace: this.namespace, name }).then(() => false, () => true), { timeoutMs: 10_000, intervalMs: 50 });
      const pod = await this.core.createNamespacedPod({
        namespace: this.namespace,
        body: { metadata: { name, labels }, spec: { nodeName: n.name, hostNetwork: true, containers: [{ name: 'speaker', image: 'ballast-lab-process' }] } },
      });
      const now = new Date();
      pod.status = {
        phase: 'Running',
        podIP: n.ipv4,
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
        containerStatuses: [{ name: 'speaker', ready: true, restartCount: 0, image: 'ballast-lab-process', imageID: '', started: true, state: { running: { startedAt: now } } }],
      };
      await this.core.replaceNamespacedPodStatus({ namespace: this.namespace, name, body: pod });
    }
  }

  macOf(nodeName: string): string {
    return this.lan.node(nodeName).mac;
  }

  async l2Statuses(): Promise<ServiceL2Status[]> {
    const list = (await this.custom.listNamespacedCustomObject({ group: 'ballast.io', version: 'v1beta1', namespace: this.namespace, plural: 'servicel2statuses' })) as { items: ServiceL2Status[] };
    return list.items;
  }

  /** Waits until exactly one ServiceL2Status names the Service, with status.node set; returns it. */
  async l2StatusOf(service: string, check: (s: ServiceL2Status) => boolean = () => true, timeoutMs = 10_000): Promise<ServiceL2Status> {
    return waitFor(`one ServiceL2Status for ${this.apps}/${service}`, async () => {
      const mine = (await this.l2Statuses()).filter((s) => s.status?.serviceName === service && s.status.serviceNamespace === this.apps);
      return mine.length === 1 && mine[0]!.status?.node !== undefined && check(mine[0]!) ? mine[0] : undefined;
    }, { timeoutMs, intervalMs: 100 });
  }

  async eventsFor(service: string): Promise<k8s.CoreV1Event[]> {
    const list = await this.core.listNamespacedEvent({ namespace: this.apps, fieldSelector: `involvedObject.kind=Service,involvedObject.name=${service}` });
    return list.items;
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.speakers.values()].map((p) => p.stop(2_000)));
    await this.controller?.stop(2_000);
    // The controller is gone: lift its pool finalizers so the namespace can go.
    try {
      const pools = (await this.custom.listNamespacedCustomObject({ group: 'ballast.io', version: 'v1beta1', namespace: this.namespace, plural: 'ipaddresspools' })) as { items: IPAddressPool[] };
      for (const pool of pools.items) {
        if (!pool.metadata.finalizers?.length) continue;
        await this.custom.patchNamespacedCustomObject(
          { group: 'ballast.io', version: 'v1beta1', namespace: this.namespace, plural: 'ipaddresspools', name: pool.metadata.name!, body: { metadata: { finalizers: null } } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
      }
    } catch {
      // namespace never created, or the API server is gone (private control plane)
    }
    for (const ns of [this.namespace, this.apps]) {
      if (ns !== this.#opts.installNamespace && ns !== this.#opts.appsNamespace) await this.core.deleteNamespace({ name: ns }).catch(() => undefined);
    }
    await this.lan.destroy();
  }

  log(msg: string): void {
    this.#log(msg);
  }
}

/** Wall-clock ms with sub-ms resolution, the clock of the agent's probe samples. */
export const wallClockMs = (): number => performance.timeOrigin + performance.now();

/** Runs a command in the client namespace (for tests that need more than HTTP). */
export async function inClient(cluster: E2ECluster, argv: readonly string[]): Promise<string> {
  return run(['ip', 'netns', 'exec', cluster.lan.client.ns, ...argv]);
}
