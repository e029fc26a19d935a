// The kind cluster as the e2e sees it from the host: the host sits on the
// nodes' docker network (its bridge is the LAN, the host is its gateway), so it
// is a client that is not a node. It asks who has an IP (ARP/NDP on the
// bridge), sends HTTP to Service IPs, reads the API with kubectl's
// credentials, and breaks nodes with docker (pause, disconnect).
//
// Set by run-e2e.sh: KUBECONFIG, KIND_CLUSTER, KIND_NETWORK.
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseIP } from '../../shared/net/index.ts';
import { REPO_ROOT, run, sleep, waitFor } from '../lab/index.ts';
import { httpGet, probe, tcpConnect, type HttpResult, type ProbeSampleOf } from '../lab/probes.ts';
import { NeighbourProbe } from './neighbours.ts';
import { measureFailover, outageBeyondStalls } from '../e2e/probe-analysis.ts';

export const INSTALL_NS = 'ballast-system';

/** test/kind/addresses.env: the one place the cluster's addresses are written down. */
export function readAddresses(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(REPO_ROOT, 'test', 'kind', 'addresses.env'), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=("?)(.*)\2$/.exec(line.trim());
    if (m) out[m[1]!] = m[3]!;
  }
  return out;
}

/** a-b range (as in a pool) contains ip. */
export function rangeContains(range: string, ip: string): boolean {
  const [first, last] = range.split('-').map((s) => parseIP(s.trim()));
  const x = parseIP(ip);
  if (!first?.ok || !last?.ok || !x.ok || x.value.family !== first.value.family) return false;
  return x.value.value >= first.value.value && x.value.value <= last.value.value;
}

export const urlOf = (ip: string, path = '/hostname'): string => `http://${ip.includes(':') ? `[${ip}]` : ip}:80${path}`;

/** Wall-clock ms with sub-ms resolution: the clock of probe samples. */
export const wallClockMs = (): number => performance.timeOrigin + performance.now();

export interface KindNode {
  readonly name: string;
  readonly ipv4: string;
  readonly ipv6: string;
  readonly mac: string;
  readonly controlPlane: boolean;
}

export interface ProbeResult {
  /** The requests to the Service IP. */
  readonly samples: Array<ProbeSampleOf<HttpResult>>;
  /** The same series to a listener in this process: when it saw nothing either, the prober itself was stalled. */
  readonly control: Array<ProbeSampleOf<HttpResult>>;
}

export interface ProbeMeasure {
  /** The lab's definition (test/e2e/probe-analysis.ts): the longest stretch without a successful answer. */
  readonly outageMs: number;
  /** The same, less the prober's own stalls (outageBeyondStalls): what the network path did. */
  readonly beyondStallsMs: number;
  readonly failed: number;
}

export function measure(result: ProbeResult, eventAt: number): ProbeMeasure {
  const m = measureFailover(result.samples, eventAt, '');
  return { outageMs: Math.round(m.outageMs), beyondStallsMs: Math.round(outageBeyondStalls(result.samples, result.control, eventAt)), failed: m.failed };
}

export interface RunningProbe {
  /** Stops sending and resolves with every sample once the last answer is in. */
  stop(): Promise<ProbeResult>;
}

export class KindCluster {
  readonly cluster: string;
  readonly network: string;
  /** The host's side of the docker network: the client's interface. */
  readonly bridge: string;
  readonly nodes: readonly KindNode[];
  readonly addresses: Record<string, string>;
  readonly kc: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly custom: k8s.CustomObjectsApi;
  readonly coordination: k8s.CoordinationV1Api;
  readonly #neighbours: NeighbourProbe;
  readonly #controlServer: Server;
  readonly #controlPort: number;

  private constructor(cluster: string, network: string, bridge: string, nodes: KindNode[], kc: k8s.KubeConfig, control: Server) {
    this.cluster = cluster;
    this.network = network;
    this.bridge = bridge;
    this.nodes = nodes;
    this.addresses = readAddresses();
    this.kc = kc;
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    this.#neighbours = new NeighbourProbe(bridge, { ipv4: this.addresses.KIND_GATEWAY4!, ipv6: this.addresses.KIND_GATEWAY6! });
    this.#controlServer = control;
    this.#controlPort = (control.address() as AddressInfo).port;
  }

  close(): void {
    this.#neighbours.close();
    this.#controlServer.close();
  }

