// The ballast.io/v1beta1 custom resources as they travel over the API, before
// parsing (shared/config turns them into checked values). Shaped like MetalLB's
// metallb.io/v1beta1 so a MetalLB user changes only apiVersion.
import type { LabelSelector } from '../labels/index.ts';

export const GROUP = 'ballast.io';
export const VERSION = 'v1beta1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const PLURAL = {
  ipAddressPool: 'ipaddresspools',
  l2Advertisement: 'l2advertisements',
  serviceL2Status: 'servicel2statuses',
} as const;

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  /** Server picks the name from this prefix (ServiceL2Status objects are created as `l2-…`). */
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface ServiceAllocationSpec {
  priority?: number;
  namespaces?: string[];
  namespaceSelectors?: LabelSelector[];
  serviceSelectors?: LabelSelector[];
}

export interface IPAddressPoolSpec {
  addresses: string[];
  autoAssign?: boolean;
  avoidBuggyIPs?: boolean;
  serviceAllocation?: ServiceAllocationSpec;
}

export interface IPAddressPoolStatus {
  assignedIPv4?: number;
  assignedIPv6?: number;
  availableIPv4?: number;
  availableIPv6?: number;
  /** Exact, as text: a /64 has more free addresses than a JSON number holds exactly. */
  availableIPv6Text?: string;
  conditions?: Condition[];
}

export interface IPAddressPool {
  apiVersion?: string;
  kind?: 'IPAddressPool';
  metadata: ObjectMeta;
  spec: IPAddressPoolSpec;
  status?: IPAddressPoolStatus;
}

export interface L2AdvertisementSpec {
  ipAddressPools?: string[];
  ipAddressPoolSelectors?: LabelSelector[];
  nodeSelectors?: LabelSelector[];
  interfaces?: string[];
  serviceSelectors?: LabelSelector[];
}

export interface L2Advertisement {
  apiVersion?: string;
  kind?: 'L2Advertisement';
  metadata: ObjectMeta;
  spec: L2AdvertisementSpec;
}

export interface ServiceL2StatusStatus {
  node?: string;
  serviceName?: string;
  serviceNamespace?: string;
  interfaces?: Array<{ name: string }>;
}

export interface ServiceL2Status {
  apiVersion?: string;
  kind?: 'ServiceL2Status';
  metadata: ObjectMeta;
  spec?: Record<string, never>;
  status?: ServiceL2StatusStatus;
}
