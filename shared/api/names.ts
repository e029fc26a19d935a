// Well-known names users type: annotations, labels, finalizers.

/** Service annotations, newest spelling first; the others are honoured with a Warning event naming the first. */
export const ANNOTATION = {
  loadBalancerIPs: ['ballast.io/loadBalancerIPs', 'metallb.io/loadBalancerIPs', 'metallb.universe.tf/loadBalancerIPs'],
  addressPool: ['ballast.io/address-pool', 'metallb.io/address-pool', 'metallb.universe.tf/address-pool'],
  allowSharedIP: ['ballast.io/allow-shared-ip', 'metallb.io/allow-shared-ip', 'metallb.universe.tf/allow-shared-ip'],
} as const;

/** Written by the controller, informational: which pool an IP came from. */
export const ANNOTATION_ALLOCATED_FROM = 'ballast.io/ip-allocated-from-pool';

/** Keeps a pool that live Services still use (like kubernetes.io/pvc-protection). */
export const POOL_FINALIZER = 'ballast.io/pool-protection';

/** Nodes with this label never announce (kube's own well-known label). */
export const LABEL_EXCLUDE_FROM_LB = 'node.kubernetes.io/exclude-from-external-load-balancers';

/**
 * Labels on the ServiceL2Status objects a speaker writes (MetalLB: metallb.io/node,
 * metallb.io/service-name, metallb.io/service-namespace): how a speaker finds its own
 * objects and those of a Service, since custom resources cannot be selected by status fields.
 */
export const SERVICE_L2_STATUS_LABEL = {
  node: 'ballast.io/node',
  serviceName: 'ballast.io/service-name',
  serviceNamespace: 'ballast.io/service-namespace',
} as const;

/** What the speaker DaemonSet's pods carry: the API's view of which speakers run. */
export const SPEAKER_POD_LABELS = { 'app.kubernetes.io/name': 'ballast', 'app.kubernetes.io/component': 'speaker' } as const;

/**
 * The Secret holding the speakers' heartbeat HMAC keys (created by the
 * controller when missing): `key` signs; `next-key` and `previous-key`, while
 * a rotation rolls out, are accepted too (shared/config/heartbeat-rotation.ts).
 */
export const HEARTBEAT_SECRET = 'ballast-heartbeat';
export const HEARTBEAT_SECRET_KEY = 'key';
export const HEARTBEAT_SECRET_NEXT_KEY = 'next-key';
export const HEARTBEAT_SECRET_PREVIOUS_KEY = 'previous-key';
