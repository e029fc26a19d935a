import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { isLoadBalancer, parseServiceRequest } from '../../shared/config/index.ts';
import { nodeAddresses } from '../../shared/config/index.ts';
import { trimNamespace, trimNode, trimPool, trimService } from './trim.ts';

const lastApplied = (o: unknown): string => `${JSON.stringify(o)}\n`;

/** Services as the API server returns them: managedFields, kubectl's annotation, fields nobody here reads. */
function served(name: string, extra: Partial<NonNullable<V1Service['spec']>>, annotations: Record<string, string> = {}): V1Service {
  const spec: V1Service['spec'] = {
    type: 'LoadBalancer',
    ports: [
      { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 31080 },
      { name: 'dns', port: 53, protocol: 'UDP' },
    ],
    selector: { app: name },
    clusterIP: '198.51.100.140',
    clusterIPs: ['198.51.100.140', '2001:db8:0:ffff::10'],
    ipFamilies: ['IPv4', 'IPv6'],
    ipFamilyPolicy: 'PreferDualStack',
    sessionAffinity: 'None',
    internalTrafficPolicy: 'Cluster',
    externalTrafficPolicy: 'Local',
    healthCheckNodePort: 32000,
    ...extra,
  };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      resourceVersion: '4711',
      creationTimestamp: new Date('2026-01-02T03:04:05Z'),
      labels: { app: name, tier: 'front' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied({ spec }), 'prometheus.io/scrape': 'true', ...annotations },
      managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }],
    },
    spec,
    status: { loadBalancer: { ingress: [{ ip: '203.0.113.7', ipMode: 'VIP' }] } },
  };
}

const cases: V1Service[] = [
  served('plain', {}),
  served('requested', {}, { 'ballast.io/loadBalancerIPs': '203.0.113.7,2001:db8:100::7', 'ballast.io/allow-shared-ip': 'k' }),
  served('metallb', { externalTrafficPolicy: 'Cluster' }, { 'metallb.universe.tf/address-pool': 'edge', 'metallb.io/allow-shared-ip': 'k' }),
  served('spec-ip', { loadBalancerIP: '203.0.113.9', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', clusterIPs: ['198.51.100.141'] }),
  served('classed', { loadBalancerClass: 'ballast.io/other' }),
  served('no-families', { ipFamilies: undefined, ipFamilyPolicy: undefined }),
];

describe("the controller's cache trims", () => {
  it('a trimmed Service decides exactly as the whole one: the same request (or error), the same class', () => {
    for (const svc of cases) {
      const trimmed = trimService(svc);
      expect(parseServiceRequest(trimmed, { team: 'a' }), svc.metadata!.name).toEqual(parseServiceRequest(svc, { team: 'a' }));
      expect(isLoadBalancer(trimmed, undefined)).toBe(isLoadBalancer(svc, undefined));
      expect(isLoadBalancer(trimmed, 'ballast.io/other')).toBe(isLoadBalancer(svc, 'ballast.io/other'));
      expect(trimmed.status).toEqual(svc.status);
      expect(trimmed.metadata).toMatchObject({ uid: svc.metadata!.uid, resourceVersion: '4711', creationTimestamp: svc.metadata!.creationTimestamp });
    }
  });

  it('keeps none of what nobody here reads: managedFields, kubectl’s last-applied copy, other annotations', () => {
    const trimmed = trimService(cases[1]!);
    expect(Object.keys(trimmed.metadata!)).not.toContain('managedFields');
    expect(trimmed.metadata!.annotations).toEqual({ 'ballast.io/loadBalancerIPs': '203.0.113.7,2001:db8:100::7', 'ballast.io/allow-shared-ip': 'k' });
    expect(trimService(cases[0]!).metadata!.annotations).toBeUndefined();
    expect(JSON.stringify(trimService(cases[0]!)).length).toBeLessThan(JSON.stringify(cases[0]).length / 2);
  });

  it('Nodes keep what the core reads of them, their addresses, and nothing of their images or conditions', () => {
    const node = {
      metadata: { name: 'n1', uid: 'u', resourceVersion: '7', labels: { a: 'b' }, managedFields: [{}] },
      status: {
        addresses: [{ type: 'InternalIP', address: '198.51.100.4' }, { type: 'Hostname', address: 'n1' }],
        images: [{ names: ['registry.example/app:1'], sizeBytes: 1 }],
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    };
    const trimmed = trimNode(node);
    expect(nodeAddresses(trimmed)).toEqual(nodeAddresses(node));
    expect(trimmed).toEqual({ apiVersion: undefined, kind: undefined, metadata: { name: 'n1', uid: 'u', resourceVersion: '7' }, status: { addresses: node.status.addresses } });
  });

  it('Namespaces keep their labels, pools all but managedFields and annotations', () => {
    expect(trimNamespace({ metadata: { name: 'shop', labels: { team: 'a' }, annotations: { x: 'y' }, managedFields: [{}] }, spec: { finalizers: ['kubernetes'] } })).toEqual({
      apiVersion: undefined,
      kind: undefined,
      metadata: { name: 'shop', uid: undefined, resourceVersion: undefined, labels: { team: 'a' } },
    });
    const pool = trimPool({
      metadata: { name: 'p', namespace: 'ballast-system', generation: 2, finalizers: ['ballast.io/pool-protection'], annotations: { a: 'b' }, managedFields: [{}] } as never,
      spec: { addresses: ['203.0.113.0/28'] },
      status: { assignedIPv4: 1 },
    });
    expect(pool).toEqual({ metadata: { name: 'p', namespace: 'ballast-system', generation: 2, finalizers: ['ballast.io/pool-protection'] }, spec: { addresses: ['203.0.113.0/28'] }, status: { assignedIPv4: 1 } });
  });
});
