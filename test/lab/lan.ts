// A LAN of Linux network namespaces: N nodes and a client on one bridge that
// lives in its own namespace, so nothing touches the host's network. Each node
// has its own MAC, an IPv4 and an IPv6 address, a Node object in the API (when
// a control plane is given), a kube-proxy stand-in and a way to reach the API
// server; processes (the speaker) can be started inside a node.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { run, runQuiet, startProcess, waitFor, type ManagedProcess } from './exec.ts';
import { LabRegistry, NETNS_PREFIX, killProcessesIn, sweepStaleLabs } from './registry.ts';
import { AgentClient, type HttpResult } from './agent-client.ts';
import { writeKubeconfig } from './pki.ts';
import type { ControlPlaneHandle } from './control-plane.ts';
import { REPO_ROOT } from './binaries.ts';
import * as plan from './addressing.ts';

export interface LabMember {
  readonly name: string;
  readonly ns: string;
  readonly iface: 'eth0';
  readonly mac: string;
  readonly ipv4: string;
  readonly ipv6: string;
  readonly agent: AgentClient;
}

export interface LabNode extends LabMember {
  readonly index: number;
}

export interface LanOptions {
  nodes?: number;
  /** Register Node objects and let node namespaces reach this control plane. */
  controlPlane?: ControlPlaneHandle;
  /** Node names are `${prefix}${i}` (default "node"); use a unique prefix when several LANs share one control plane. */
  nodeNamePrefix?: string;
  /** Extra labels on every Node object. */
  nodeLabels?: Record<string, string>;
  log?: (msg: string) => void;
}

export interface NeighborEntry {
  ip: string;
  mac?: string;
  state: string;
}

