// Installs Ballast on the lab's real API server the ways a user would, with
// kubectl (kustomize, the rendered file) and with Helm, and checks that the
// server takes every object without an error or a warning, that the webhook
// is scoped to the install namespace and fails closed, and that each
// program's ServiceAccount may do what it must and nothing it must not.
// No pods run (the lab has no kubelet). Everything is removed afterwards,
// webhook configuration first: the control plane is shared with other test
// files, and a webhook that points at nothing fails every pool it matches.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceAccountKubeconfig, uniqueName } from '../lab/index.ts';
import { CHART_DIR, DEPLOY_DIR, INSTALL_NAMESPACE as NS, capture, check, deployTools, objectKey, parseObjects, renderChart, type Captured } from './tools.ts';

const handle = inject('controlPlane');
const { kubectl, helm } = deployTools();
const WEBHOOK_CONFIG = 'ballast-webhook-configuration';

const k = (args: readonly string[], opts: { input?: string; kubeconfig?: string } = {}): Promise<Captured> =>
  capture([kubectl, '--kubeconfig', opts.kubeconfig ?? handle.kubeconfig, ...args], opts.input === undefined ? {} : { input: opts.input });

/** kubectl prints the API server's Warning headers on stderr; an install must produce none. */
function expectCleanly(r: Captured): void {
  expect(r.stderr, r.stdout).toBe('');
  expect(r.code).toBe(0);
}

const pool = (namespace: string, name: string, addresses: string[]): string =>
  JSON.stringify({ apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace }, spec: { addresses } });

/**
 * Removes an install, whichever way it was made, but never the CRDs (the whole
 * lab run uses them). The webhook configuration goes first; finalizers a test
 * set are dropped so the namespace can go.
 */
