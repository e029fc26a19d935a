// What the deploy tests share: the pinned kubectl and helm (test/k8s-bins),
// rendering deploy/ both ways, and normalising objects so the two renders
// can be compared.
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { REPO_ROOT, findBinaries } from '../lab/index.ts';
import { capture as labCapture, type Captured } from '../lab/exec.ts';

export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');
export const CHART_DIR = join(DEPLOY_DIR, 'helm', 'ballast');
export const INSTALL_NAMESPACE = 'ballast-system';

/** The lab's kubectl (kustomize built in) and the helm built beside it by test/k8s-bins/build.sh. */
export function deployTools(): { kubectl: string; helm: string } {
  const { kubectl } = findBinaries();
  const versions = readFileSync(join(REPO_ROOT, 'test', 'k8s-bins', 'versions.env'), 'utf8');
  const helmVersion = /^HELM_VERSION=(.+)$/m.exec(versions)?.[1]?.trim();
  if (!helmVersion) throw new Error('test/k8s-bins/versions.env has no HELM_VERSION');
  const helm = join(dirname(kubectl), `helm-v${helmVersion}`);
  try {
    accessSync(helm, constants.X_OK);
  } catch {
    throw new Error(`${helm} is missing: run scripts/dev setup (test/k8s-bins/build.sh builds it)`);
  }
  return { kubectl, helm };
}

export type { Captured } from '../lab/exec.ts';

/** The lab's capture with a longer default timeout: a helm install takes a while. */
export const capture = (argv: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Captured> =>
  labCapture(argv, { timeoutMs: 60_000, ...opts });

/** Like capture, but a non-zero exit is an error naming the command and its stderr. */
export async function check(argv: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Captured> {
  const r = await capture(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r;
}

export function parseObjects(yaml: string): k8s.KubernetesObject[] {
  return (k8s.loadAllYaml(yaml) as Array<k8s.KubernetesObject | null>).filter((o): o is k8s.KubernetesObject => !!o && typeof o === 'object' && !!o.kind);
}

export async function renderKustomize(dir: string = DEPLOY_DIR): Promise<string> {
  return (await check([deployTools().kubectl, 'kustomize', dir])).stdout;
}

/** `helm template` of the chart as release "ballast" in ballast-system, CRDs included. */
export async function renderChart(args: readonly string[] = []): Promise<string> {
  return (await check([deployTools().helm, 'template', 'ballast', CHART_DIR, '--namespace', INSTALL_NAMESPACE, '--include-crds', ...args])).stdout;
}

/** Labels Helm adds to every object by convention; the kustomize install has none of them. */
export const HELM_ONLY_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/instance', 'app.kubernetes.io/version'] as const;

export const objectKey = (o: k8s.KubernetesObject): string => `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;

/**
 * A canonical form for comparing two renders: keyed by kind/namespace/name,
 * Helm's own labels removed, map keys sorted (YAML key order carries no meaning).
 */
export function normalise(objects: readonly k8s.KubernetesObject[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const o of objects) {
    const copy = structuredClone(o) as k8s.KubernetesObject;
    const labels = copy.metadata?.labels;
    if (labels) {
      for (const l of HELM_ONLY_LABELS) delete labels[l];
      if (Object.keys(labels).length === 0) delete copy.metadata!.labels;
    }
    out.set(objectKey(o), sortKeys(copy));
  }
  return out;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
