// Where the lab's control-plane binaries are: built by test/k8s-bins/build.sh
// (run by scripts/dev setup) into the cache, keyed by version.
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubectl: string;
  kubernetesVersion: string;
  etcdVersion: string;
}

function versions(): { kubernetes: string; etcd: string } {
  const text = readFileSync(join(REPO_ROOT, 'test', 'k8s-bins', 'versions.env'), 'utf8');
  const get = (key: string): string => {
    const m = new RegExp(`^${key}=(.+)$`, 'm').exec(text);
    if (!m?.[1]) throw new Error(`test/k8s-bins/versions.env has no ${key}`);
    return m[1].trim();
  };
  return { kubernetes: get('KUBERNETES_VERSION'), etcd: get('ETCD_VERSION') };
}

export function findBinaries(): Binaries {
  const v = versions();
  const dir = process.env.BALLAST_BIN_DIR ?? join(process.env.BALLAST_CACHE ?? join(homedir(), '.cache', 'ballast'), 'bin');
  const bins: Binaries = {
    etcd: join(dir, `etcd-v${v.etcd}`),
    kubeApiserver: join(dir, `kube-apiserver-v${v.kubernetes}`),
    kubeControllerManager: join(dir, `kube-controller-manager-v${v.kubernetes}`),
    kubectl: join(dir, `kubectl-v${v.kubernetes}`),
    kubernetesVersion: v.kubernetes,
    etcdVersion: v.etcd,
  };
  for (const path of [bins.etcd, bins.kubeApiserver, bins.kubeControllerManager, bins.kubectl]) {
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw new Error(`lab binary ${path} is missing: run scripts/dev setup (it builds etcd, kube-apiserver and kubectl from the Go module proxy)`);
    }
  }
  return bins;
}
