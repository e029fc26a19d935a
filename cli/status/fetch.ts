// `ballast status`, the fetch: one LIST per kind, in parallel. A list the user
// may not read (RBAC) is reported in the snapshot instead of failing the
// command; only the Ballast resources themselves are required.
import { GROUP } from '../../shared/api/index.ts';
import { formatApiError, objectClient, RESOURCES, type ApiAccess, type ApiError, type ApiObject, type ListOptions, type Resource } from '../../shared/k8s/index.ts';
import type { ClusterSnapshot } from './analyze.ts';

export async function fetchSnapshot(access: ApiAccess, namespace: string, loadBalancerClass: string | undefined): Promise<ClusterSnapshot> {
  const unreadable: string[] = [];

  const ballast = async <T extends ApiObject>(resource: Resource<T>): Promise<T[]> => {
    const r = await objectClient(access, resource).list({ namespace });
    if (r.ok) return r.value.items;
    if (r.error.code === 404) throw new Error(`${resource.plural}.${GROUP} is not served: are the Ballast CRDs installed? (kubectl apply -k deploy/crds)`);
    throw new Error(`listing ${resource.plural}.${GROUP} in ${namespace}: ${apiMessage(r.error)}`);
  };
  const optional = async <T extends ApiObject>(what: string, resource: Resource<T>, opts: ListOptions = {}): Promise<T[]> => {
    const r = await objectClient(access, resource).list(opts);
    if (r.ok) return r.value.items;
    unreadable.push(`${what} (${apiMessage(r.error)})`);
    return [];
  };

  const [pools, l2Advertisements, serviceL2Statuses, services, events, nodes, pods] = await Promise.all([
    ballast(RESOURCES.ipAddressPool),
    ballast(RESOURCES.l2Advertisement),
    ballast(RESOURCES.serviceL2Status),
    optional('services', RESOURCES.service),
    optional('events', RESOURCES.event, { fieldSelector: 'involvedObject.kind=Service,type=Warning' }),
    optional('nodes', RESOURCES.node),
    optional(`pods in ${namespace}`, RESOURCES.pod, { namespace }),
  ]);
  return { namespace, loadBalancerClass, pools, l2Advertisements, serviceL2Statuses, services, events, nodes, pods, unreadable };
}

/** The API server's own message with its code ("403 services is forbidden: …"), or why there was no answer. */
export function apiMessage(e: ApiError): string {
  return e.code === undefined ? formatApiError(e) : `${e.code} ${e.message}`;
}