  static async connect(): Promise<KindCluster> {
    const cluster = process.env.KIND_CLUSTER ?? 'ballast-e2e';
    const network = process.env.KIND_NETWORK ?? 'ballast-kind';
    const kc = new k8s.KubeConfig();
    kc.loadFromDefault();
    kc.setCurrentContext(`kind-${cluster}`);
    const inspect = JSON.parse(await run(['docker', 'network', 'inspect', network])) as Array<{ Id: string; Options?: Record<string, string>; Containers?: Record<string, unknown> }>;
    const bridge = inspect[0]?.Options?.['com.docker.network.bridge.name'] ?? `br-${inspect[0]?.Id.slice(0, 12)}`;
    const names = (await run([process.env.KIND ?? 'kind', 'get', 'nodes', '--name', cluster])).split('\n').filter(Boolean).sort();
    const nodes: KindNode[] = [];
    for (const name of names) {
      const [c] = JSON.parse(await run(['docker', 'inspect', name])) as Array<{ NetworkSettings: { Networks: Record<string, { IPAddress: string; GlobalIPv6Address: string; MacAddress: string }> } }>;
      const n = c?.NetworkSettings.Networks[network];
      if (!n) throw new Error(`node ${name} is not on docker network ${network}`);
      nodes.push({ name, ipv4: n.IPAddress, ipv6: n.GlobalIPv6Address, mac: n.MacAddress, controlPlane: name.endsWith('-control-plane') });
    }
    const control = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
    return new KindCluster(cluster, network, bridge, nodes, kc, control);
  }

  get workers(): KindNode[] {
    return this.nodes.filter((n) => !n.controlPlane);
  }

  node(name: string): KindNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  nodeWithMac(mac: string): KindNode | undefined {
    return this.nodes.find((n) => n.mac === mac);
  }

  kubectl(args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    return run(['kubectl', '--context', `kind-${this.cluster}`, ...args], opts);
  }

  /**
   * One ARP request (IPv4) or Neighbor Solicitation (IPv6) from the host on
   * the bridge; the distinct MACs that answered within listenMs.
   */
  whoHas(ip: string, listenMs = 300): Promise<string[]> {
    return this.#neighbours.whoHas(ip, listenMs);
  }

