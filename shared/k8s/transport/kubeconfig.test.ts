import { describe, expect, it } from 'vitest';
import { connectionFor, inClusterServer, mergeKubeconfigs, parseKubeconfig, type KubeconfigFile } from './kubeconfig.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function parsed(text: string, file = '/home/me/.kube/config'): KubeconfigFile {
  const r = parseKubeconfig(text, file);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const yaml = (cluster: string, user: string, extra = ''): string => `
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
${cluster}
users:
- name: u
  user:
${user}
contexts:
- name: x
  context: {cluster: c, user: u, namespace: ns}
current-context: x
${extra}`;

describe('connectionFor', () => {
  it('token, CA data, tls-server-name: everything a kubeconfig says about the connection', () => {
    const r = connectionFor(parsed(yaml(`    server: https://198.51.100.7:6443/\n    certificate-authority-data: ${b64(PEM)}\n    tls-server-name: api.example`, '    token: abc')));
    expect(r).toEqual({
      ok: true,
      value: { context: 'x', server: 'https://198.51.100.7:6443', ca: { pem: PEM }, insecureSkipTlsVerify: false, tlsServerName: 'api.example', token: 'abc', tokenFile: undefined, clientCert: undefined, clientKey: undefined },
    });
  });

  it('file paths are relative to the kubeconfig that names them; *-data wins over the file', () => {
    const r = connectionFor(
      parsed(
        yaml(
          '    server: https://198.51.100.7\n    certificate-authority: ca.crt',
          `    client-certificate: certs/me.crt\n    client-certificate-data: ${b64(PEM)}\n    client-key: /abs/me.key\n    tokenFile: ../token`,
        ),
        '/etc/kube/admin.conf',
      ),
    );
    expect(r.ok && [r.value.ca, r.value.clientCert, r.value.clientKey, r.value.tokenFile]).toEqual([{ file: '/etc/kube/ca.crt' }, { pem: PEM }, { file: '/abs/me.key' }, '/etc/token']);
  });

  it('a server without a scheme is https, like kubectl; a path prefix (Rancher-style proxies) is kept', () => {
    const bare = connectionFor(parsed(yaml('    server: 198.51.100.7:6443', '    token: t')));
    expect(bare.ok && bare.value.server).toBe('https://198.51.100.7:6443');
    const prefixed = connectionFor(parsed(yaml('    server: https://[2001:db8::5]/k8s/clusters/c-1/', '    token: t')));
    expect(prefixed.ok && prefixed.value.server).toBe('https://[2001:db8::5]/k8s/clusters/c-1');
  });

  it('names what Ballast cannot do instead of ignoring it: exec and auth-provider plugins, basic auth, impersonation, proxies', () => {
    const exec = connectionFor(parsed(yaml('    server: https://198.51.100.7', '    exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}')));
    expect(exec).toEqual({ ok: false, error: '/home/me/.kube/config: user "u": exec: exec credential plugins are not supported (use a token, a tokenFile or a client certificate)' });
    const many = connectionFor(parsed(yaml('    server: https://198.51.100.7\n    proxy-url: http://198.51.100.1:3128', '    username: a\n    password: b\n    as: admin\n    auth-provider: {name: oidc}')));
    expect(!many.ok && many.error.split('; ')).toEqual([
      '/home/me/.kube/config: cluster "c": proxy-url: proxies are not supported (reach the API server directly)',
      '/home/me/.kube/config: user "u": auth-provider: auth-provider credential plugins are not supported (use a token, a tokenFile or a client certificate)',
      '/home/me/.kube/config: user "u": username: basic authentication is not supported (Kubernetes removed it in 1.19)',
      '/home/me/.kube/config: user "u": password: basic authentication is not supported (Kubernetes removed it in 1.19)',
      '/home/me/.kube/config: user "u": as: impersonation is not supported',
    ]);
  });

  it('refuses contradictions and half-given material, naming file, entry and field', () => {
    const bad = connectionFor(
      parsed(yaml(`    server: ftp://198.51.100.7\n    insecure-skip-tls-verify: "yes"\n    certificate-authority-data: ${b64('not pem')}`, '    client-key: k.pem\n    token: 5')),
    );
    expect(!bad.ok && bad.error.split('; ')).toEqual([
      '/home/me/.kube/config: cluster "c": server: ftp: is not http or https: ftp://198.51.100.7',
      '/home/me/.kube/config: cluster "c": insecure-skip-tls-verify: expected true or false',
      '/home/me/.kube/config: cluster "c": certificate-authority-data: expected base64 of PEM text',
      '/home/me/.kube/config: user "u": client-key without client-certificate',
      '/home/me/.kube/config: user "u": token: expected a string',
    ]);
    const both = connectionFor(parsed(yaml('    server: https://198.51.100.7\n    insecure-skip-tls-verify: true\n    certificate-authority: ca.crt', '    token: t')));
    expect(both).toEqual({ ok: false, error: '/home/me/.kube/config: cluster "c": insecure-skip-tls-verify and a certificate-authority together: choose one' });
    expect(connectionFor(parsed(yaml('    insecure-skip-tls-verify: true', '    token: t')))).toEqual({ ok: false, error: '/home/me/.kube/config: cluster "c": server is missing' });
  });

  it('a context must name a defined cluster and user; no user is anonymous', () => {
    const config = parsed(`
clusters: [{name: c, cluster: {server: "https://198.51.100.7"}}]
contexts:
- {name: anon, context: {cluster: c}}
- {name: ghost-user, context: {cluster: c, user: nobody}}
- {name: ghost-cluster, context: {cluster: nowhere}}
`);
    expect(connectionFor(config, 'anon')).toMatchObject({ ok: true, value: { server: 'https://198.51.100.7', token: undefined } });
    expect(connectionFor(config, 'ghost-user')).toEqual({ ok: false, error: '/home/me/.kube/config: context "ghost-user": user "nobody" is not defined' });
    expect(connectionFor(config, 'ghost-cluster')).toEqual({ ok: false, error: '/home/me/.kube/config: context "ghost-cluster": cluster "nowhere" is not defined' });
    expect(connectionFor(config)).toEqual({ ok: false, error: '/home/me/.kube/config: no current-context' });
  });
});

