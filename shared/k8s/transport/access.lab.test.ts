// The transport against the lab's real API server: who it is to the API
// server with each kind of credential (client certificate, token, token file,
// a pod's service account, with rotation), what TLS settings do, and a watch
// through a frozen API server.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlane, FaultProxy, createClientCert, createPki, createServingCert, serviceAccountKubeconfig, uniqueName, waitFor } from '../../../test/lab/index.ts';
import { formatApiError } from '../api-error.ts';
import { createInformer, defineResource, objectClient, RESOURCES } from '../index.ts';
import { loadKubeConfig, type ApiAccess, type KubeConfigSources, type LoadOptions } from './index.ts';

const handle = inject('controlPlane');
const ns = uniqueName('transport');
const dir = join(handle.dir, ns);
const accesses: ApiAccess[] = [];

function load(sources: KubeConfigSources, opts: LoadOptions = {}): ApiAccess {
  const r = loadKubeConfig(sources, opts);
  if (!r.ok) throw new Error(r.error);
  accesses.push(r.value.access);
  return r.value.access;
}

/** Who the API server thinks we are (SelfSubjectReview: every authenticated user may ask). */
async function whoAmI(access: ApiAccess): Promise<string> {
  const r = await access.request<{ status?: { userInfo?: { username?: string } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  if (!r.ok) return formatApiError(r.error);
  return r.value.status?.userInfo?.username ?? '(none)';
}

/** The token of a fresh ServiceAccount in ns. */
async function saToken(name: string): Promise<string> {
  const file = await serviceAccountKubeconfig(handle, ns, name, { file: join(dir, `${name}.kubeconfig`) });
  return (JSON.parse(readFileSync(file, 'utf8')) as { users: Array<{ user: { token: string } }> }).users[0]!.user.token;
}

function writeConfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters: [{name: lab, cluster: ${JSON.stringify(cluster)}}]\nusers: [{name: me, user: ${JSON.stringify(user)}}]\n` +
      'contexts: [{name: lab, context: {cluster: lab, user: me}}]\ncurrent-context: lab\n',
  );
  return file;
}

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  const admin = load({ kubeconfig: handle.kubeconfig });
  const created = await objectClient(admin, RESOURCES.namespace).create({ metadata: { name: ns } });
  if (!created.ok) throw new Error(formatApiError(created.error));
});
afterAll(async () => {
  await objectClient(accesses[0]!, RESOURCES.namespace).delete({ name: ns });
  for (const a of accesses) a.close();
});

describe('credentials against the lab API server', () => {
  it('a client certificate, inline (the lab’s admin kubeconfig) or from files relative to the kubeconfig', async () => {
    expect(await whoAmI(load({ kubeconfig: handle.kubeconfig }))).toBe('ballast-lab-admin');
    const pki = join(handle.pkiDir);
    const file = writeConfig(
      'files.kubeconfig',
      { server: handle.server, 'certificate-authority': join(pki, 'ca.crt') },
      { 'client-certificate': '../pki/admin.crt', 'client-key': '../pki/admin.key' },
    );
    // dir is <cp>/<ns>/, the PKI is <cp>/pki/: relative to the kubeconfig, not to the working directory.
    expect(pki).toBe(join(dir, '..', 'pki'));
    expect(await whoAmI(load({ kubeconfig: file }))).toBe('ballast-lab-admin');
  });

  it('a bearer token, and a token file that is read again as it rotates', async () => {
    const [one, two] = [await saToken('one'), await saToken('two')];
    const ca = { server: handle.server, 'certificate-authority': handle.caCert };
    expect(await whoAmI(load({ kubeconfig: writeConfig('token.kubeconfig', ca, { token: one }) }))).toBe(`system:serviceaccount:${ns}:one`);

    writeFileSync(join(dir, 'token'), one);
    const access = load({ kubeconfig: writeConfig('token-file.kubeconfig', ca, { tokenFile: 'token' }) }, { tokenMaxAgeMs: 300 });
    expect(await whoAmI(access)).toBe(`system:serviceaccount:${ns}:one`);
    writeFileSync(join(dir, 'token'), two);
    await waitFor('the rotated token', async () => (await whoAmI(access)) === `system:serviceaccount:${ns}:two`, { timeoutMs: 5_000 });
  });

  it('in a pod: KUBERNETES_SERVICE_HOST/PORT, the service account’s token and CA; after a 401 the token file is read again at once', async () => {
    const [one, two] = [await saToken('pod-one'), await saToken('pod-two')];
    const root = join(dir, 'pod');
    const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'ca.crt'), readFileSync(handle.caCert));
    writeFileSync(join(sa, 'token'), 'expired-token');
    const url = new URL(handle.server);
    // A day between reads: only a 401 can make it read the file again.
    const access = load({ env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port }, inClusterPathPrefix: root }, { tokenMaxAgeMs: 86_400_000 });
    writeFileSync(join(sa, 'token'), `${one}\n`); // kubelet rotated it
    expect(await whoAmI(access)).toBe(`system:serviceaccount:${ns}:pod-one`);
    writeFileSync(join(sa, 'token'), two);
    expect(await whoAmI(access)).toBe(`system:serviceaccount:${ns}:pod-one`); // still accepted: no reason to read again
    const listed = await objectClient(access, RESOURCES.pod).list({ namespace: ns });
    expect(!listed.ok && formatApiError(listed.error)).toMatch(new RegExp(`^403 Forbidden: pods is forbidden: User "system:serviceaccount:${ns}:pod-one"`));
  });
});

describe('TLS settings', () => {
  it('a wrong CA is refused by name; insecure-skip-tls-verify connects anyway', async () => {
    const other = join(dir, 'other-ca.crt');
    writeFileSync(other, readFileSync(join(handle.pkiDir, 'apiserver.crt'))); // a certificate, but not the issuer
    const wrong = load({ kubeconfig: writeConfig('wrong-ca.kubeconfig', { server: handle.server, 'certificate-authority': other }, {}) });
    const r = await wrong.request('GET', '/version');
    expect(!r.ok && r.error).toMatchObject({ code: undefined, reason: expect.stringMatching(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/) });
    const insecure = load({ kubeconfig: writeConfig('insecure.kubeconfig', { server: handle.server, 'insecure-skip-tls-verify': true }, {}) });
    expect(await insecure.request('GET', '/version')).toMatchObject({ ok: true, value: { major: '1' } });
  });

  it('tls-server-name is the name the certificate is checked against', async () => {
    const ca = readFileSync(handle.caCert).toString('base64');
    const named = load({ kubeconfig: writeConfig('sni.kubeconfig', { server: handle.server, 'certificate-authority-data': ca, 'tls-server-name': 'kubernetes.default.svc' }, {}) });
    expect((await named.request('GET', '/version')).ok).toBe(true);
    const misnamed = load({ kubeconfig: writeConfig('bad-sni.kubeconfig', { server: handle.server, 'certificate-authority-data': ca, 'tls-server-name': 'api.example' }, {}) });
    const r = await misnamed.request('GET', '/version');
    expect(!r.ok && r.error.reason).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});

describe('rotated TLS files (kubeconfig file references, a pod’s CA)', () => {
  const labCa = { dir: handle.pkiDir, caCert: handle.caCert, caKey: join(handle.pkiDir, 'ca.key') };
  const copy = (from: { cert: string; key: string }, to: string): void => {
    writeFileSync(`${to}.crt`, readFileSync(from.cert));
    writeFileSync(`${to}.key`, readFileSync(from.key));
  };

  it('a client certificate replaced in place: the new identity without a restart (re-read when due)', async () => {
    const [a, b] = [await createClientCert(labCa, `${ns}-rot-a`, `${ns}-rot-a`), await createClientCert(labCa, `${ns}-rot-b`, `${ns}-rot-b`)];
    copy(a, join(dir, 'rot'));
    const access = load(
      { kubeconfig: writeConfig('rot.kubeconfig', { server: handle.server, 'certificate-authority': handle.caCert }, { 'client-certificate': 'rot.crt', 'client-key': 'rot.key' }) },
      { tlsMaxAgeMs: 200 },
    );
    expect(await whoAmI(access)).toBe(`${ns}-rot-a`);
    copy(b, join(dir, 'rot'));
    await waitFor('the rotated certificate', async () => (await whoAmI(access)) === `${ns}-rot-b`, { timeoutMs: 5_000 });
  });

  it('a certificate the API server refuses is read again at once, not after the re-read interval', async () => {
    const other = await createPki(join(dir, 'other-pki'));
    const untrusted = await createClientCert(other, 'untrusted', `${ns}-untrusted`);
    const good = await createClientCert(labCa, `${ns}-rot-c`, `${ns}-rot-c`);
    copy(untrusted, join(dir, 'refused'));
    const access = load({
      kubeconfig: writeConfig('refused.kubeconfig', { server: handle.server, 'certificate-authority': handle.caCert }, { 'client-certificate': 'refused.crt', 'client-key': 'refused.key' }),
    });
    expect(await whoAmI(access)).not.toBe(`${ns}-rot-c`);
    copy(good, join(dir, 'refused'));
    // Default interval (60 s): only the refusal makes it read the files again.
    expect(await whoAmI(access)).toBe(`${ns}-rot-c`);
  });

  it('the API server’s CA rotated (a pod’s ca.crt, through a proxy that changes its certificate): trusted again at once', async () => {
    const proxy = await FaultProxy.forControlPlane(handle);
    try {
      const root = join(dir, 'pod-ca');
      const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
      mkdirSync(sa, { recursive: true });
      writeFileSync(join(sa, 'ca.crt'), readFileSync(handle.caCert));
      writeFileSync(join(sa, 'token'), await saToken('pod-ca'));
      const url = new URL(proxy.url);
      const access = load({ env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port }, inClusterPathPrefix: root });
      expect(await whoAmI(access)).toBe(`system:serviceaccount:${ns}:pod-ca`);

      const next = await createPki(join(dir, 'next-pki'));
      proxy.setServingCert(await createServingCert(next, 'next-apiserver', ['IP:127.0.0.1']));
      writeFileSync(join(sa, 'ca.crt'), readFileSync(next.caCert)); // the new CA bundle lands in the volume
      proxy.dropConnections();
      expect(await access.request('GET', '/version')).toMatchObject({ ok: true, value: { major: '1' } });
      expect(await whoAmI(access)).toBe(`system:serviceaccount:${ns}:pod-ca`);
    } finally {
      await proxy.close();
    }
  });
});

describe('a frozen API server (SIGSTOP) on a private control plane', () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await ControlPlane.start({ controllerManager: false });
  });
  afterAll(async () => {
    cp?.resumeApiServer();
    await cp?.stop();
  });

  it('an informer turns unhealthy within idle + probe timeout (defaults 5 s + 3 s), keeps its cache, and recovers after SIGCONT', async () => {
    const access = cp.access();
    accesses.push(access);
    const maps = objectClient(access, defineResource('v1', 'ConfigMap', 'configmaps', true));
    for (const name of ['a', 'b']) expect((await maps.create({ metadata: { namespace: 'default', name } })).ok).toBe(true);
    const added: string[] = [];
    const inf = createInformer(access, defineResource('v1', 'ConfigMap', 'configmaps', true), { namespace: 'default', onAdd: (o) => added.push(o.metadata?.name ?? '') });
    inf.start();
    try {
      await inf.synced;
      expect(inf.healthy).toBe(true);
      // The watch connection stays open and the kernel keeps acknowledging: only silence tells.
      const frozenAt = performance.now();
      cp.pauseApiServer();
      try {
        await waitFor('the informer to notice', () => !inf.healthy, { timeoutMs: 15_000, intervalMs: 50 });
        const noticedMs = performance.now() - frozenAt;
        expect(noticedMs).toBeLessThan(9_000);
        expect(inf.cache.size).toBe(2);
        const r = inf.readiness();
        expect(!r.ok && r.error).toMatch(/watch down since .*: no response \(Unresponsive\): the API server sent nothing for \d+ ms, and a probe got no response \(Timeout\)/);
      } finally {
        cp.resumeApiServer();
      }
      await waitFor('the informer to recover', () => inf.healthy, { timeoutMs: 20_000 });
      expect((await maps.create({ metadata: { namespace: 'default', name: 'after' } })).ok).toBe(true);
      await waitFor('the change made after the freeze', () => added.includes('after'), { timeoutMs: 10_000 });
      expect(inf.readiness().ok).toBe(true);
    } finally {
      await inf.stop();
    }
  });
});
