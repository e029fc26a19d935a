// Plain API objects for the status tests: a small healthy cluster, to be broken one way at a time.
import type { CoreV1Event, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { IPAddressPool, L2Advertisement, ServiceL2Status } from '../../shared/api/index.ts';
import type { ClusterSnapshot } from './analyze.ts';

export const NS = 'ballast-system';

export function pool(name: string, addresses: string[], extra: Partial<IPAddressPool['metadata']> & { status?: IPAddressPool['status']; avoidBuggyIPs?: boolean } = {}): IPAddressPool {
  const { status, avoidBuggyIPs, ...meta } = extra;
  return {
    apiVersion: 'ballast.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name, namespace: NS, creationTimestamp: '2025-01-01T00:00:00Z', ...meta },
    spec: { addresses, ...(avoidBuggyIPs !== undefined ? { avoidBuggyIPs } : {}) },
    ...(status ? { status } : {}),
  };
}

export const readyStatus = (assignedIPv4: number, availableIPv4: number, more: Partial<NonNullable<IPAddressPool['status']>> = {}): NonNullable<IPAddressPool['status']> => ({
  assignedIPv4,
  availableIPv4,
  conditions: [{ type: 'Ready', status: 'True', reason: 'Allocating', message: 'ready', lastTransitionTime: '2025-01-01T00:00:00Z' }],
  ...more,
});

export const ad = (name: string, spec: L2Advertisement['spec'] = {}): L2Advertisement => ({ apiVersion: 'ballast.io/v1beta1', kind: 'L2Advertisement', metadata: { name, namespace: NS }, spec });

export function service(ns: string, name: string, ips: string[], extra: { annotations?: Record<string, string>; loadBalancerClass?: string; type?: string } = {}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { type: extra.type ?? 'LoadBalancer', ports: [{ port: 80 }], ...(extra.loadBalancerClass ? { loadBalancerClass: extra.loadBalancerClass } : {}) },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  };
}

export const l2status = (name: string, ns: string, svc: string, node: string): ServiceL2Status => ({
  apiVersion: 'ballast.io/v1beta1',
  kind: 'ServiceL2Status',
  metadata: { name, namespace: NS },
  status: { node, serviceName: svc, serviceNamespace: ns },
});

export const warning = (ns: string, svc: string, reason: string, message: string, at: string): CoreV1Event => ({
  metadata: { name: `${svc}.${at}`, namespace: ns },
  involvedObject: { kind: 'Service', namespace: ns, name: svc },
  type: 'Warning',
  reason,
  message,
  lastTimestamp: new Date(at),
});

export const node = (name: string, labels: Record<string, string> = {}): V1Node => ({ metadata: { name, labels } });

export const speakerPod = (nodeName: string, ready = true): V1Pod => ({
  metadata: { name: `ballast-speaker-${nodeName}`, namespace: NS, labels: { 'app.kubernetes.io/name': 'ballast', 'app.kubernetes.io/component': 'speaker' } },
  spec: { nodeName, containers: [] },
  status: { phase: ready ? 'Running' : 'Pending', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

/** A snapshot whose lists a test may push into. */
export type MutableSnapshot = { -readonly [K in keyof ClusterSnapshot]: ClusterSnapshot[K] extends ReadonlyArray<infer T> ? T[] : ClusterSnapshot[K] };

/** Two nodes with speakers, one pool announced everywhere, two Services each announced by one node. */
export function healthy(): MutableSnapshot {
  return {
    namespace: NS,
    pools: [pool('default', ['203.0.113.0/24', '2001:db8:100::/64'], { status: readyStatus(2, 254, { assignedIPv6: 1, availableIPv6: 2 ** 53 - 1, availableIPv6Text: '18446744073709551615' } as never) })],
    l2Advertisements: [ad('all')],
    serviceL2Statuses: [l2status('l2-a', 'shop', 'web', 'node-1'), l2status('l2-b', 'shop', 'api', 'node-2')],
    services: [service('shop', 'web', ['203.0.113.1', '2001:db8:100::1']), service('shop', 'api', ['203.0.113.2'])],
    events: [],
    nodes: [node('node-1'), node('node-2')],
    pods: [speakerPod('node-1'), speakerPod('node-2')],
  };
}
