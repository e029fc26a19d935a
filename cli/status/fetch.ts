// `ballast status`, the fetch: one LIST per kind, in parallel. A list the user
// may not read (RBAC) is reported in the snapshot instead of failing the
// command; only the Ballast resources themselves are required.
import * as k8s from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type IPAddressPool, type L2Advertisement, type ServiceL2Status } from '../../shared/api/index.ts';
import type { ClusterSnapshot } from './analyze.ts';

export async function fetchSnapshot(kc: k8s.KubeConfig, namespace: string, loadBalancerClass: string | undefined): Promise<ClusterSnapshot> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const unreadable: string[] = [];

  const ballast = async <T>(plural: string): Promise<T[]> => {
    try {
      const res = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural })) as { items?: T[] };
      return res.items ?? [];
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code === 404) throw new Error(`${plural}.${GROUP} is not served: are the Ballast CRDs installed? (kubectl apply -k deploy/crds)`);
      throw new Error(`listing ${plural}.${GROUP} in ${namespace}: ${apiMessage(e)}`);
    }
  };
  const optional = async <T>(what: string, list: () => Promise<{ items: T[] }>): Promise<T[]> => {
    try {
      return (await list()).items;
    } catch (e) {
      unreadable.push(`${what} (${apiMessage(e)})`);
      return [];
    }
  };

  const [pools, l2Advertisements, serviceL2Statuses, services, events, nodes, pods] = await Promise.all([
    ballast<IPAddressPool>(PLURAL.ipAddressPool),
    ballast<L2Advertisement>(PLURAL.l2Advertisement),
    ballast<ServiceL2Status>(PLURAL.serviceL2Status),
    optional('services', () => core.listServiceForAllNamespaces()),
    optional('events', () => core.listEventForAllNamespaces({ fieldSelector: 'involvedObject.kind=Service,type=Warning' })),
    optional('nodes', () => core.listNode()),
    optional(`pods in ${namespace}`, () => core.listNamespacedPod({ namespace })),
  ]);
  return { namespace, loadBalancerClass, pools, l2Advertisements, serviceL2Statuses, services, events, nodes, pods, unreadable };
}

/** The API server's own message ("services is forbidden: …"), not the client's wrapper. */
export function apiMessage(e: unknown): string {
  const err = e as { code?: number; body?: unknown; message?: string };
  try {
    const body = typeof err.body === 'string' ? (JSON.parse(err.body) as { message?: string }) : (err.body as { message?: string } | undefined);
    if (body?.message) return `${err.code ?? ''} ${body.message}`.trim();
  } catch {
    // not JSON
  }
  return err.message ?? String(e);
}
