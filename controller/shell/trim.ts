// What the controller's informers keep of each object: the fields the core,
// shared/config's parsers and the event recorder read, nothing else. A
// Service as `kubectl apply` leaves it carries its whole last applied
// configuration as an annotation and managedFields for every writer; 5 000 of
// them were most of the controller's heap (docs/benchmarks.md, "Memory").
import type { V1Namespace, V1Node, V1Service } from '@kubernetes/client-node';
import { ANNOTATION, type IPAddressPool } from '../../shared/api/index.ts';
import { withoutManagedFields } from '../../shared/k8s/index.ts';

const SERVICE_ANNOTATIONS: ReadonlySet<string> = new Set(Object.values(ANNOTATION).flat());

/** The Service as allocation reads it: identity, age, labels, Ballast's (and MetalLB's) annotations, the spec fields that shape a request, the ingress. */
export function trimService(s: V1Service): V1Service {
  const m = s.metadata ?? {};
  const annotations = Object.fromEntries(Object.entries(m.annotations ?? {}).filter(([k]) => SERVICE_ANNOTATIONS.has(k)));
  const spec = s.spec ?? {};
  return {
    apiVersion: s.apiVersion,
    kind: s.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
      ...(m.labels ? { labels: m.labels } : {}),
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
    spec: {
      type: spec.type,
      loadBalancerClass: spec.loadBalancerClass,
      loadBalancerIP: spec.loadBalancerIP,
      ipFamilies: spec.ipFamilies,
      ipFamilyPolicy: spec.ipFamilyPolicy,
      clusterIP: spec.clusterIP,
      clusterIPs: spec.clusterIPs,
      ports: spec.ports?.map((p) => ({ port: p.port, protocol: p.protocol })),
      externalTrafficPolicy: spec.externalTrafficPolicy,
      selector: spec.selector,
    },
    status: { loadBalancer: { ingress: s.status?.loadBalancer?.ingress } },
  };
}

/** A Namespace's name and labels (serviceAllocation.namespaceSelectors). */
export function trimNamespace(n: V1Namespace): V1Namespace {
  const m = n.metadata ?? {};
  return { apiVersion: n.apiVersion, kind: n.kind, metadata: { name: m.name, uid: m.uid, resourceVersion: m.resourceVersion, labels: m.labels } };
}

/** A Node's name and addresses (no Service may get a node's own address): not its images, conditions or capacity. */
export function trimNode(n: V1Node): V1Node {
  const m = n.metadata ?? {};
  return { apiVersion: n.apiVersion, kind: n.kind, metadata: { name: m.name, uid: m.uid, resourceVersion: m.resourceVersion }, status: { addresses: n.status?.addresses } };
}

/** A pool is read whole (spec, status, finalizers, generation, labels), but for managedFields and annotations. */
export function trimPool(p: IPAddressPool): IPAddressPool {
  const { annotations: _unread, ...metadata } = withoutManagedFields(p).metadata;
  return { ...p, metadata };
}