  /**
   * Waits for another node to claim ip (its gratuitous ARP / unsolicited NA,
   * or a reply) since `since`; returns ms from `since` to that frame.
   */
  async takeover(ip: string, since: number, owner: string, timeoutMs = 10_000): Promise<number> {
    const claim = await waitFor(`a node other than ${owner} to claim ${ip}`, () => this.#neighbours.firstClaimSince(ip, since, this.node(owner).mac), { timeoutMs, intervalMs: 20 });
    return claim.at - since;
  }

  /** The node that answers for ip once exactly one MAC answers (optionally: one that passes `accept`). */
  async settledOwner(ip: string, accept: (node: string) => boolean = () => true, timeoutMs = 20_000): Promise<string> {
    return waitFor(`one node to answer for ${ip}`, async () => {
      const macs = await this.whoHas(ip, 200);
      if (macs.length !== 1) return undefined;
      const node = this.nodeWithMac(macs[0]!)?.name;
      return node !== undefined && accept(node) ? node : undefined;
    }, { timeoutMs, intervalMs: 100 });
  }

  /**
   * Asks who has ip over and over until stop(); resolves with the largest
   * number of MACs that answered one request, every MAC seen, and when
   * (ms since the watch began) more than one answered, with which nodes.
   */
  watchClaims(ip: string): { stop(): Promise<{ most: number; seen: string[]; several: string[]; questions: string[][] }> } {
    let stopped = false;
    let most = 0;
    const seen = new Set<string>();
    const several: string[] = [];
    const questions: string[][] = [];
    const t0 = wallClockMs();
    const loop = (async () => {
      while (!stopped) {
        const at = wallClockMs() - t0;
        const macs = await this.whoHas(ip, 100).catch(() => []);
        questions.push(macs);
        most = Math.max(most, macs.length);
        for (const m of macs) seen.add(m);
        if (macs.length > 1) several.push(`${Math.round(at)} ms: ${macs.map((m) => this.nodeWithMac(m)?.name ?? m).join(' + ')}`);
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await loop;
        return { most, seen: [...seen], several, questions };
      },
    };
  }

  /**
   * A TCP connect to ip:80 every 10 ms from the host, until stop(); and the
   * same series to the control server. Connects, not HTTP: the handshake is
   * answered by the Pod's kernel, so the measure is the path Ballast and
   * kube-proxy make (ARP/NDP, DNAT, routes), not how soon a starved agnhost
   * gets the CPU on a busy machine (checks elsewhere ask for HTTP answers).
   * Each with a short timeout: a connect during an outage would otherwise
   * wait out the 1 s SYN retransmit.
   */
  startProbe(ip: string): RunningProbe {
    const ctl = new AbortController();
    const opts = { intervalMs: 10, until: ctl.signal };
    const samples = probe(() => tcpConnect(ip, 80, 150), opts);
    const control = probe(() => tcpConnect('127.0.0.1', this.#controlPort, 150), opts);
    return {
      stop: async () => {
        ctl.abort();
        return { samples: await samples, control: await control };
      },
    };
  }

  get(ip: string, timeoutMs = 1_000): Promise<HttpResult> {
    return httpGet(urlOf(ip), timeoutMs);
  }

  async ingress(namespace: string, name: string, count: number): Promise<string[]> {
    return waitFor(`${namespace}/${name} to get ${count} IP(s)`, async () => {
      const svc = await this.core.readNamespacedServiceStatus({ namespace, name });
      const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
      return ips.length === count ? ips : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200 });
  }

  /** The node the ServiceL2Status of namespace/name names, when exactly one does. */
  async announcer(namespace: string, name: string): Promise<string | undefined> {
    const list = (await this.custom.listNamespacedCustomObject({ group: 'ballast.io', version: 'v1beta1', namespace: INSTALL_NS, plural: 'servicel2statuses' })) as {
      items: Array<{ status?: { node?: string; serviceName?: string; serviceNamespace?: string } }>;
    };
    const mine = list.items.filter((s) => s.status?.serviceName === name && s.status.serviceNamespace === namespace);
    return mine.length === 1 ? mine[0]!.status?.node : undefined;
  }

  async speakerPodOn(node: string): Promise<k8s.V1Pod | undefined> {
    const pods = await this.core.listNamespacedPod({ namespace: INSTALL_NS, labelSelector: 'app.kubernetes.io/component=speaker', fieldSelector: `spec.nodeName=${node}` });
    return pods.items.find((p) => !p.metadata?.deletionTimestamp);
  }

  async waitNodeReady(node: string): Promise<void> {
    await waitFor(`node ${node} to be Ready`, async () => {
      const n = await this.core.readNode({ name: node });
      return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    }, { timeoutMs: 120_000, intervalMs: 500 });
  }

  /** The node leaves the LAN: its container is disconnected from the docker network. */
  async disconnect(node: string): Promise<void> {
    await run(['docker', 'network', 'disconnect', this.network, node]);
  }

  /** And comes back with the same addresses (and so the same MAC: docker derives it from the IPv4 address). */
  async reconnect(node: string): Promise<void> {
    const n = this.node(node);
    await run(['docker', 'network', 'connect', '--ip', n.ipv4, '--ip6', n.ipv6, this.network, node]);
  }

  async pause(node: string): Promise<void> {
    await run(['docker', 'pause', node]);
  }

  async unpause(node: string): Promise<void> {
    await run(['docker', 'unpause', node]);
  }

  /**
   * What the speakers logged since `sinceMs` (wall clock), node by node: for a
   * failure message, so a failed run says what each speaker decided and when.
   */
  async speakerLogsSince(sinceMs: number, nodes: readonly string[] = this.nodes.map((n) => n.name)): Promise<string> {
    const since = new Date(sinceMs - 1_000).toISOString();
    const parts = await Promise.all(nodes.map(async (node) => {
      const pod = await this.speakerPodOn(node).catch(() => undefined);
      if (pod === undefined) return `--- ${node}: no speaker Pod`;
      const out = await this.kubectl(['-n', INSTALL_NS, 'logs', pod.metadata!.name!, `--since-time=${since}`]).catch((e: unknown) => `(kubectl logs failed: ${(e as Error).message})`);
      return `--- ${node} (${pod.metadata!.name})\n${out.trim()}`;
    }));
    return parts.join('\n');
  }

  /** The speaker's resident memory on a node, from its own /metrics (hostNetwork :7473). */
  async speakerRssBytes(node: string): Promise<number> {
    const res = await httpGet(`http://${this.node(node).ipv4}:7473/metrics`, 2_000);
    const m = /^process_resident_memory_bytes (\S+)$/m.exec(res.body ?? '');
    if (!res.ok || !m) throw new Error(`no process_resident_memory_bytes from the speaker on ${node}: ${res.error ?? res.status}`);
    return Number(m[1]);
  }
}

export { sleep, waitFor };
