// Which API resources the shell talks to, as typed descriptors: one value says
// where a kind lives (group/version, plural, scope) and what type its objects
// have, so clients and informers cannot mix a path with the wrong type.
import type {
  CoreV1Event,
  V1EndpointSlice,
  V1Lease,
  V1Namespace,
  V1Node,
  V1Pod,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import { API_VERSION, PLURAL, type IPAddressPool, type L2Advertisement, type ServiceL2Status } from '../api/index.ts';

/** The least every API object has; satisfied by client-node's V1* types and by shared/api's CRD types. */
export interface ApiObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: { [key: string]: string };
  };
}

/** Where objects of type T live in the API. */
export interface Resource<T extends ApiObject> {
  /** `v1` for the core group, else `group/version`. */
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** Never set: carries T for type inference. */
  readonly __object?: T;
}

/** A descriptor for a resource not in RESOURCES. */
export function defineResource<T extends ApiObject>(apiVersion: string, kind: string, plural: string, namespaced: boolean): Resource<T> {
  return { apiVersion, kind, plural, namespaced };
}

/** The resources Ballast's controller and speaker use. */
export const RESOURCES = {
  service: defineResource<V1Service>('v1', 'Service', 'services', true),
  endpointSlice: defineResource<V1EndpointSlice>('discovery.k8s.io/v1', 'EndpointSlice', 'endpointslices', true),
  node: defineResource<V1Node>('v1', 'Node', 'nodes', false),
  namespace: defineResource<V1Namespace>('v1', 'Namespace', 'namespaces', false),
  pod: defineResource<V1Pod>('v1', 'Pod', 'pods', true),
  secret: defineResource<V1Secret>('v1', 'Secret', 'secrets', true),
  lease: defineResource<V1Lease>('coordination.k8s.io/v1', 'Lease', 'leases', true),
  event: defineResource<CoreV1Event>('v1', 'Event', 'events', true),
  ipAddressPool: defineResource<IPAddressPool>(API_VERSION, 'IPAddressPool', PLURAL.ipAddressPool, true),
  l2Advertisement: defineResource<L2Advertisement>(API_VERSION, 'L2Advertisement', PLURAL.l2Advertisement, true),
  serviceL2Status: defineResource<ServiceL2Status>(API_VERSION, 'ServiceL2Status', PLURAL.serviceL2Status, true),
} as const;

/** Names one object; namespace is ignored for cluster-scoped resources and required for namespaced ones. */
export interface ObjectRef {
  readonly namespace?: string | undefined;
  readonly name: string;
}

const groupPrefix = (r: Resource<ApiObject>): string => (r.apiVersion.includes('/') ? `/apis/${r.apiVersion}` : `/api/${r.apiVersion}`);

/** `/api/v1/services` (all namespaces), `/api/v1/namespaces/x/services`, `/apis/ballast.io/v1beta1/…`. */
export function collectionPath(r: Resource<ApiObject>, namespace?: string): string {
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupPrefix(r)}${ns}/${r.plural}`;
}

/** The path of one object, optionally of a subresource (`status`). */
export function objectPath(r: Resource<ApiObject>, ref: ObjectRef, subresource?: string): string {
  if (r.namespaced && !ref.namespace) throw new Error(`${r.kind} ${ref.name}: a namespaced resource needs a namespace`);
  if (!ref.name) throw new Error(`${r.kind}: empty object name`);
  const base = `${collectionPath(r, ref.namespace)}/${encodeURIComponent(ref.name)}`;
  return subresource ? `${base}/${subresource}` : base;
}

/** The cache key of an object: `namespace/name`, or `name` when cluster-scoped (client-go's MetaNamespaceKeyFunc). */
export function objectKey(obj: ApiObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}
