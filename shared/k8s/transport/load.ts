// Where the API server is and who we are to it: --kubeconfig, KUBECONFIG, the
// pod's service account, or ~/.kube/config (controller-runtime's order). Never
// a last resort of http://localhost:8080: a component that silently talks to
// nothing is worse than one that says why it cannot start.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { err, ok, type Result } from '../../result.ts';
import { createApiAccess, type ApiAccess, type ApiAccessOptions, type Connection } from './access.ts';
import { staticToken, tokenFile, type BearerToken } from './credentials.ts';
import { connectionFor, inClusterServer, mergeKubeconfigs, parseKubeconfig, type ConnectionSpec, type DelegatedAuth, type KubeconfigFile } from './kubeconfig.ts';
import { tlsFromSources } from './tls-material.ts';

/** Where loadKubeConfig may look (defaults: process.env, the real service-account directory). */
export interface KubeConfigSources {
  /** The --kubeconfig flag, if given: this file and nothing else. */
  kubeconfig?: string | undefined;
  /** The --context flag: this context instead of the current-context (kubeconfig files only). */
  context?: string | undefined;
  /** Defaults to process.env; read for KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT and HOME. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Prepended to /var/run/secrets/kubernetes.io/serviceaccount (tests only). */
  inClusterPathPrefix?: string;
}

/** A usable connection to the API server and where its configuration came from. */
export interface LoadedKubeConfig {
  /** What every shared/k8s function takes: the connection pool, credentials and deadlines. */
  readonly access: ApiAccess;
  /** Where it came from, for the startup log line: a file path or `in-cluster`. */
  readonly source: string;
  /** The API server URL. */
  readonly server: string;
  /** The context used (`in-cluster` in a pod). */
  readonly context: string;
}

/** Transport tunables, and how often a token file and the TLS files are re-read (default 60 s each). */
export interface LoadOptions extends ApiAccessOptions {
  tokenMaxAgeMs?: number;
  tlsMaxAgeMs?: number;
  /**
   * Handles what the transport cannot (exec and auth-provider plugins, basic auth, impersonation, proxies) for a
   * context that uses it; without it such a kubeconfig is refused by name. The CLI passes client-node's here.
   */
  delegateAuth?: (delegated: DelegatedAuth) => Result<NonNullable<Connection['authenticate']>, string>;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Loads the client configuration; an error says which source was tried and what was wrong with it. */
export function loadKubeConfig(sources: KubeConfigSources = {}, opts: LoadOptions = {}): Result<LoadedKubeConfig, string> {
  const env = sources.env ?? process.env;
  if (sources.kubeconfig) {
    if (!existsSync(sources.kubeconfig)) return err(`--kubeconfig ${sources.kubeconfig}: no such file`);
    return fromFiles([sources.kubeconfig], `--kubeconfig ${sources.kubeconfig}`, sources.context, opts);
  }
  if (env.KUBECONFIG) {
    // Like kubectl: every listed file that exists, merged, the first one's current-context wins.
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f));
    if (files.length === 0) return err(`KUBECONFIG=${env.KUBECONFIG}: none of these files exists`);
    return fromFiles(files, `KUBECONFIG ${files.join(delimiter)}`, sources.context, opts);
  }
  const prefix = sources.inClusterPathPrefix ?? '';
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && !sources.context) {
    const dir = `${prefix}${SERVICE_ACCOUNT_DIR}`;
    if (!existsSync(`${dir}/token`)) return err(`in-cluster: KUBERNETES_SERVICE_HOST is set but ${dir}/token is missing (automountServiceAccountToken off?)`);
    // Like client-go's InClusterConfig: without ca.crt, the system's roots.
    const ca = existsSync(`${dir}/ca.crt`) && readFileSync(`${dir}/ca.crt`, 'utf8').trim() ? { file: `${dir}/ca.crt` } : undefined;
    const spec: ConnectionSpec = {
      context: 'in-cluster',
      server: inClusterServer(env.KUBERNETES_SERVICE_HOST, env.KUBERNETES_SERVICE_PORT),
      ca,
      insecureSkipTlsVerify: false,
      tokenFile: `${dir}/token`,
    };
    return connect(spec, 'in-cluster', opts);
  }
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
  if (home && existsSync(home)) return fromFiles([home], home, sources.context, opts);
  return err('no Kubernetes client configuration: pass --kubeconfig, set KUBECONFIG, or run in a pod with a service account');
}

function fromFiles(paths: readonly string[], source: string, context: string | undefined, opts: LoadOptions): Result<LoadedKubeConfig, string> {
  const files: KubeconfigFile[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      return err(`${source}: ${(e as Error).message}`);
    }
    const parsed = parseKubeconfig(text, path);
    if (!parsed.ok) return err(`${source}: ${parsed.error}`);
    files.push(parsed.value);
  }
  const spec = connectionFor(mergeKubeconfigs(files), context, { delegate: opts.delegateAuth !== undefined });
  return spec.ok ? connect(spec.value, source, opts) : err(`${source}: ${spec.error}`);
}

// Reads what the spec names (certificates, keys, the first token) and checks it now, so a wrong path or a key
// that does not fit its certificate stops the program at start with a message, not at its first request.
function connect(spec: ConnectionSpec, source: string, opts: LoadOptions): Result<LoadedKubeConfig, string> {
  const at = `${source}: context "${spec.context}"`;
  const tls = tlsFromSources(
    { ca: spec.ca, cert: spec.clientCert, key: spec.clientKey, insecureSkipTlsVerify: spec.insecureSkipTlsVerify, serverName: spec.tlsServerName },
    { readFile: (p) => readFileSync(p, 'utf8'), now: () => performance.now(), maxAgeMs: opts.tlsMaxAgeMs },
  );
  if (!tls.ok) return err(`${at}: ${tls.error}`);

  let token: BearerToken | undefined;
  if (spec.tokenFile) {
    token = tokenFile(spec.tokenFile, { readFile: (p) => readFileSync(p, 'utf8'), now: () => performance.now(), maxAgeMs: opts.tokenMaxAgeMs, fallback: spec.token });
    const first = token.current();
    if (!first.ok) return err(`${at}: ${first.error}`);
  } else if (spec.token) token = staticToken(spec.token);

  let authenticate: Connection['authenticate'];
  if (spec.delegated && opts.delegateAuth) {
    const delegated = opts.delegateAuth(spec.delegated);
    if (!delegated.ok) return err(`${at}: ${delegated.error}`);
    authenticate = delegated.value;
  }
  const access = createApiAccess({ server: spec.server, tls: tls.value, token, authenticate }, opts);
  return ok({ access, source, server: spec.server, context: spec.context });
}
