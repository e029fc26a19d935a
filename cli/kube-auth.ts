// The credentials kubectl accepts that Ballast's own transport leaves alone,
// for the CLI: exec credential plugins (kubelogin for OIDC, aws/gcloud/az and
// other managed-cluster helpers), auth providers, basic auth, impersonation
// and proxies. client-node's KubeConfig authenticates each request and the
// transport carries it (shared/k8s/transport: `delegateAuth`). The CLI has no
// memory budget; the daemons never load client-node
// (test/imports/no-client-node.test.ts).
//
// Beyond client-node, as kubectl does: KUBERNETES_EXEC_INFO for exec plugins
// (never interactive: the plugin's stdin is not a terminal here), and the
// impersonation headers client-node lacks (groups, uid, extra).
//
// client-node is loaded on the first request that needs it, not at start: the
// one-file CLI (scripts/build-cli.ts) runs on Node.js 20, where client-node 2
// (undici 8: Node ≥ 22.19) cannot load, and most kubeconfigs never need it.
import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { DelegatedAuth } from '../shared/k8s/index.ts';
import { err, ok, type Result } from '../shared/result.ts';

type Fields = Record<string, unknown>;
const isFields = (v: unknown): v is Fields => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What authenticates each request of the CLI for a context that uses a credential plugin, basic auth, impersonation or a proxy. */
export function clientNodeAuth(d: DelegatedAuth): Result<(options: RequestOptions) => Promise<void>, string> {
  const userName = d.user?.name ?? 'ballast-anonymous';
  const user: Fields = { ...(d.user?.body ?? {}) };
  const exec = user.exec;
  const what = isFields(exec) ? `exec plugin "${String(exec.command)}"` : isFields(user['auth-provider']) ? `auth-provider "${String(user['auth-provider'].name)}"` : 'credentials';
  if (isFields(exec)) {
    if (typeof exec.command !== 'string' || exec.command === '') return err(`user "${userName}": exec: command is missing`);
    if (exec.interactiveMode === 'Always') return err(`user "${userName}": ${what} needs an interactive terminal (interactiveMode: Always), which ballast cannot give it; log in with it first (e.g. through kubectl), or use a kubeconfig with a token`);
    user.exec = { ...exec, env: [...(Array.isArray(exec.env) ? exec.env : []), { name: 'KUBERNETES_EXEC_INFO', value: JSON.stringify(execInfo(exec, d.cluster.body)) }] };
  }
  // A user entry even when there is none: client-node applies the cluster's CA only when it has a user.
  const config = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: d.cluster.name, cluster: d.cluster.body }],
    users: [{ name: userName, user }],
    contexts: [{ name: 'ballast', context: { cluster: d.cluster.name, user: userName } }],
    'current-context': 'ballast',
  });
  const impersonation = impersonationHeaders(user);
  if (!impersonation.ok) return err(`user "${userName}": ${impersonation.error}`);
  let loading: Promise<KubeConfig> | undefined;
  const kubeConfig = (): Promise<KubeConfig> =>
    (loading ??= import('@kubernetes/client-node').then(
      ({ KubeConfig: Config }) => {
        const kc = new Config();
        kc.loadFromString(config);
        return kc;
      },
      (e: unknown) => {
        throw new Error(`user "${userName}": ${what} needs @kubernetes/client-node, which did not load here (Node.js ${process.versions.node}; it needs ≥ 22.19): ${(e as Error).message}`);
      },
    ));
  return ok(async (options) => {
    const kc = await kubeConfig();
    try {
      await kc.applyToHTTPSOptions(options);
    } catch (e) {
      throw new Error(`user "${userName}": ${what} failed: ${String((e as Error).message ?? e).trim() || 'no output'}`);
    }
    options.headers = { ...options.headers, ...impersonation.value };
  });
}

/** client.authentication.k8s.io ExecCredential input, as kubectl sets it; the cluster only with provideClusterInfo. */
function execInfo(exec: Fields, cluster: Readonly<Fields>): unknown {
  const spec: Fields = { interactive: false };
  if (exec.provideClusterInfo === true) {
    const caFile = cluster['certificate-authority'];
    const caData = cluster['certificate-authority-data'] ?? (typeof caFile === 'string' ? readFileSync(caFile).toString('base64') : undefined);
    const extensions = Array.isArray(cluster.extensions) ? (cluster.extensions as Fields[]) : [];
    spec.cluster = {
      server: cluster.server,
      'tls-server-name': cluster['tls-server-name'],
      'insecure-skip-tls-verify': cluster['insecure-skip-tls-verify'],
      'certificate-authority-data': caData,
      'proxy-url': cluster['proxy-url'],
      config: extensions.find((e) => e.name === 'client.authentication.k8s.io/exec')?.extension,
    };
  }
  return { apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec };
}

/** Impersonate-Group/-Uid/-Extra-* from as-groups, as-uid, as-user-extra (client-node sends only Impersonate-User). */
function impersonationHeaders(user: Fields): Result<Record<string, string | string[]>, string> {
  const headers: Record<string, string | string[]> = {};
  const groups = user['as-groups'];
  if (groups !== undefined && groups !== null) {
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) return err('as-groups: expected a list of strings');
    if (groups.length) headers['Impersonate-Group'] = groups;
  }
  const uid = user['as-uid'];
  if (uid !== undefined && uid !== null && uid !== '') {
    if (typeof uid !== 'string') return err('as-uid: expected a string');
    headers['Impersonate-Uid'] = uid;
  }
  const extra = user['as-user-extra'];
  if (extra !== undefined && extra !== null) {
    if (!isFields(extra)) return err('as-user-extra: expected a mapping of lists');
    for (const [key, values] of Object.entries(extra)) {
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) return err(`as-user-extra: ${key}: expected a list of strings`);
      // Header names cannot carry every character of an extra key: percent-encoded, as client-go does.
      headers[`Impersonate-Extra-${encodeURIComponent(key)}`] = values;
    }
  }
  return ok(headers);
}
