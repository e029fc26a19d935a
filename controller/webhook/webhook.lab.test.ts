// The real API server calls the webhook: overlapping pools are refused with our
// message, valid ones pass, L2Advertisements naming unknown pools pass with a
// warning kubectl prints. Every ValidatingWebhookConfiguration is scoped to a
// namespace this file creates, and deleted afterwards (also on failure), so
// other tests sharing the control plane never meet it.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { accessFromHandle, createServingCert, describeApiError, findBinaries, kubeConfigFromHandle, uniqueName } from '../../test/lab/index.ts';
import { freePort } from '../../test/lab/ports.ts';
import { liveObjects, startWebhook, startWebhookServer, type WebhookServer, type Webhook } from './index.ts';

const handle = inject('controlPlane');
const kc = kubeConfigFromHandle(handle);
const access = accessFromHandle(handle);
const core = kc.makeApiClient(k8s.CoreV1Api);
const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
const kubectl = findBinaries().kubectl;

const pool = (namespace: string, name: string, addresses: string[]): k8s.KubernetesObject & { spec: unknown } => ({
  apiVersion: 'ballast.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace },
  spec: { addresses },
});

function webhookConfiguration(name: string, namespaces: string[], port: number, caBundle: string | undefined): k8s.V1ValidatingWebhookConfiguration {
  const hook = (resource: string, path: string): k8s.V1ValidatingWebhook => ({
    name: `${resource}.${name}.ballast.io`,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: 'Fail',
    timeoutSeconds: 5,
    // Only this file's namespaces: the rest of the shared control plane never calls us.
    namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces }] },
    rules: [{ apiGroups: ['ballast.io'], apiVersions: ['v1beta1'], resources: [resource], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }],
    clientConfig: { url: `https://127.0.0.1:${port}${path}`, ...(caBundle ? { caBundle } : {}) },
  });
  return { metadata: { name }, webhooks: [hook('ipaddresspools', '/validate-ipaddresspool'), hook('l2advertisements', '/validate-l2advertisement')] };
}

/** Creates the object, or returns the API server's refusal. */
const attempt = (obj: k8s.KubernetesObject): Promise<string> =>
  objects.create(obj).then(
    () => 'created',
    (e: unknown) => describeApiError(e),
  );

