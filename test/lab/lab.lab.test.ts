// The lab is real: a real API server with TLS and RBAC that serves Ballast's
// CRDs, and a LAN of namespaces where a client resolves nodes by ARP and NDP.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { Lan, REPO_ROOT, describeApiError, kubeConfigFromHandle, run, serviceAccountKubeconfig, sweepStaleLabs, uniqueName, waitFor } from './index.ts';

const handle = inject('controlPlane');
const kc = kubeConfigFromHandle(handle);
const core = kc.makeApiClient(k8s.CoreV1Api);
const objects = k8s.KubernetesObjectApi.makeApiClient(kc);

const pool = (namespace: string, name: string, addresses: string[]): k8s.KubernetesObject & { spec: unknown } => ({
  apiVersion: 'ballast.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace },
  spec: { addresses },
});

describe('control plane', () => {
  const ns = uniqueName('lab-api');
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: ns } } });
  });

  it('serves the IPAddressPool CRD applied from deploy/ and rejects invalid objects with the CRD rule message', async () => {
    await objects.create(pool(ns, 'mixed', ['198.51.100.0/28', '2001:db8:100::/64', '203.0.113.10-203.0.113.20']));
    const got = (await objects.read({ apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'mixed', namespace: ns } })) as k8s.KubernetesObject & {
      spec: { addresses: string[]; autoAssign: boolean; avoidBuggyIPs: boolean };
    };
    expect(got.spec.addresses).toEqual(['198.51.100.0/28', '2001:db8:100::/64', '203.0.113.10-203.0.113.20']);
    // Defaults come from the CRD schema, so the API server really applied it.
    expect(got.spec.autoAssign).toBe(true);
    expect(got.spec.avoidBuggyIPs).toBe(false);

    const rejected = await objects.create(pool(ns, 'bad', ['198.51.100.1/24'])).then(
      () => 'accepted',
      (e: unknown) => describeApiError(e),
    );
    expect(rejected).toContain('host bits set');
  });

  it('enforces RBAC: a ServiceAccount gets only what a Role grants it', async () => {
    const { CoreV1Api: Core, RbacAuthorizationV1Api: Rbac } = k8s;
    const rbac = kc.makeApiClient(Rbac);
    const saConfig = new k8s.KubeConfig();
    saConfig.loadFromFile(await serviceAccountKubeconfig(handle, ns, 'reader'));
    const asSa = saConfig.makeApiClient(Core);
    const poolsAsSa = k8s.KubernetesObjectApi.makeApiClient(saConfig);

    const denied = await asSa.listNamespacedService({ namespace: ns }).then(() => 200, (e: { code?: number }) => e.code);
    expect(denied).toBe(403);

    await rbac.createNamespacedRole({
      namespace: ns,
      body: { metadata: { name: 'pool-reader' }, rules: [{ apiGroups: ['ballast.io'], resources: ['ipaddresspools'], verbs: ['get', 'list'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'pool-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pool-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
      },
    });
    await waitFor('the RoleBinding to take effect', () =>
      poolsAsSa.list('ballast.io/v1beta1', 'IPAddressPool', ns).then(
        (l) => l.items.length >= 1,
        () => false,
      ),
    );
    const stillDenied = await asSa.listNamespacedService({ namespace: ns }).then(() => 200, (e: { code?: number }) => e.code);
    expect(stillDenied).toBe(403);
    const writeDenied = await poolsAsSa.create(pool(ns, 'not-allowed', ['203.0.113.0/30'])).then(() => 201, (e: { code?: number }) => e.code);
    expect(writeDenied).toBe(403);
  });
});

describe('LAN of network namespaces', () => {
  let lan: Lan;
  const prefix = `${uniqueName('lab')}-n`;

  beforeAll(async () => {
    lan = await Lan.create({ nodes: 3, controlPlane: handle, nodeNamePrefix: prefix });
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('gives every node its own MAC and a Node object with its addresses', async () => {
    expect(new Set(lan.nodes.map((n) => n.mac)).size).toBe(3);
    for (const n of lan.nodes) {
      const node = await core.readNode({ name: n.name });
      const addresses = node.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address);
      expect(addresses).toEqual([n.ipv4, n.ipv6]);
      const link = await run(['ip', '-n', n.ns, '-j', 'link', 'show', 'eth0']);
      expect((JSON.parse(link) as Array<{ address: string }>)[0]?.address).toBe(n.mac);
    }
  });

  it.each(['ipv4', 'ipv6'] as const)('the client resolves each node by %s neighbour discovery and its HTTP answer names the node', async (family) => {
    await lan.flushNeighbors();
    for (const n of lan.nodes) {
      const ip = n[family];
      expect(await lan.neighbor(ip)).toBeUndefined();
      const res = await lan.http(`http://${family === 'ipv6' ? `[${ip}]` : ip}:18080/`);
      expect(res).toMatchObject({ ok: true, status: 200, body: `${n.name}\n` });
      // The entry exists only because ARP (IPv4) or NDP (IPv6) just resolved it.
      const entry = await lan.neighbor(ip);
      expect(entry?.mac).toBe(n.mac);
      expect(entry?.state).toMatch(/REACHABLE|STALE|DELAY/);
    }
  });

  it('forwards Service traffic for a load-balancer IP to the node that receives it (kube-proxy stand-in)', async () => {
    // No speaker yet: point the client at node2 by hand for one pool address of each family.
    const node2 = lan.nodes[1]!;
    for (const vip of ['203.0.113.77', '2001:db8:100::77']) {
      await run(['ip', '-n', lan.client.ns, 'neigh', 'replace', vip, 'lladdr', node2.mac, 'dev', 'eth0', 'nud', 'permanent']);
      const url = vip.includes(':') ? `http://[${vip}]:80/` : `http://${vip}:80/`;
      expect(await lan.http(url)).toMatchObject({ ok: true, body: `${node2.name}\n` });
    }
  });

  it('runs a process inside a node namespace that reaches the API server with the node kubeconfig', async () => {
    const node = lan.nodes[2]!;
    const script = `import * as k8s from '@kubernetes/client-node';
      const kc = new k8s.KubeConfig(); kc.loadFromDefault();
      const n = await kc.makeApiClient(k8s.CoreV1Api).readNode({ name: process.env.NODE_NAME });
      console.log(kc.getCurrentCluster().server, n.metadata.name);`;
    const proc = lan.spawn(node, 'api-check', [process.execPath, '--input-type=module', '-e', script]);
    expect(await proc.exited).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(proc.logFile, 'utf8').trim()).toBe(`https://127.0.0.1:6443 ${node.name}`);
    // That process really was in the node's namespace: its only non-loopback address is the node's.
    const addrs = await lan.exec(node, ['ip', '-4', '-o', 'addr', 'show', 'eth0']);
    expect(addrs).toContain(`${node.ipv4}/25`);
  });

  it('never answers for an address outside the lab: the client has no route beyond the documentation ranges', async () => {
    const routes = await run(['ip', '-n', lan.client.ns, '-j', 'route', 'show']);
    const dsts = (JSON.parse(routes) as Array<{ dst: string }>).map((r) => r.dst).sort();
    expect(dsts).toEqual(['198.51.100.0/25', '203.0.113.0/24']);
    const routes6 = await run(['ip', '-n', lan.client.ns, '-6', '-j', 'route', 'show']);
    const dsts6 = (JSON.parse(routes6) as Array<{ dst: string }>).map((r) => r.dst).filter((d) => !d.startsWith('fe80') && !d.startsWith('ff')).sort();
    expect(dsts6).toEqual(['2001:db8:0:1::/64', '2001:db8:100::/40']);
  });
});

describe('teardown', () => {
  it('removes every namespace, process and temporary file when a LAN is destroyed', async () => {
    const lan = await Lan.create({ nodes: 2 });
    const namespaces = lan.namespaces();
    const pids = (await Promise.all(namespaces.map((ns) => run(['ip', 'netns', 'pids', ns])))).join(' ').split(/\s+/).filter(Boolean);
    expect(pids.length).toBeGreaterThanOrEqual(3); // an agent per node and the client
    await lan.destroy();
    const listed = await run(['ip', 'netns', 'list']);
    for (const ns of namespaces) expect(listed).not.toContain(ns);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(lan.dir)).toBe(false);
  });

  it('sweeps what a SIGKILLed lab owner left behind on the next start', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'test', 'lab', 'fixtures', 'orphan-lan.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const report = await new Promise<{ namespaces: string[]; pids: string[] }>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as { namespaces: string[]; pids: string[] }));
      child.once('exit', (code) => reject(new Error(`orphan-lan exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect((await run(['ip', 'netns', 'list'])).includes(report.namespaces[0]!)).toBe(true);

    const swept = await sweepStaleLabs();
    expect(swept.sort()).toEqual([...report.namespaces].sort());
    const listed = await run(['ip', 'netns', 'list']);
    for (const ns of report.namespaces) expect(listed).not.toContain(ns);
    await waitFor('the orphan agents to be gone', () => report.pids.every((pid) => !existsSync(`/proc/${pid}`)), { timeoutMs: 5_000 });
  });
});

describe('npm run lab', () => {
  it('installs Ballast in a lab a person can query with the kubeconfig it prints, and Ctrl-C removes everything', async () => {
    const cli = spawn(process.execPath, [join(REPO_ROOT, 'test', 'lab', 'cli.ts'), '--nodes', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('the lab demo to print its instructions', () => out.includes('Press Ctrl-C'), { timeoutMs: 120_000, intervalMs: 200 });
      const kubeconfig = /kubeconfig\s+(\S+)/.exec(out)?.[1];
      const kubectl = /kubectl\s+(\/\S+)/.exec(out)?.[1];
      expect(kubeconfig).toBeDefined();
      expect(kubectl).toBeDefined();
      const kc = (...a: string[]): Promise<string> => run([kubectl!, '--kubeconfig', kubeconfig!, ...a]);
      const nodes = (await kc('get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ').sort();
      expect(nodes).toHaveLength(2);
      expect(nodes.every((n) => /-n[12]$/.test(n))).toBe(true);
      expect(await kc('get', 'crd', '-o', 'name')).toContain('ipaddresspools.ballast.io');
      // The demo Service got an IPv4 and an IPv6 address (the CLI itself checked that the client reaches them).
      const ips = (await kc('get', 'svc', '-n', 'demo', 'hello', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}')).split(' ');
      expect(ips).toHaveLength(2);
      expect(out).toContain(`curl -s http://${ips[0]}/`);
      expect(await kc('get', 'servicel2statuses', '-n', 'ballast-system', '-o', 'jsonpath={.items[*].status.serviceName}')).toBe('hello');
      const namespaces = [...new Set([...out.matchAll(/ip netns exec (blab-\S+)/g)].map((m) => m[1]!))];
      expect(namespaces.length).toBe(3);

      cli.kill('SIGINT');
      const code = await new Promise((r) => cli.once('exit', r));
      expect(code).toBe(0);
      const listed = await run(['ip', 'netns', 'list']);
      for (const ns of namespaces) expect(listed).not.toContain(ns);
      expect(existsSync(kubeconfig!)).toBe(false);
    } finally {
      cli.kill('SIGKILL');
    }
  });
});