describe('parseKubeconfig and mergeKubeconfigs', () => {
  it('refuses a file that is not a kubeconfig, saying where', () => {
    expect(parseKubeconfig('- a\n- b', '/k')).toEqual({ ok: false, error: '/k: not a kubeconfig (expected a mapping at the top)' });
    expect(parseKubeconfig('clusters: {a: 1}', '/k')).toEqual({ ok: false, error: '/k: clusters: expected a list' });
    expect(parseKubeconfig('users: [{user: {}}]', '/k')).toEqual({ ok: false, error: '/k: users[0]: expected a name' });
    expect(parseKubeconfig('contexts: [{name: x, context: [1]}]', '/k')).toEqual({ ok: false, error: '/k: contexts[0] (x).context: expected a mapping' });
    expect(parseKubeconfig('', '/empty')).toMatchObject({ ok: true, value: { currentContext: undefined } });
  });

  it('merges like kubectl: the first file to define a name wins, and the first current-context; relative paths stay with their file', () => {
    const first = parsed('clusters: [{name: shared, cluster: {server: "https://198.51.100.1", certificate-authority: ca.crt}}]\ncontexts: [{name: one, context: {cluster: shared}}]', '/a/config');
    const second = parsed(
      'clusters: [{name: shared, cluster: {server: "https://198.51.100.2"}}, {name: own, cluster: {server: "https://198.51.100.3", certificate-authority: ca.crt}}]\n' +
        'contexts: [{name: one, context: {cluster: own}}, {name: two, context: {cluster: own}}]\ncurrent-context: two',
      '/b/config',
    );
    const third = parsed('current-context: one', '/c/config');
    const merged = mergeKubeconfigs([first, second, third]);
    expect(merged.currentContext).toBe('two');
    expect([...merged.contexts.keys()]).toEqual(['one', 'two']);
    const one = connectionFor(merged, 'one');
    expect(one.ok && [one.value.server, one.value.ca]).toEqual(['https://198.51.100.1', { file: '/a/ca.crt' }]);
    const two = connectionFor(merged);
    expect(two.ok && [two.value.server, two.value.ca]).toEqual(['https://198.51.100.3', { file: '/b/ca.crt' }]);
  });

  it('in a pod the server comes from KUBERNETES_SERVICE_HOST/PORT, IPv6 in brackets', () => {
    expect(inClusterServer('198.51.100.1', '443')).toBe('https://198.51.100.1:443');
    expect(inClusterServer('2001:db8::1', '6443')).toBe('https://[2001:db8::1]:6443');
  });
});

describe('connectionFor with a delegate (the CLI)', () => {
  it('hands on what the transport cannot do, as written, with the paths made absolute like kubectl', () => {
    const r = connectionFor(
      parsed(
        yaml(
          '    server: https://198.51.100.7\n    certificate-authority: ca.crt\n    proxy-url: http://198.51.100.9:3128',
          '    exec: {apiVersion: client.authentication.k8s.io/v1, command: ./bin/get-token, interactiveMode: Never}\n    client-certificate: me.crt\n    client-key: me.key\n    as-groups: [a]',
        ),
        '/etc/kube/config',
      ),
      undefined,
      { delegate: true },
    );
    expect(r.ok && r.value.delegated).toEqual({
      cluster: { name: 'c', body: { server: 'https://198.51.100.7', 'certificate-authority': '/etc/kube/ca.crt', 'proxy-url': 'http://198.51.100.9:3128' } },
      user: {
        name: 'u',
        body: {
          exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/etc/kube/bin/get-token', interactiveMode: 'Never' },
          'client-certificate': '/etc/kube/me.crt',
          'client-key': '/etc/kube/me.key',
          'as-groups': ['a'],
        },
      },
      fields: ['proxy-url', 'exec', 'as-groups'],
    });
  });

  it('a command found on PATH stays a name; a context the transport handles alone is not delegated', () => {
    const onPath = connectionFor(parsed(yaml('    server: https://198.51.100.7', '    exec: {command: kubelogin, args: [get-token]}')), undefined, { delegate: true });
    expect(onPath.ok && (onPath.value.delegated?.user?.body.exec as { command: string }).command).toBe('kubelogin');
    const plain = connectionFor(parsed(yaml('    server: https://198.51.100.7', '    token: t')), undefined, { delegate: true });
    expect(plain.ok && plain.value.delegated).toBeUndefined();
  });
});