/** kubectl apply, with stderr: client-node drops the Warning headers that carry admission warnings. */
async function kubectlApply(manifest: object): Promise<{ stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-kubectl-'));
  try {
    const file = join(dir, 'object.json');
    writeFileSync(file, JSON.stringify(manifest));
    return await promisify(execFile)(kubectl, ['--kubeconfig', handle.kubeconfig, 'apply', '-f', file], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitForWebhook(ns: string): Promise<void> {
  // The API server picks up a new configuration within about a second; probe with a pool the webhook must refuse.
  const probe = { ...pool(ns, 'probe', ['198.51.100.0/24']), spec: { addresses: ['198.51.100.0/24'] } };
  const deadline = Date.now() + 20_000;
  // Until the API server trusts the webhook even this create fails (failurePolicy Fail).
  for (;;) {
    const result = await attempt(pool(ns, 'probe-base', ['198.51.100.0/24']));
    if (result === 'created') break;
    if (Date.now() > deadline) throw new Error(`the webhook never accepted a pool; last result: ${result}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  for (;;) {
    const result = await attempt(probe);
    if (result.includes('overlaps IPAddressPool "probe-base"')) break;
    if (result === 'created') await objects.delete(probe).catch(() => {});
    if (Date.now() > deadline) throw new Error(`the webhook never answered; last result: ${result}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await objects.delete(pool(ns, 'probe-base', []));
}

describe('webhook server registered with the real API server (lab CA certificate)', () => {
  const ns = uniqueName('webhook'); // plays the install namespace
  const outside = uniqueName('webhook-outside');
  const unwatched = uniqueName('webhook-unwatched');
  const configName = `${ns}-validation`;
  let server: WebhookServer | undefined;

  beforeAll(async () => {
    for (const name of [ns, outside, unwatched]) await core.createNamespace({ body: { metadata: { name } } });
    const pki = { dir: handle.pkiDir, caCert: handle.caCert, caKey: join(handle.pkiDir, 'ca.key') };
    const serving = await createServingCert(pki as Parameters<typeof createServingCert>[0], `${ns}-serving`, ['IP:127.0.0.1']);
    server = await startWebhookServer({ bindAddress: '127.0.0.1:0', certFile: serving.cert, keyFile: serving.key, objects: liveObjects(access), namespace: ns });
    const { readFileSync } = await import('node:fs');
    const caBundle = readFileSync(handle.caCert).toString('base64');
    await admission.createValidatingWebhookConfiguration({ body: webhookConfiguration(configName, [ns, outside], server.port, caBundle) });
    await waitForWebhook(ns);
  });

  afterAll(async () => {
    await admission.deleteValidatingWebhookConfiguration({ name: configName }).catch(() => {});
    await server?.close();
    for (const name of [ns, outside, unwatched]) await core.deleteNamespace({ name }).catch(() => {});
  });

  it('refuses an overlapping pool with our message and accepts one that overlaps nothing', async () => {
    expect(await attempt(pool(ns, 'front', ['203.0.113.0/25', '2001:db8:100::/120']))).toBe('created');
    const refused = await attempt(pool(ns, 'back', ['203.0.113.192/26', '203.0.113.100-203.0.113.140']));
    expect(refused).toMatch(/^422 Invalid: admission webhook "ipaddresspools\.[^"]+" denied the request: /);
    expect(refused).toContain('spec.addresses[1] (203.0.113.100-203.0.113.140): 203.0.113.100-203.0.113.127 overlaps IPAddressPool "front"; pools must not share addresses');
    expect(await attempt(pool(ns, 'back', ['203.0.113.192/26', '203.0.113.128-203.0.113.140']))).toBe('created');
  });

  it('refuses an UPDATE that grows a pool into another one', async () => {
    const grown = { ...pool(ns, 'back', ['203.0.113.0/24']) };
    const result = await objects.patch(grown, undefined, undefined, 'test', undefined, k8s.PatchStrategy.MergePatch).then(
      () => 'patched',
      (e: unknown) => describeApiError(e),
    );
    expect(result).toContain('203.0.113.0/24): 203.0.113.0/25 overlaps IPAddressPool "front"');
  });

  it('refuses a pool outside the install namespace, where Ballast would ignore it', async () => {
    const refused = await attempt(pool(outside, 'misplaced', ['198.51.100.128/28']));
    expect(refused).toContain(`denied the request: Ballast reads IPAddressPools only from namespace ${ns}; this one in ${outside} would be ignored`);
  });

  it('is never called for namespaces the configuration does not select', async () => {
    // Overlaps "front" and lies outside the install namespace: the webhook would refuse it twice over.
    expect(await attempt(pool(unwatched, 'front-copy', ['203.0.113.0/25']))).toBe('created');
  });

  it('accepts an L2Advertisement naming an unknown pool, and kubectl shows the warning', async () => {
    const out = await kubectlApply({ apiVersion: 'ballast.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'ads', namespace: ns }, spec: { ipAddressPools: ['front', 'missing'] } });
    expect(out.stdout).toContain('l2advertisement.ballast.io/ads created');
    expect(out.stderr).toContain(`Warning: spec.ipAddressPools[1]: no IPAddressPool "missing" in namespace ${ns}; nothing is announced for it until one is created`);
  });

  it('warns about a new pool that no L2Advertisement announces', async () => {
    const out = await kubectlApply(pool(ns, 'lonely', ['198.51.100.64/28']));
    expect(out.stdout).toContain('ipaddresspool.ballast.io/lonely created');
    expect(out.stderr).toContain(`Warning: no L2Advertisement in namespace ${ns} selects this pool`);
  });

  it('refuses an L2Advertisement the parser refuses', async () => {
    const result = await attempt({ apiVersion: 'ballast.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'bad', namespace: ns }, spec: { interfaces: ['eth:0'] } } as k8s.KubernetesObject);
    expect(result).toContain('denied the request: L2Advertisement');
    expect(result).toContain('spec.interfaces[0]: "eth:0" contains "/", ":" or whitespace');
  });
});

describe('startWebhook with self-signed certificates', () => {
  const ns = uniqueName('webhook-ss');
  const late = uniqueName('webhook-late');
  const configName = `${ns}-validation`;
  const lateConfigName = `${late}-validation`;
  const dirs = ['a', 'b', 'c'].map((x) => mkdtempSync(join(tmpdir(), `ballast-certs-${x}-`)));
  const started: Webhook[] = [];

  beforeAll(async () => {
    for (const name of [ns, late]) await core.createNamespace({ body: { metadata: { name } } });
  });
  afterAll(async () => {
    for (const name of [configName, lateConfigName]) await admission.deleteValidatingWebhookConfiguration({ name }).catch(() => {});
    for (const w of started) await w.close();
    for (const name of [ns, late]) await core.deleteNamespace({ name }).catch(() => {});
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('makes a CA, stores it in the Secret, patches caBundle, and the API server then trusts the webhook', async () => {
    const port = await freePort();
    // Created without a caBundle: only startWebhook's patch makes the API server trust it.
    await admission.createValidatingWebhookConfiguration({ body: webhookConfiguration(configName, [ns], port, undefined) });
    const common = { access, namespace: ns, ipAddresses: ['127.0.0.1'], configurationName: configName, secretName: 'ballast-webhook-cert' } as const;
    started.push(await startWebhook({ ...common, bindAddress: `127.0.0.1:${port}`, certDir: dirs[0]! }));

    const config = await admission.readValidatingWebhookConfiguration({ name: configName });
    const secret = await core.readNamespacedSecret({ name: 'ballast-webhook-cert', namespace: ns });
    expect(config.webhooks?.map((h) => h.clientConfig.caBundle)).toEqual([secret.data?.['ca-bundle.crt'], secret.data?.['ca-bundle.crt']]);
    const served = new X509Certificate(Buffer.from(secret.data!['tls.crt']!, 'base64'));
    expect(served.subjectAltName).toContain(`DNS:ballast-webhook.${ns}.svc`);
    expect(served.subjectAltName).toContain('IP Address:127.0.0.1');

    await waitForWebhook(ns);
    expect(await attempt(pool(ns, 'a', ['203.0.113.0/24']))).toBe('created');
    expect(await attempt(pool(ns, 'b', ['203.0.113.7/32']))).toContain('203.0.113.7 overlaps IPAddressPool "a"');
  });

  it('a second replica takes the certificate from the Secret instead of minting its own', async () => {
    const before = await core.readNamespacedSecret({ name: 'ballast-webhook-cert', namespace: ns });
    started.push(
      await startWebhook({ access, namespace: ns, ipAddresses: ['127.0.0.1'], configurationName: configName, bindAddress: '127.0.0.1:0', certDir: dirs[1]! }),
    );
    const after = await core.readNamespacedSecret({ name: 'ballast-webhook-cert', namespace: ns });
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(dirs[1]!, 'tls.crt'), 'utf8')).toBe(readFileSync(join(dirs[0]!, 'tls.crt'), 'utf8'));
  });

  it('sets the caBundle of a configuration created after it started', async () => {
    const port = await freePort();
    started.push(
      await startWebhook({
        access,
        namespace: late,
        ipAddresses: ['127.0.0.1'],
        configurationName: lateConfigName,
        bindAddress: `127.0.0.1:${port}`,
        certDir: dirs[2]!,
        untrustedRetryMs: 200,
      }),
    );
    await admission.createValidatingWebhookConfiguration({ body: webhookConfiguration(lateConfigName, [late], port, undefined) });
    await waitForWebhook(late);
    const config = await admission.readValidatingWebhookConfiguration({ name: lateConfigName });
    expect(config.webhooks?.every((h) => (h.clientConfig.caBundle ?? '').length > 0)).toBe(true);
  });
});