async function uninstall(): Promise<void> {
  await k(['delete', 'validatingwebhookconfiguration', WEBHOOK_CONFIG, '--ignore-not-found']);
  const pools = await k(['get', 'ipaddresspools.ballast.io', '-n', NS, '-o', 'name']);
  for (const name of pools.stdout.split('\n').filter(Boolean)) {
    await k(['patch', '-n', NS, name, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  }
  await k(['delete', 'clusterrole,clusterrolebinding', 'ballast-controller', 'ballast-speaker', '--ignore-not-found']);
  const gone = await k(['delete', 'namespace', NS, '--ignore-not-found', '--wait', '--timeout=120s']);
  if (gone.code !== 0) throw new Error(`namespace ${NS} was not deleted: ${gone.stderr}`);
}

async function expectUninstalled(): Promise<void> {
  expect((await k(['get', 'validatingwebhookconfigurations', '-o', 'name'])).stdout).not.toContain('ballast');
  expect((await k(['get', 'clusterroles', '-o', 'name'])).stdout).not.toMatch(/ballast-(controller|speaker)/);
  expect((await k(['get', 'namespace', NS])).code).not.toBe(0);
  // The shared CRDs are still served.
  expect((await k(['get', 'crd', 'ipaddresspools.ballast.io', '-o', 'name'])).code).toBe(0);
}

/** where: a namespace, or '*' for all namespaces and cluster-scoped resources. */
type Check = readonly [verb: string, resource: string, where: string, subresource?: string];

/** `kubectl auth can-i` with the account's own token: the identity RBAC really sees. */
async function canI(kubeconfig: string, [verb, resource, where, subresource]: Check): Promise<boolean> {
  const args = ['auth', 'can-i', verb, resource];
  args.push(...(where === '*' ? ['--all-namespaces'] : ['--namespace', where]));
  if (subresource) args.push(`--subresource=${subresource}`);
  const r = await k(args, { kubeconfig });
  if (r.code > 1 || r.stderr) throw new Error(`can-i ${args.join(' ')}: exit ${r.code} ${r.stderr}`);
  return r.code === 0;
}

async function permissionsOf(account: string, checks: readonly Check[]): Promise<Record<string, boolean>> {
  const kubeconfig = await serviceAccountKubeconfig(handle, NS, account);
  const answers: Record<string, boolean> = {};
  for (const c of checks) answers[c.filter(Boolean).join(' ')] = await canI(kubeconfig, c);
  return answers;
}

const allTrue = (checks: readonly Check[]) => Object.fromEntries(checks.map((c) => [c.filter(Boolean).join(' '), true]));
const allFalse = (checks: readonly Check[]) => Object.fromEntries(checks.map((c) => [c.filter(Boolean).join(' '), false]));

describe('kubectl apply -k deploy/ on a real API server', () => {
  const appNs = uniqueName('deploy-app');

  beforeAll(async () => {
    await check([kubectl, '--kubeconfig', handle.kubeconfig, 'create', 'namespace', appNs]);
  });
  afterAll(async () => {
    await uninstall();
    await k(['delete', 'namespace', appNs, '--ignore-not-found', '--wait=false']);
    await expectUninstalled();
  });

  it('applies client-side, then server-side (kubectl apply --server-side -k, and the rendered file), without an error or a warning', async () => {
    // Client-side apply first, as `kubectl apply -k deploy/` on a fresh cluster does. The CRDs
    // are left out only because the lab applied them already, server-side: kubectl would warn
    // that they lack its last-applied annotation, which says nothing about the manifests.
    const withoutCrds = parseObjects(readFileSync(join(DEPLOY_DIR, 'ballast.yaml'), 'utf8')).filter((o) => o.kind !== 'CustomResourceDefinition');
    expectCleanly(await k(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: withoutCrds }) }));
    // Then server-side, over it: no conflicts with the client-side manager either.
    expectCleanly(await k(['apply', '--server-side', '-k', DEPLOY_DIR]));
    expectCleanly(await k(['apply', '--server-side', '-f', join(DEPLOY_DIR, 'ballast.yaml')]));
    // What is live is what the manifests say: nothing left to change.
    const diff = await k(['diff', '--server-side', '-k', DEPLOY_DIR]);
    expect(diff.stdout).toBe('');
    expect(diff.code).toBe(0);
    const live = await k(['get', '-f', join(DEPLOY_DIR, 'ballast.yaml'), '-o', 'name']);
    expect(live.stdout.trim().split('\n')).toHaveLength(withoutCrds.length + 3);
  });

  it('the webhook guards pools in the install namespace only, and fails closed while nothing serves it', async () => {
    const inInstall = await k(['create', '-f', '-'], { input: pool(NS, 'guarded', ['203.0.113.0/28']) });
    expect(inInstall.code).not.toBe(0);
    // The lab's API server routes webhook calls to endpoints, and there are none: nothing was sent.
    expect(inInstall.stderr).toMatch(/failed calling webhook "ipaddresspools\.webhook\.ballast\.io".*no endpoints available for service "ballast-webhook"/);
    const elsewhere = await k(['create', '-f', '-'], { input: pool(appNs, 'unguarded', ['203.0.113.0/28']) });
    expectCleanly({ ...elsewhere, stdout: '' });
  });

  const speakerMust: Check[] = [
    ['list', 'services', '*'],
    ['watch', 'services', '*'],
    ['list', 'nodes', '*'],
    ['watch', 'endpointslices.discovery.k8s.io', '*'],
    ['create', 'events', 'default'],
    ['patch', 'events', 'default'],
    ['watch', 'ipaddresspools.ballast.io', NS],
    ['list', 'l2advertisements.ballast.io', NS],
    ['create', 'servicel2statuses.ballast.io', NS],
    ['update', 'servicel2statuses.ballast.io', NS],
    ['delete', 'servicel2statuses.ballast.io', NS],
    ['update', 'servicel2statuses.ballast.io', NS, 'status'],
    ['list', 'pods', NS],
    ['watch', 'pods', NS],
    ['get', 'secrets/ballast-heartbeat', NS],
    ['watch', 'secrets/ballast-heartbeat', NS],
    ['create', 'leases.coordination.k8s.io', NS],
    ['update', 'leases.coordination.k8s.io/ballast-speaker-tie-break', NS],
  ];
  const speakerMustNot: Check[] = [
    ['update', 'services', 'default', 'status'],
    ['patch', 'services', 'default'],
    ['list', 'secrets', NS],
    ['get', 'secrets/ballast-webhook-cert', NS],
    ['get', 'secrets/ballast-heartbeat', 'default'],
    ['update', 'secrets/ballast-heartbeat', NS],
    ['delete', 'ipaddresspools.ballast.io', NS],
    ['update', 'ipaddresspools.ballast.io', NS],
    ['create', 'l2advertisements.ballast.io', NS],
    ['list', 'ipaddresspools.ballast.io', 'default'],
    ['list', 'pods', 'default'],
    ['list', 'namespaces', '*'],
    ['update', 'nodes', '*'],
    ['update', 'leases.coordination.k8s.io/ballast-controller', NS],
    ['delete', 'leases.coordination.k8s.io/ballast-speaker-tie-break', NS],
    ['create', 'leases.coordination.k8s.io', 'default'],
    ['patch', `validatingwebhookconfigurations.admissionregistration.k8s.io/${WEBHOOK_CONFIG}`, '*'],
  ];

  it('lets ballast-speaker do what the speaker must', async () => {
    expect(await permissionsOf('ballast-speaker', speakerMust)).toEqual(allTrue(speakerMust));
  });
  it('denies ballast-speaker what the speaker must not do', async () => {
    expect(await permissionsOf('ballast-speaker', speakerMustNot)).toEqual(allFalse(speakerMustNot));
  });

  const controllerMust: Check[] = [
    ['list', 'services', '*'],
    ['watch', 'services', '*'],
    ['update', 'services', 'default', 'status'],
    ['patch', 'services', 'default', 'status'],
    ['watch', 'namespaces', '*'],
    // Nodes' own addresses are never handed out.
    ['list', 'nodes', '*'],
    ['watch', 'nodes', '*'],
    ['create', 'events', 'default'],
    ['patch', 'events', NS],
    ['watch', 'ipaddresspools.ballast.io', NS],
    ['update', 'ipaddresspools.ballast.io', NS],
    ['patch', 'ipaddresspools.ballast.io', NS, 'status'],
    ['list', 'l2advertisements.ballast.io', NS],
    ['create', 'leases.coordination.k8s.io', NS],
    ['update', 'leases.coordination.k8s.io/ballast-controller', NS],
    ['create', 'secrets', NS],
    ['get', 'secrets/ballast-heartbeat', NS],
    ['update', 'secrets/ballast-webhook-cert', NS],
    ['get', `validatingwebhookconfigurations.admissionregistration.k8s.io/${WEBHOOK_CONFIG}`, '*'],
    ['patch', `validatingwebhookconfigurations.admissionregistration.k8s.io/${WEBHOOK_CONFIG}`, '*'],
  ];
  const controllerMustNot: Check[] = [
    ['update', 'services', 'default'],
    ['delete', 'services', 'default'],
    ['list', 'endpointslices.discovery.k8s.io', '*'],
    ['get', 'nodes', '*'],
    ['patch', 'nodes', '*'],
    ['list', 'secrets', NS],
    ['update', 'secrets/ballast-heartbeat', NS],
    ['get', 'secrets/other', NS],
    ['create', 'secrets', 'default'],
    ['delete', 'ipaddresspools.ballast.io', NS],
    ['create', 'ipaddresspools.ballast.io', NS],
    ['update', 'ipaddresspools.ballast.io', 'default'],
    ['create', 'l2advertisements.ballast.io', NS],
    ['create', 'servicel2statuses.ballast.io', NS],
    ['update', 'leases.coordination.k8s.io/someone-else', NS],
    ['list', 'pods', NS],
    ['patch', 'validatingwebhookconfigurations.admissionregistration.k8s.io/another-webhook', '*'],
    ['create', 'validatingwebhookconfigurations.admissionregistration.k8s.io', '*'],
    ['patch', 'mutatingwebhookconfigurations.admissionregistration.k8s.io', '*'],
  ];

  it('lets ballast-controller do what the controller must', async () => {
    expect(await permissionsOf('ballast-controller', controllerMust)).toEqual(allTrue(controllerMust));
  });
  it('denies ballast-controller what the controller must not do', async () => {
    expect(await permissionsOf('ballast-controller', controllerMustNot)).toEqual(allFalse(controllerMustNot));
  });

  it('scopes the speaker’s Secret access to the heartbeat Secret by name, on real requests', async () => {
    const asSpeaker = await serviceAccountKubeconfig(handle, NS, 'ballast-speaker');
    expect((await k(['get', 'secrets', '-n', NS], { kubeconfig: asSpeaker })).stderr).toMatch(/Forbidden/);
    // Allowed but absent: NotFound, not Forbidden (the controller creates it on start).
    expect((await k(['get', 'secret', 'ballast-heartbeat', '-n', NS], { kubeconfig: asSpeaker })).stderr).toMatch(/NotFound/);
    expectCleanly(await k(['create', 'secret', 'generic', 'ballast-heartbeat', '-n', NS, '--from-literal=key=0123456789abcdef0123456789abcdef']));
    const got = await k(['get', 'secret', 'ballast-heartbeat', '-n', NS, '-o', 'jsonpath={.data.key}'], { kubeconfig: asSpeaker });
    expect(Buffer.from(got.stdout, 'base64').toString()).toBe('0123456789abcdef0123456789abcdef');
    expectCleanly(await k(['create', 'secret', 'generic', 'not-for-speakers', '-n', NS, '--from-literal=x=y']));
    expect((await k(['get', 'secret', 'not-for-speakers', '-n', NS], { kubeconfig: asSpeaker })).stderr).toMatch(/Forbidden/);
  });

  it('takes the examples, and metadata-only updates skip the webhook, so a stopped controller cannot block deleting a pool', async () => {
    // Without the webhook (nothing would serve it here), the examples apply cleanly.
    expectCleanly(await k(['delete', 'validatingwebhookconfiguration', WEBHOOK_CONFIG]).then((r) => ({ ...r, stdout: '' })));
    for (const f of ['l2-pool.yaml', 'selective.yaml']) expectCleanly(await k(['apply', '--server-side', '-f', join(DEPLOY_DIR, 'examples', f)]));
    expectCleanly(await k(['apply', '--server-side', '-f', join(DEPLOY_DIR, 'ballast.yaml')]));

    // Finalizer on and off (what the controller does): spec unchanged, so the dead webhook is not called.
    const finalizer = (list: string[] | null) => ['patch', 'ipaddresspool', 'default', '-n', NS, '--type=merge', '-p', JSON.stringify({ metadata: { finalizers: list } })];
    expectCleanly(await k(finalizer(['ballast.io/pool-protection'])));
    expectCleanly(await k(['label', 'ipaddresspool', 'default', '-n', NS, 'example.com/touched=yes']));
    expectCleanly(await k(finalizer(null)));
    // A spec change is validated, and fails closed.
    const specChange = await k(['patch', 'ipaddresspool', 'default', '-n', NS, '--type=merge', '-p', '{"spec":{"autoAssign":false}}']);
    expect(specChange.code).not.toBe(0);
    expect(specChange.stderr).toMatch(/failed calling webhook "ipaddresspools\.webhook\.ballast\.io".*no endpoints available/);
    expectCleanly(await k(['delete', 'ipaddresspool', 'default', '-n', NS, '--wait']).then((r) => ({ ...r, stdout: '' })));
  });
});

