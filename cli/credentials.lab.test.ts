// `ballast status` with the kubeconfigs kubectl accepts and Ballast's own
// transport does not: a real exec credential plugin (a small script printing
// an ExecCredential, as kubelogin or a cloud CLI would), and impersonation,
// against the lab's real API server; from the sources, and from the one-file
// build as kubectl runs it. Who the API server took the caller for
// shows in what it refused: a ServiceAccount that may read Ballast's objects
// and nothing else.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { buildCli } from '../scripts/build-cli.ts';
import { REPO_ROOT, capture, findBinaries, kubeConfigFromHandle, serviceAccountKubeconfig, uniqueName } from '../test/lab/index.ts';

const handle = inject('controlPlane');
const kc = kubeConfigFromHandle(handle);
const core = kc.makeApiClient(k8s.CoreV1Api);
const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
const CLI = join(REPO_ROOT, 'cli', 'ballast.ts');
const ns = uniqueName('creds');
const dir = join(handle.dir, ns);
let token = '';

/** A kubeconfig with the lab's cluster and this user entry. */
function kubeconfig(name: string, user: Record<string, unknown>): string {
  const file = join(dir, `${name}.kubeconfig`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'lab', cluster: { server: handle.server, 'certificate-authority-data': readFileSync(handle.caCert).toString('base64') } }],
      users: [{ name: 'me', user }],
      contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'me' } }],
      'current-context': 'lab',
    }),
  );
  return file;
}

/** An exec plugin: records that it ran and what kubectl-style input it got, then prints an ExecCredential (or fails). */
function plugin(name: string, body: string): string {
  const file = join(dir, 'bin', name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\nprintf '%s' "$KUBERNETES_EXEC_INFO" > "$0.input"\necho "$@" > "$0.args"\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const status = (kubeconfigFile: string) =>
  capture([process.execPath, CLI, 'status', '--kubeconfig', kubeconfigFile, '--namespace', ns, '--output', 'json'], { timeoutMs: 60_000 });

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  await core.createNamespace({ body: { metadata: { name: ns } } });
  // The reader may list Ballast's objects in its namespace, nothing else.
  await rbac.createNamespacedRole({
    namespace: ns,
    body: { metadata: { name: 'reader' }, rules: [{ apiGroups: ['ballast.io'], resources: ['ipaddresspools', 'l2advertisements', 'servicel2statuses'], verbs: ['list'] }] },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: { metadata: { name: 'reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }] },
  });
  const file = await serviceAccountKubeconfig(handle, ns, 'reader', { file: join(dir, 'sa.kubeconfig') });
  token = (JSON.parse(readFileSync(file, 'utf8')) as { users: Array<{ user: { token: string } }> }).users[0]!.user.token;
});
afterAll(async () => {
  await core.deleteNamespace({ name: ns }).catch(() => undefined);
});

describe('ballast status with credentials from plugins', () => {
  it('an exec credential plugin (relative to the kubeconfig, with args, env and cluster info) gives the identity', async () => {
    const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } });
    const bin = plugin('get-token', `[ "$LAB_PLUGIN_SECRET" = s3cret ] || { echo "no secret in env" >&2; exit 3; }\necho '${credential}'`);
    const file = kubeconfig('exec', {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: './bin/get-token',
        args: ['--cluster', 'lab'],
        env: [{ name: 'LAB_PLUGIN_SECRET', value: 's3cret' }],
        interactiveMode: 'Never',
        provideClusterInfo: true,
      },
    });
    const r = await status(file);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as { problems: Array<{ message: string }> };
    // Ballast's objects were readable; the rest was refused to the ServiceAccount the plugin's token belongs to.
    const refused = report.problems.map((p) => p.message).find((m) => m.startsWith('could not read services'));
    expect(refused).toContain(`system:serviceaccount:${ns}:reader`);
    expect(readFileSync(`${bin}.args`, 'utf8').trim()).toBe('--cluster lab');
    const input = JSON.parse(readFileSync(`${bin}.input`, 'utf8')) as { kind: string; spec: { interactive: boolean; cluster?: { server?: string } } };
    expect(input).toMatchObject({ kind: 'ExecCredential', spec: { interactive: false, cluster: { server: handle.server } } });
  });

  it('the one-file build as a kubectl plugin (kubectl ballast status), alone on PATH, with the same kubeconfig', async () => {
    const file = kubeconfig('exec-kubectl', {
      exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './bin/get-token', args: ['--cluster', 'lab'], env: [{ name: 'LAB_PLUGIN_SECRET', value: 's3cret' }], interactiveMode: 'Never' },
    });
    const pluginDir = join(dir, 'path');
    if (!existsSync(join(pluginDir, 'kubectl-ballast'))) await buildCli(join(pluginDir, 'kubectl-ballast'));
    // No checkout and no node_modules where it could look: client-node comes from inside the file.
    const env = { PATH: `${pluginDir}:${dirname(process.execPath)}:/usr/bin:/bin`, KUBECONFIG: file, HOME: pluginDir };
    const r = await capture([findBinaries().kubectl, 'ballast', 'status', '--namespace', ns, '--output', 'json'], { env, timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`system:serviceaccount:${ns}:reader`);
  });

  it('a plugin that fails: exit 2 and its own words, naming the plugin', async () => {
    plugin('broken', 'echo "error: You must be logged in to the server (run: kubectl oidc-login setup)" >&2\nexit 1');
    const r = await status(kubeconfig('broken', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './bin/broken', interactiveMode: 'Never' } }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exec plugin ".*bin\/broken" failed: error: You must be logged in to the server/);
  });

  it('a plugin that insists on a terminal is refused up front, with why', async () => {
    const r = await status(kubeconfig('interactive', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './bin/get-token', interactiveMode: 'Always' } }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs an interactive terminal \(interactiveMode: Always\)/);
  });

  it('impersonation: the admin acting as the reader, with a group', async () => {
    const admin = JSON.parse(readFileSync(handle.kubeconfig, 'utf8')) as { users: Array<{ user: Record<string, unknown> }> };
    const r = await status(kubeconfig('as', { ...admin.users[0]!.user, as: `system:serviceaccount:${ns}:reader`, 'as-groups': ['ballast-testers'] }));
    const report = JSON.parse(r.stdout) as { problems: Array<{ message: string }> };
    const refused = report.problems.map((p) => p.message).find((m) => m.startsWith('could not read services'));
    expect(refused).toContain(`system:serviceaccount:${ns}:reader`);
  });
});
