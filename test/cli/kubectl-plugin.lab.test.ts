// The one-file build of the CLI (scripts/build-cli.ts) installed the way
// kubectl plugins are: alone in a directory on PATH as `kubectl-ballast`,
// then `kubectl ballast status` against the lab's real API server.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { buildCli } from '../../scripts/build-cli.ts';
import { findBinaries, kubeConfigFromHandle, uniqueName } from '../lab/index.ts';

const handle = inject('controlPlane');
const kc = kubeConfigFromHandle(handle);
const core = kc.makeApiClient(k8s.CoreV1Api);
const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
const ns = uniqueName('plugin');
const bin = mkdtempSync(join(tmpdir(), 'ballast-plugin-bin-'));

// The pool's range is this test's alone: `ballast status` counts every LoadBalancer Service in the cluster whose IP
// falls in it, and other lab tests on the shared API server write 203.0.113.x into Service statuses.
beforeAll(async () => {
  await buildCli(join(bin, 'kubectl-ballast'));
  await core.createNamespace({ body: { metadata: { name: ns } } });
  await objects.create({ apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'front', namespace: ns }, spec: { addresses: ['2001:db8:42::/124'] } } as k8s.KubernetesObject);
}, 60_000);
afterAll(async () => {
  rmSync(bin, { recursive: true, force: true });
  await core.deleteNamespace({ name: ns }).catch(() => undefined);
});

describe('kubectl ballast, from the one-file build', () => {
  it('runs as a kubectl plugin with kubectl\'s KUBECONFIG, from a directory holding only itself', () => {
    // PATH: the plugin's directory and Node.js; no checkout, no node_modules anywhere it could look.
    const env = { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`, KUBECONFIG: handle.kubeconfig, HOME: bin };
    const plugins = spawnSync(findBinaries().kubectl, ['plugin', 'list'], { cwd: bin, env, encoding: 'utf8' });
    expect(plugins.stdout).toContain(join(bin, 'kubectl-ballast'));
    const r = spawnSync(findBinaries().kubectl, ['ballast', 'status', '--namespace', ns, '--no-color', '--width', '120'], { cwd: bin, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Ballast in namespace ${ns}`);
    expect(r.stdout).toMatch(/ {2}front\n {4}2001:db8:42::\/124\n {4}IPv6 ░+ {2}0\/16 used \(0%\) ~\n/);
    expect(r.stdout).toContain(`IPAddressPool ${ns}/front: no L2Advertisement selects it`);
  });
});