const live = new Set<Lan>();
// Last resort for an uncaught exception: the namespaces go synchronously.
// (Processes die with us through their parent-death signal; a SIGKILLed
// owner is swept by the next lab start.)
process.once('exit', () => {
  for (const lan of live) for (const ns of lan.namespaces()) {
    try {
      execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
});

export class Lan {
  readonly id: string;
  readonly dir: string;
  readonly bridgeNs: string;
  readonly nodes: LabNode[] = [];
  client!: LabMember;
  /** kubeconfig for processes inside node namespaces (server https://127.0.0.1:6443 there), admin identity. */
  nodeKubeconfig?: string;
  private readonly registry: LabRegistry;
  private readonly processes: ManagedProcess[] = [];
  private readonly opts: LanOptions;
  private readonly log: (msg: string) => void;

  private constructor(opts: LanOptions) {
    this.opts = opts;
    this.log = opts.log ?? (() => {});
    this.id = randomBytes(3).toString('hex');
    this.dir = mkdtempSync(join(tmpdir(), `ballast-lan-${this.id}-`));
    this.bridgeNs = `${NETNS_PREFIX}${this.id}-lan`;
    this.registry = new LabRegistry(`lan-${this.id}`);
    this.registry.addTmpDir(this.dir);
  }

  static async create(opts: LanOptions = {}): Promise<Lan> {
    await sweepStaleLabs();
    const lan = new Lan(opts);
    live.add(lan);
    try {
      await lan.build();
      return lan;
    } catch (e) {
      await lan.destroy();
      throw e;
    }
  }

  namespaces(): string[] {
    return [this.bridgeNs, ...this.nodes.map((n) => n.ns), ...(this.client ? [this.client.ns] : [])];
  }

  node(name: string): LabNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no node ${name} in lab ${this.id} (have ${this.nodes.map((n) => n.name).join(', ')})`);
    return node;
  }

  /** Runs a command inside a member's namespace and returns its stdout. */
  exec(member: LabMember | string, argv: readonly string[]): Promise<string> {
    const ns = typeof member === 'string' ? member : member.ns;
    return run(['ip', 'netns', 'exec', ns, ...argv]);
  }

  /**
   * Starts a long-lived process inside a node namespace, with KUBECONFIG
   * pointing at the API server (when the lab has a control plane) and
   * NODE_NAME set, as a DaemonSet pod on that node would have.
   */
  spawn(node: LabNode, name: string, argv: readonly string[], opts: { env?: NodeJS.ProcessEnv; kubeconfig?: string } = {}): ManagedProcess {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_NAME: node.name, ...opts.env };
    const kubeconfig = opts.kubeconfig ?? this.nodeKubeconfig;
    if (kubeconfig) env.KUBECONFIG = kubeconfig;
    const proc = startProcess(`${name}@${node.name}`, ['ip', 'netns', 'exec', node.ns, ...argv], {
      logFile: join(this.dir, `${name}-${node.name}-${this.processes.length}.log`),
      env,
      cwd: REPO_ROOT,
    });
    this.registry.addProcess(proc.pid);
    this.processes.push(proc);
    return proc;
  }

  /** An HTTP GET made from the client namespace (outside the cluster). */
  http(url: string, timeoutMs = 2_000): Promise<HttpResult> {
    return this.client.agent.http(url, timeoutMs);
  }

  /** The client's neighbour (ARP/NDP) entry for ip, if any. */
  async neighbor(ip: string): Promise<NeighborEntry | undefined> {
    const out = await run(['ip', '-n', this.client.ns, '-j', 'neigh', 'show', 'to', ip, 'dev', 'eth0']);
    const entries = JSON.parse(out || '[]') as Array<{ dst: string; lladdr?: string; state?: string[] }>;
    const e = entries.find((x) => x.dst === ip);
    return e && { ip: e.dst, mac: e.lladdr, state: (e.state ?? []).join(',') };
  }

  async flushNeighbors(): Promise<void> {
    await run(['ip', '-n', this.client.ns, 'neigh', 'flush', 'dev', 'eth0']);
  }

  /** Takes a node's LAN link down or up (from the bridge side: the node sees NO-CARRIER, like a pulled cable). */
  async setLink(node: LabNode, up: boolean): Promise<void> {
    await this.setLinkOf(node, up);
  }

  /** setLink for any member, the client included. */
  async setLinkOf(member: LabMember, up: boolean): Promise<void> {
    await run(['ip', '-n', this.bridgeNs, 'link', 'set', this.bridgePort(member), up ? 'up' : 'down']);
  }

  async destroy(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop(2_000)));
    for (const m of [...this.nodes, ...(this.client ? [this.client] : [])]) m.agent.close();
    for (const ns of this.namespaces()) {
      await killProcessesIn(ns);
      await runQuiet(['ip', 'netns', 'delete', ns]);
    }
    if (this.opts.controlPlane && this.nodes.length) {
      const api = this.adminKubeConfig().makeApiClient(k8s.CoreV1Api);
      await Promise.all(this.nodes.map((n) => api.deleteNode({ name: n.name }).catch(() => undefined)));
    }
    if (!process.env.BALLAST_LAB_KEEP) rmSync(this.dir, { recursive: true, force: true });
    this.registry.close();
    live.delete(this);
  }

  /** The bridge's port for a member (in the bridge namespace): where faults are injected. */
  bridgePort(member: { ns: string }): string {
    return member.ns === this.client?.ns ? 'client' : `p-${member.ns.slice(member.ns.lastIndexOf('-') + 1)}`;
  }

  private adminKubeConfig(): k8s.KubeConfig {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(this.opts.controlPlane!.kubeconfig);
    return kc;
  }

  private async build(): Promise<void> {
    const t0 = Date.now();
    await this.addNamespace(this.bridgeNs);
    // The bridge namespace only switches frames: no IPv6 of its own (no RS, MLD or DAD noise on the LAN).
    await this.exec(this.bridgeNs, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    await run(['ip', '-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    await run(['ip', '-n', this.bridgeNs, 'link', 'set', 'br0', 'up']);

    const count = this.opts.nodes ?? 3;
    const prefix = this.opts.nodeNamePrefix ?? 'node';
    const cp = this.opts.controlPlane;
    if (cp) {
      this.nodeKubeconfig = join(this.dir, 'node.kubeconfig');
      writeKubeconfig(this.nodeKubeconfig, {
        server: `https://127.0.0.1:${plan.NODE_API_PORT}`,
        caCert: cp.caCert,
        user: { cert: join(cp.pkiDir, 'admin.crt'), key: join(cp.pkiDir, 'admin.key') },
      });
    }
    for (let i = 1; i <= count; i++) {
      const name = `${prefix}${i}`;
      const ns = `${NETNS_PREFIX}${this.id}-n${i}`;
      const member = { name, ns, iface: 'eth0' as const, mac: plan.nodeMac(i), ipv4: plan.nodeIPv4(i), ipv6: plan.nodeIPv6(i) };
      await this.addMember(member);
      // kube-proxy stand-in: Service traffic for the pool ranges goes to the node's HTTP agent.
      await this.exec(ns, ['iptables', '-t', 'nat', '-A', 'PREROUTING', '-d', plan.LB_RANGE_V4, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(plan.NODE_HTTP_PORT)]);
      await this.exec(ns, ['ip6tables', '-t', 'nat', '-A', 'PREROUTING', '-d', plan.LB_RANGE_V6, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(plan.NODE_HTTP_PORT)]);
      const agent = await this.startAgent(member, [`--http-port=${plan.NODE_HTTP_PORT}`, ...(cp ? [`--api-socket=${cp.apiSocket}`, `--api-port=${plan.NODE_API_PORT}`] : [])]);
      this.nodes.push({ ...member, index: i, agent });
    }
    const client = { name: 'client', ns: `${NETNS_PREFIX}${this.id}-client`, iface: 'eth0' as const, mac: plan.CLIENT_MAC, ipv4: plan.CLIENT_IPV4, ipv6: plan.CLIENT_IPV6 };
    await this.addMember(client);
    // The pool ranges are on-link for the client, as a LAN router would see them: it resolves them by ARP/NDP.
    await run(['ip', '-n', client.ns, 'route', 'add', plan.LB_RANGE_V4, 'dev', 'eth0']);
    await run(['ip', '-n', client.ns, '-6', 'route', 'add', plan.LB_RANGE_V6, 'dev', 'eth0']);
    this.client = { ...client, agent: await this.startAgent(client, []) };
    if (cp) await this.registerNodes();
    this.log(`LAN ${this.id}: ${count} nodes + client up in ${Date.now() - t0} ms`);
  }

  private async addNamespace(ns: string): Promise<void> {
    this.registry.addNamespace(ns); // written down before it exists, so a crash right after is still swept
    await run(['ip', 'netns', 'add', ns]);
  }

  private async addMember(m: { ns: string; mac: string; ipv4: string; ipv6: string }): Promise<void> {
    await this.addNamespace(m.ns);
    const port = this.bridgePort(m);
    await run(['ip', 'link', 'add', 'eth0', 'netns', m.ns, 'address', m.mac, 'type', 'veth', 'peer', 'name', port, 'netns', this.bridgeNs]);
    await run(['ip', '-n', this.bridgeNs, 'link', 'set', port, 'master', 'br0', 'up']);
    await this.exec(m.ns, [
      'sysctl', '-q', '-w',
      // No router advertisements or autoconfiguration: the lab's addresses are static.
      'net.ipv6.conf.all.accept_ra=0', 'net.ipv6.conf.default.accept_ra=0',
      'net.ipv6.conf.all.autoconf=0', 'net.ipv6.conf.default.autoconf=0',
    ]);
    await run(['ip', '-n', m.ns, 'link', 'set', 'lo', 'up']);
    await run(['ip', '-n', m.ns, 'addr', 'add', `${m.ipv4}/${plan.LAN_V4_PREFIX}`, 'dev', 'eth0']);
    // nodad: the address is usable at once instead of after duplicate address detection (~1 s).
    await run(['ip', '-n', m.ns, '-6', 'addr', 'add', `${m.ipv6}/${plan.LAN_V6_PREFIX}`, 'dev', 'eth0', 'nodad']);
    await run(['ip', '-n', m.ns, 'link', 'set', 'eth0', 'up']);
  }

  private async startAgent(m: { name: string; ns: string }, extra: string[]): Promise<AgentClient> {
    const control = join(this.dir, `agent-${m.name}.sock`);
    const proc = startProcess(
      `agent@${m.name}`,
      ['ip', 'netns', 'exec', m.ns, process.execPath, join(REPO_ROOT, 'test', 'lab', 'agent.ts'), `--name=${m.name}`, `--control=${control}`, ...extra],
      { logFile: join(this.dir, `agent-${m.name}.log`) },
    );
    this.registry.addProcess(proc.pid);
    this.processes.push(proc);
    const agent = new AgentClient(control);
    await waitFor(`the lab agent in ${m.ns}`, async () => {
      if (!proc.running) throw new Error(`agent exited (${await proc.exited}); log ${proc.logFile}`);
      return agent.call<{ name: string }>({ op: 'ping' }).then((r) => r.name === m.name);
    }, { timeoutMs: 15_000, intervalMs: 50 });
    return agent;
  }

  private async registerNodes(): Promise<void> {
    const api = this.adminKubeConfig().makeApiClient(k8s.CoreV1Api);
    const now = new Date();
    for (const n of this.nodes) {
      const created = await api.createNode({
        body: {
          metadata: {
            name: n.name,
            labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'ballast.io/lab': this.id, ...this.opts.nodeLabels },
          },
        },
      });
      created.status = {
        addresses: [
          { type: 'InternalIP', address: n.ipv4 },
          { type: 'InternalIP', address: n.ipv6 },
          { type: 'Hostname', address: n.name },
        ],
        conditions: [
          { type: 'Ready', status: 'True', reason: 'LabNode', message: `network namespace ${n.ns}`, lastHeartbeatTime: now, lastTransitionTime: now },
          { type: 'NetworkUnavailable', status: 'False', reason: 'LabNode', message: 'lab LAN up', lastHeartbeatTime: now, lastTransitionTime: now },
        ],
      };
      await api.replaceNodeStatus({ name: n.name, body: created });
    }
  }
}
