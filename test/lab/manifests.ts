// Server-side apply of YAML manifests (files or directories), like
// `kubectl apply --server-side -f`, and waiting for CRDs to be served.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { waitFor } from './exec.ts';
import { formatApiError, toApiError } from '../../shared/k8s/index.ts';

export const FIELD_MANAGER = 'ballast-lab';

export function readManifests(paths: readonly string[]): k8s.KubernetesObject[] {
  const objects: k8s.KubernetesObject[] = [];
  for (const path of paths) {
    if (statSync(path).isDirectory()) {
      const files = readdirSync(path)
        .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
        .sort();
      objects.push(...readManifests(files.map((f) => join(path, f))));
      continue;
    }
    for (const doc of k8s.loadAllYaml(readFileSync(path, 'utf8')) as Array<k8s.KubernetesObject | null>) {
      if (doc && typeof doc === 'object' && doc.kind) objects.push(doc);
    }
  }
  return objects;
}

export async function applyObjects(kc: k8s.KubeConfig, objects: readonly k8s.KubernetesObject[]): Promise<k8s.KubernetesObject[]> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const applied: k8s.KubernetesObject[] = [];
  for (const obj of objects) {
    try {
      applied.push(await client.patch(obj, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply));
    } catch (e) {
      throw new Error(`applying ${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}: ${describeApiError(e)}`);
    }
  }
  const crds = applied.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata?.name ?? '');
  if (crds.length) await waitForCrdsEstablished(kc, crds);
  return applied;
}

export function applyManifests(kc: k8s.KubeConfig, paths: readonly string[]): Promise<k8s.KubernetesObject[]> {
  return applyObjects(kc, readManifests(paths));
}

export async function waitForCrdsEstablished(kc: k8s.KubeConfig, names: readonly string[]): Promise<void> {
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  for (const name of names) {
    await waitFor(`CRD ${name} to be Established`, async () => {
      const crd = await ext.readCustomResourceDefinition({ name });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
  }
}

/** The API server's own code, reason and message for a failed client-node call (shared/k8s reads them the same way). */
export function describeApiError(e: unknown): string {
  return formatApiError(toApiError(e));
}
