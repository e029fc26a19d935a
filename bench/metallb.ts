// MetalLB's controller for side-by-side measurements: built from the Go module
// proxy (bench/metallb/go.mod says which version and why) into the cache,
// keyed by version, and run against a lab control plane with its CRDs and one
// IPAddressPool, the admission webhook off.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { applyManifests, startProcess, waitFor, type ControlPlane, type ManagedProcess } from '../test/lab/index.ts';
import { freePort } from '../test/lab/ports.ts';
import { err, ok, type Result } from '../shared/result.ts';

export const METALLB_VERSION = 'v0.15.2';
const FRR_K8S_VERSION = 'v0.0.21';
const MODULE_DIR = join(import.meta.dirname, 'metallb');

function goEnv(): NodeJS.ProcessEnv {
  const cache = process.env.BALLAST_CACHE ?? join(homedir(), '.cache', 'ballast');
  return { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0', GOFLAGS: '-mod=readonly', GOMODCACHE: process.env.GOMODCACHE_BALLAST ?? join(cache, 'go-mod') };
}

/** MetalLB's module directory in the module cache (its CRDs are there). */
function moduleSource(): string {
  return execFileSync('go', ['list', '-m', '-f', '{{.Dir}}', 'go.universe.tf/metallb'], { cwd: MODULE_DIR, env: goEnv(), encoding: 'utf8' }).trim();
}

/** The binary, building it on first use (minutes); an error says why it cannot be built here. */
export async function metallbControllerBinary(log: (msg: string) => void): Promise<Result<{ binary: string; note: string }, string>> {
  const bin = join(process.env.BALLAST_CACHE ?? join(homedir(), '.cache', 'ballast'), 'bin', `metallb-controller-${METALLB_VERSION}`);
  const note = `MetalLB ${METALLB_VERSION} (frr-k8s ${FRR_K8S_VERSION}), built from the Go module proxy`;
  if (existsSync(bin)) return ok({ binary: bin, note });
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    return err('no Go toolchain to build it with');
  }
  log(`building MetalLB's controller ${METALLB_VERSION} (first run only)`);
  try {
    mkdirSync(join(bin, '..'), { recursive: true });
    execFileSync('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', `${bin}.tmp`, 'go.universe.tf/metallb/controller'], { cwd: MODULE_DIR, env: goEnv(), stdio: 'pipe' });
    renameSync(`${bin}.tmp`, bin);
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? (e as Error).message);
    return err(`building MetalLB's controller failed: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
  return ok({ binary: bin, note });
}

export interface MetalLBRun {
  readonly pid: number;
  stop(): Promise<void>;
}

/** Installs MetalLB's CRDs, a namespace and one pool, and starts its controller for Services of this class. */
export async function runMetalLBController(
  cp: ControlPlane,
  opts: { binary: string; loadBalancerClass: string | undefined; addresses: readonly string[]; namespace?: string; log: (msg: string) => void },
): Promise<MetalLBRun> {
  const namespace = opts.namespace ?? 'metallb-bench';
  const kc = cp.kubeConfig();
  await applyManifests(kc, [join(moduleSource(), 'config', 'crd', 'bases')]);
  const { CoreV1Api, CustomObjectsApi } = await import('@kubernetes/client-node');
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: 'metallb.io',
    version: 'v1beta1',
    namespace,
    plural: 'ipaddresspools',
    body: { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'bench', namespace }, spec: { addresses: opts.addresses } },
  });
  const port = await freePort();
  const proc: ManagedProcess = startProcess(
    'metallb-controller',
    [
      opts.binary,
      `--kubeconfig=${cp.kubeconfig}`,
      `--namespace=${namespace}`,
      '--webhook-mode=disabled',
      '--disable-cert-rotation=true',
      `--port=${port}`,
      '--log-level=warn',
      ...(opts.loadBalancerClass ? [`--lb-class=${opts.loadBalancerClass}`] : []),
    ],
    { logFile: join(cp.dir, 'logs', 'metallb-controller.log') },
  );
  await waitFor(`MetalLB's controller to serve metrics (log ${proc.logFile})`, async () => {
    if (!proc.running) throw new Error(`exited with ${await proc.exited}`);
    return (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined))?.ok ?? false;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  return { pid: proc.pid, stop: () => proc.stop() };
}