describe('the Helm chart on a real API server', () => {
  let helmHome: string;
  const h = (args: readonly string[]): Promise<Captured> =>
    capture([helm, '--kubeconfig', handle.kubeconfig, '--namespace', NS, ...args], {
      env: { ...process.env, HELM_CONFIG_HOME: join(helmHome, 'config'), HELM_CACHE_HOME: join(helmHome, 'cache'), HELM_DATA_HOME: join(helmHome, 'data') },
      timeoutMs: 120_000,
    });
  /** Helm's own log lines aside (it notes that crds/ is a link), nothing on stderr: no API warnings, no errors. */
  const expectHelmCleanly = (r: Captured): void => {
    const stderr = r.stderr
      .split('\n')
      .filter((l) => l && !/^level=INFO msg="found symbolic link in path/.test(l))
      .join('\n');
    expect(stderr, r.stdout).toBe('');
    expect(r.code).toBe(0);
  };
  const heartbeatKey = async (): Promise<string> => (await check([kubectl, '--kubeconfig', handle.kubeconfig, 'get', 'secret', 'ballast-heartbeat', '-n', NS, '-o', 'jsonpath={.data.key}'])).stdout;

  beforeAll(() => {
    helmHome = mkdtempSync(join(tmpdir(), 'ballast-helm-'));
  });
  afterAll(async () => {
    await h(['uninstall', 'ballast', '--wait']);
    await uninstall();
    await expectUninstalled();
    if (helmHome) rmSync(helmHome, { recursive: true, force: true });
  });

  it('installs with default values without an error or a warning, creating what helm template renders', async () => {
    expectHelmCleanly(await h(['install', 'ballast', CHART_DIR, '--create-namespace']));
    const rendered = parseObjects(await renderChart()).filter((o) => o.kind !== 'CustomResourceDefinition');
    const manifest = await check([kubectl, '--kubeconfig', handle.kubeconfig, 'get', '-o', 'name', ...rendered.map((o) => `${o.kind}/${o.metadata!.name}`), '-n', NS]);
    expect(manifest.stdout.trim().split('\n')).toHaveLength(rendered.length);
    expect((await h(['status', 'ballast'])).stdout).toMatch(/STATUS: deployed/);
  });

  it('leaves the heartbeat key alone across upgrades (the controller owns it), also when the webhook is switched off and pools come from values', async () => {
    // What the controller does on its first start (none runs here).
    expectCleanly(await k(['create', 'secret', 'generic', 'ballast-heartbeat', '-n', NS, `--from-literal=key=${'k'.repeat(32)}`]));
    const before = await heartbeatKey();
    expectHelmCleanly(await h(['upgrade', 'ballast', CHART_DIR, '--reuse-values']));
    expect(await heartbeatKey()).toBe(before);

    // Webhook off first: Helm creates new objects before it deletes old ones, so pools in the
    // same upgrade would meet the old webhook configuration (and no controller serves it here).
    expectHelmCleanly(await h(['upgrade', 'ballast', CHART_DIR, '--reuse-values', '--set', 'webhook.enabled=false']));
    expect((await k(['get', 'validatingwebhookconfiguration', WEBHOOK_CONFIG])).code).not.toBe(0);
    const values = join(helmHome, 'pools.yaml');
    writeFileSync(
      values,
      JSON.stringify({
        webhook: { enabled: false },
        pools: [{ name: 'from-values', spec: { addresses: ['203.0.113.64/28', '2001:db8:100::/120'] } }],
        l2Advertisements: [{ name: 'from-values', spec: { ipAddressPools: ['from-values'] } }],
      }),
    );
    expectHelmCleanly(await h(['upgrade', 'ballast', CHART_DIR, '-f', values]));
    expect(await heartbeatKey()).toBe(before);
    expect((await k(['get', 'validatingwebhookconfiguration', WEBHOOK_CONFIG])).code).not.toBe(0);
    const got = await check([kubectl, '--kubeconfig', handle.kubeconfig, 'get', 'ipaddresspool', 'from-values', '-n', NS, '-o', 'jsonpath={.spec.addresses}']);
    expect(JSON.parse(got.stdout)).toEqual(['203.0.113.64/28', '2001:db8:100::/120']);
  });

  it('switches the webhook back on with those pools in place: unchanged pools skip it', async () => {
    expectHelmCleanly(await h(['upgrade', 'ballast', CHART_DIR, '--reuse-values', '--set', 'webhook.enabled=true']));
    expect((await k(['get', 'validatingwebhookconfiguration', WEBHOOK_CONFIG, '-o', 'name'])).stdout.trim()).toBe(
      `validatingwebhookconfiguration.admissionregistration.k8s.io/${WEBHOOK_CONFIG}`,
    );
  });

  it('uninstalls everything it made (the CRDs stay, as Helm keeps crds/)', async () => {
    const objects = parseObjects(await renderChart()).filter((o) => o.kind !== 'CustomResourceDefinition');
    expectHelmCleanly(await h(['uninstall', 'ballast', '--wait']));
    for (const o of objects) {
      const r = await k(['get', `${o.kind}/${o.metadata!.name}`, '-n', NS]);
      expect(r.code, objectKey(o)).not.toBe(0);
    }
    expect((await k(['get', 'ipaddresspool', 'from-values', '-n', NS])).code).not.toBe(0);
  });
});
