import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(file: string, context: string, server: string, current = true, user: Record<string, unknown> = { token: 't' }): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: `${context}-cluster`, cluster: { server } }],
      users: [{ name: `${context}-user`, user }],
      contexts: [{ name: context, context: { cluster: `${context}-cluster`, user: `${context}-user` } }],
      ...(current ? { 'current-context': context } : {}),
    }),
  );
  return path;
}

const a = kubeconfig('a.json', 'a', 'https://198.51.100.10:6443');
const b = kubeconfig('b.json', 'b', 'https://198.51.100.11:6443');

describe('loadKubeConfig', () => {
  it('uses the --kubeconfig file and nothing else', () => {
    const r = loadKubeConfig({ kubeconfig: a, env: { KUBECONFIG: b, KUBERNETES_SERVICE_HOST: '198.51.100.1', KUBERNETES_SERVICE_PORT: '443' } });
    expect(r.ok && { source: r.value.source, server: r.value.server, context: r.value.context, access: r.value.access.server }).toEqual({
      source: `--kubeconfig ${a}`,
      server: 'https://198.51.100.10:6443',
      context: 'a',
      access: 'https://198.51.100.10:6443',
    });
    expect(loadKubeConfig({ kubeconfig: join(dir, 'missing'), env: { KUBECONFIG: b } })).toEqual({ ok: false, error: `--kubeconfig ${join(dir, 'missing')}: no such file` });
  });

  it('merges the files in KUBECONFIG like kubectl: missing ones skipped, the first current-context wins, --context picks another', () => {
    const r = loadKubeConfig({ env: { KUBECONFIG: [join(dir, 'nope'), b, a].join(':') } });
    expect(r.ok && [r.value.server, r.value.context, r.value.source]).toEqual(['https://198.51.100.11:6443', 'b', `KUBECONFIG ${b}:${a}`]);
    const other = loadKubeConfig({ env: { KUBECONFIG: [b, a].join(':') }, context: 'a' });
    expect(other.ok && other.value.server).toBe('https://198.51.100.10:6443');
    expect(loadKubeConfig({ env: { KUBECONFIG: b }, context: 'zzz' })).toEqual({ ok: false, error: `KUBECONFIG ${b}: ${b}: no context named "zzz"` });
    expect(loadKubeConfig({ env: { KUBECONFIG: join(dir, 'nope') } })).toMatchObject({ ok: false, error: expect.stringContaining('none of these files exists') });
  });

  it('in a pod: the service account token and the KUBERNETES_SERVICE_* address (IPv6 in brackets)', () => {
    const sa = join(dir, 'root', 'var', 'run', 'secrets', 'kubernetes.io', 'serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), 'token');
    writeFileSync(join(sa, 'ca.crt'), '');
    const prefix = join(dir, 'root');
    const v4 = loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '198.51.100.1', KUBERNETES_SERVICE_PORT: '443' }, inClusterPathPrefix: prefix });
    expect(v4.ok && { source: v4.value.source, server: v4.value.server, context: v4.value.context }).toEqual({ source: 'in-cluster', server: 'https://198.51.100.1:443', context: 'in-cluster' });
    const v6 = loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '2001:db8::1', KUBERNETES_SERVICE_PORT: '443' }, inClusterPathPrefix: prefix });
    expect(v6.ok && v6.value.server).toBe('https://[2001:db8::1]:443');
    const noToken = loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '198.51.100.1', KUBERNETES_SERVICE_PORT: '443' }, inClusterPathPrefix: join(dir, 'empty') });
    expect(noToken).toMatchObject({ ok: false, error: expect.stringContaining('automountServiceAccountToken') });
    writeFileSync(join(sa, 'ca.crt'), 'not a certificate');
    const badCa = loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '198.51.100.1', KUBERNETES_SERVICE_PORT: '443' }, inClusterPathPrefix: prefix });
    expect(badCa).toEqual({ ok: false, error: `in-cluster: context "in-cluster": certificate-authority ${join(sa, 'ca.crt')}: not PEM` });
    writeFileSync(join(sa, 'ca.crt'), '');
    writeFileSync(join(sa, 'token'), '');
    const emptyToken = loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '198.51.100.1', KUBERNETES_SERVICE_PORT: '443' }, inClusterPathPrefix: prefix });
    expect(emptyToken).toMatchObject({ ok: false, error: expect.stringMatching(/^in-cluster: .*token is empty$/) });
  });

  it('falls back to ~/.kube/config, and otherwise says what to do instead of guessing localhost:8080', () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    expect(loadKubeConfig({ env: { HOME: home } })).toEqual({ ok: false, error: expect.stringContaining('pass --kubeconfig, set KUBECONFIG, or run in a pod') });
    writeFileSync(join(home, '.kube', 'config'), 'clusters: [{name: c, cluster: {server: "https://198.51.100.12"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
    const r = loadKubeConfig({ env: { HOME: home } });
    expect(r.ok && r.value.server).toBe('https://198.51.100.12');
  });

  it('rejects a file without a usable current context, naming the file', () => {
    const noCurrent = kubeconfig('no-current.json', 'c', 'https://198.51.100.13', false);
    expect(loadKubeConfig({ kubeconfig: noCurrent })).toEqual({ ok: false, error: `--kubeconfig ${noCurrent}: ${noCurrent}: no current-context` });
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'clusters: [');
    expect(loadKubeConfig({ kubeconfig: broken })).toMatchObject({ ok: false, error: expect.stringContaining(`--kubeconfig ${broken}: ${broken}: not YAML`) });
  });

  it('reads certificate files relative to the kubeconfig and refuses what it cannot read or use', () => {
    mkdirSync(join(dir, 'certs'), { recursive: true });
    const missing = kubeconfig('missing-cert.json', 'm', 'https://198.51.100.14', true, { 'client-certificate': 'certs/none.crt', 'client-key': 'certs/none.key' });
    const r = loadKubeConfig({ kubeconfig: missing });
    expect(!r.ok && r.error).toMatch(new RegExp(`^--kubeconfig ${missing}: context "m": client-certificate: ENOENT.*${join(dir, 'certs', 'none.crt')}`));
    writeFileSync(join(dir, 'certs', 'junk.crt'), '-----BEGIN CERTIFICATE-----\nnot base64 DER\n-----END CERTIFICATE-----\n');
    const junk = kubeconfig('junk-cert.json', 'j', 'https://198.51.100.14', true, { 'client-certificate': 'certs/junk.crt', 'client-key': 'certs/junk.crt' });
    expect(loadKubeConfig({ kubeconfig: junk })).toMatchObject({ ok: false, error: expect.stringContaining('context "j": unusable TLS material: ') });
  });
});
