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
