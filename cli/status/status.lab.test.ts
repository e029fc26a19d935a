// `ballast status` against the lab's real API server: objects made by hand
// (Service and pool status patched as the controller would, ServiceL2Status as
// a speaker would, a Warning event, Node and speaker Pod objects), then the
// real command line, also through the kubectl plugin shim.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { REPO_ROOT, findBinaries, kubeConfigFromHandle, uniqueName } from '../../test/lab/index.ts';

const handle = inject('controlPlane');
const kc = kubeConfigFromHandle(handle);
const core = kc.makeApiClient(k8s.CoreV1Api);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
const CLI = join(REPO_ROOT, 'cli', 'ballast.ts');

const group = { group: 'ballast.io', version: 'v1beta1' };

async function runCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(argv[0]!, argv.slice(1), { encoding: 'utf8', env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== 'number') throw e;
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('ballast status against the lab API server', () => {
  const ns = uniqueName('status'); // plays the install namespace
  const apps = uniqueName('status-apps');
  const nodes = [`${ns}-a`, `${ns}-b`];

  beforeAll(async () => {
    for (const name of [ns, apps]) await core.createNamespace({ body: { metadata: { name } } });
    for (const name of nodes) await core.createNode({ body: { metadata: { name, labels: { 'kubernetes.io/hostname': name } } } });

    // Pools: "front" with the status a controller writes, "back" with none (usage is then counted from Services).
    const pool = (name: string, addresses: string[]) => objects.create({ apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: ns }, spec: { addresses } } as k8s.KubernetesObject);
    await pool('front', ['203.0.113.0/28']);
    await pool('back', ['203.0.113.64/30']);
    await custom.patchNamespacedCustomObjectStatus(
      {
        ...group,
        namespace: ns,
        plural: 'ipaddresspools',
        name: 'front',
        body: {
          status: {
            assignedIPv4: 2,
            availableIPv4: 14,
            conditions: [{ type: 'Ready', status: 'True', reason: 'Allocating', message: 'allocating from 16 addresses', lastTransitionTime: new Date().toISOString() }],
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await objects.create({ apiVersion: 'ballast.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'front-only', namespace: ns }, spec: { ipAddressPools: ['front', 'ghost'] } } as k8s.KubernetesObject);

    // Services, with the status the controller would write.
    const lb = async (name: string, ip: string | undefined): Promise<void> => {
      await core.createNamespacedService({ namespace: apps, body: { metadata: { name }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] } } });
      if (ip) await core.patchNamespacedServiceStatus({ name, namespace: apps, body: { status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    };
    await lb('web', '203.0.113.1');
    await lb('api', '203.0.113.2');
    await lb('batch', '203.0.113.65');
    await lb('db', undefined);
    const now = new Date();
    await core.createNamespacedEvent({
      namespace: apps,
      body: {
        metadata: { name: 'db.allocation' },
        involvedObject: { apiVersion: 'v1', kind: 'Service', namespace: apps, name: 'db' },
        type: 'Warning',
        reason: 'AllocationFailed',
        message: 'no available IPs: pool "front" is full',
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        source: { component: 'ballast-controller' },
      },
    });

    // What speakers write: web announced by node a; api by both (split brain); batch by none.
    const l2status = async (name: string, service: string, node: string): Promise<void> => {
      await custom.createNamespacedCustomObject({ ...group, namespace: ns, plural: 'servicel2statuses', body: { apiVersion: 'ballast.io/v1beta1', kind: 'ServiceL2Status', metadata: { name }, spec: {} } });
      await custom.patchNamespacedCustomObjectStatus(
        { ...group, namespace: ns, plural: 'servicel2statuses', name, body: { status: { node, serviceName: service, serviceNamespace: apps } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    };
    await l2status('l2-web', 'web', nodes[0]!);
    await l2status('l2-api-a', 'api', nodes[0]!);
    await l2status('l2-api-b', 'api', nodes[1]!);

    // A ready speaker pod on node a only (no kubelet here: its status is written by hand).
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'ballast-speaker-a', labels: { 'app.kubernetes.io/name': 'ballast', 'app.kubernetes.io/component': 'speaker' } },
        spec: { nodeName: nodes[0]!, containers: [{ name: 'speaker', image: 'ghcr.io/ballast-lb/ballast:test' }] },
      },
    });
    await core.patchNamespacedPodStatus(
      { name: 'ballast-speaker-a', namespace: ns, body: { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  });

  afterAll(async () => {
    for (const name of nodes) await core.deleteNode({ name }).catch(() => {});
    for (const name of [ns, apps]) await core.deleteNamespace({ name }).catch(() => {});
  });

  it('shows pools, Services with IP, pool and announcing node, and names every problem', async () => {
    const r = await runCommand([process.execPath, CLI, 'status', '--kubeconfig', handle.kubeconfig, '--namespace', ns, '--no-color', '--width', '200']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1); // errors found
    const out = r.stdout;
    expect(out).toMatch(/ {2}front {2}Ready\n {4}203\.0\.113\.0\/28\n {4}IPv4 █+░+ {2}2\/16 used \(13%\)\n/);
    // No status on "back": counted from the one Service holding one of its 4 addresses.
    expect(out).toMatch(/ {2}back\n {4}203\.0\.113\.64\/30\n {4}IPv4 █+░+ {2}1\/4 used \(25%\) ~\n/);
    expect(out).toMatch(new RegExp(`  ${apps}/web +203\\.0\\.113\\.1 +front +${nodes[0]}\n`));
    expect(out).toMatch(new RegExp(`  ${apps}/db +— +— +—\n`));
    const problems = out.slice(out.indexOf('Problems ('));
    expect(problems).toContain(`✗ Service ${apps}/db: has no IP: AllocationFailed: no available IPs: pool "front" is full`);
    expect(problems).toContain(`✗ Service ${apps}/api: 203.0.113.2 announced by 2 nodes (${nodes[0]}, ${nodes[1]})`);
    expect(problems).toContain(`✗ Service ${apps}/batch: 203.0.113.65 announced by no node: no L2Advertisement selects its pool "back"`);
    expect(problems).toContain(`! IPAddressPool ${ns}/back: no L2Advertisement selects it`);
    expect(problems).toContain(`! L2Advertisement ${ns}/front-only: spec.ipAddressPools[1]: no IPAddressPool "ghost"`);
    expect(problems).toMatch(new RegExp(`! speakers: \\d+ nodes? (has|have) no ready speaker and cannot announce: [^\\n]*${nodes[1]}`));
    expect(problems).not.toMatch(new RegExp(`cannot announce: [^\\n]*${nodes[0]}`));
  });

  it('--output json carries the same report', async () => {
    const r = await runCommand([process.execPath, CLI, 'status', '--kubeconfig', handle.kubeconfig, '--namespace', ns, '--output', 'json']);
    const report = JSON.parse(r.stdout) as { pools: Array<{ name: string; usage: Array<{ assigned: string; available: string; source: string }> }>; services: Array<{ name: string; nodes: string[] }> };
    expect(report.pools.map((p) => [p.name, p.usage[0]])).toEqual([
      ['back', { family: 'IPv4', assigned: '1', available: '3', source: 'services' }],
      ['front', { family: 'IPv4', assigned: '2', available: '14', source: 'status' }],
    ]);
    const mine = report.services.filter((s) => ['web', 'api', 'batch', 'db'].includes(s.name));
    expect(mine.find((s) => s.name === 'api')?.nodes).toEqual([nodes[0], nodes[1]]);
  });

  it('runs as a kubectl plugin through the kubectl-ballast shim', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'ballast-plugin-'));
    try {
      symlinkSync(join(REPO_ROOT, 'cli', 'kubectl-ballast'), join(bin, 'kubectl-ballast'));
      const env = { ...process.env, PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH}`, KUBECONFIG: handle.kubeconfig };
      const r = await runCommand([findBinaries().kubectl, 'ballast', 'status', '--namespace', ns, '--no-color'], env);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`Ballast in namespace ${ns}`);
      expect(r.stdout).toContain(`${apps}/web`);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('exits 2 with the reason when it cannot even load the kubeconfig', async () => {
    const r = await runCommand([process.execPath, CLI, 'status', '--kubeconfig', join(tmpdir(), 'does-not-exist.kubeconfig')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ballast status: .*does-not-exist\.kubeconfig/);
  });
});
