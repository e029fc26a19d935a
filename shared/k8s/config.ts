// Where the API server is and who we are to it: a KubeConfig from --kubeconfig,
// KUBECONFIG, the pod's service account, or ~/.kube/config (controller-runtime's
// order). Never client-node's last resort of http://localhost:8080: a
// component that silently talks to nothing is worse than one that says why it
// cannot start.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { err, ok, type Result } from '../result.ts';

/** Where loadKubeConfig may look (defaults: process.env, the real service-account directory). */
export interface KubeConfigSources {
  /** The --kubeconfig flag, if given: this file and nothing else. */
  kubeconfig?: string | undefined;
  /** Defaults to process.env; read for KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT and HOME. */
  env?: NodeJS.ProcessEnv;
  /** Prepended to /var/run/secrets/kubernetes.io/serviceaccount (tests only). */
  inClusterPathPrefix?: string;
}

/** A usable client configuration and where it came from. */
export interface LoadedKubeConfig {
  readonly kubeConfig: KubeConfig;
  /** Where it came from, for the startup log line: a file path or `in-cluster`. */
  readonly source: string;
  /** The API server URL of the current context. */
  readonly server: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Loads the client configuration; an error says which source was tried and what was wrong with it. */
export function loadKubeConfig(sources: KubeConfigSources = {}): Result<LoadedKubeConfig, string> {
  const env = sources.env ?? process.env;
  if (sources.kubeconfig) {
    if (!existsSync(sources.kubeconfig)) return err(`--kubeconfig ${sources.kubeconfig}: no such file`);
    return fromFiles([sources.kubeconfig], `--kubeconfig ${sources.kubeconfig}`);
  }
  if (env.KUBECONFIG) {
    // Like kubectl: every listed file that exists, merged, the first one's current-context wins.
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f));
    if (files.length === 0) return err(`KUBECONFIG=${env.KUBECONFIG}: none of these files exists`);
    return fromFiles(files, `KUBECONFIG ${files.join(delimiter)}`);
  }
  const prefix = sources.inClusterPathPrefix ?? '';
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
    if (!existsSync(`${prefix}${SERVICE_ACCOUNT_DIR}/token`)) {
      return err(`in-cluster: KUBERNETES_SERVICE_HOST is set but ${prefix}${SERVICE_ACCOUNT_DIR}/token is missing (automountServiceAccountToken off?)`);
    }
    return withServer(() => {
      const kc = new KubeConfig();
      // loadFromCluster reads KUBERNETES_SERVICE_HOST/PORT from process.env.
      const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
      process.env.KUBERNETES_SERVICE_HOST = env.KUBERNETES_SERVICE_HOST;
      process.env.KUBERNETES_SERVICE_PORT = env.KUBERNETES_SERVICE_PORT;
      try {
        kc.loadFromCluster(prefix);
      } finally {
        restoreEnv('KUBERNETES_SERVICE_HOST', saved.host);
        restoreEnv('KUBERNETES_SERVICE_PORT', saved.port);
      }
      return kc;
    }, 'in-cluster');
  }
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
  if (home && existsSync(home)) return fromFiles([home], home);
  return err('no Kubernetes client configuration: pass --kubeconfig, set KUBECONFIG, or run in a pod with a service account');
}

function fromFiles(files: readonly string[], source: string): Result<LoadedKubeConfig, string> {
  return withServer(() => {
    const kc = new KubeConfig();
    kc.loadFromFile(files[0]!);
    for (const f of files.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(f);
      kc.mergeConfig(more, true);
    }
    return kc;
  }, source);
}

function withServer(load: () => KubeConfig, source: string): Result<LoadedKubeConfig, string> {
  let kc: KubeConfig;
  try {
    kc = load();
  } catch (e) {
    return err(`${source}: ${(e as Error).message}`);
  }
  const context = kc.getCurrentContext();
  if (!context) return err(`${source}: no current-context`);
  const server = kc.getCurrentCluster()?.server;
  if (!server) return err(`${source}: context ${context} has no cluster with a server URL`);
  return ok({ kubeConfig: kc, source, server });
}

function restoreEnv(key: string, value: string | undefined): void {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}
