// Builds ServiceRequests for allocator tests without going through a V1Service.
import type { IPFamilyPolicy, ServicePort, ServiceRequest } from '../../shared/config/index.ts';
import { parseIP, type Family, type IPAddress } from '../../shared/net/index.ts';

export interface TestRequestOptions {
  namespace?: string;
  ips?: string[];
  pool?: string;
  sharingKey?: string;
  ports?: Array<[ServicePort['protocol'], number]>;
  backendKey?: string;
  ipFamilyPolicy?: IPFamilyPolicy;
  ipFamilies?: Family[];
  labels?: Record<string, string>;
  namespaceLabels?: Record<string, string>;
}

export const ip = (text: string): IPAddress => {
  const r = parseIP(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

export function testRequest(name: string, o: TestRequestOptions = {}): ServiceRequest {
  return {
    namespace: o.namespace ?? 'shop',
    name,
    requestedIPs: (o.ips ?? []).map(ip).sort((a, b) => a.family - b.family),
    pool: o.pool,
    sharingKey: o.sharingKey ?? '',
    ports: (o.ports ?? [['TCP', 80]]).map(([protocol, port]) => ({ protocol, port })),
    backendKey: o.backendKey ?? '',
    ipFamilyPolicy: o.ipFamilyPolicy ?? 'SingleStack',
    ipFamilies: o.ipFamilies ?? [4],
    loadBalancerClass: undefined,
    labels: o.labels ?? {},
    namespaceLabels: o.namespaceLabels ?? {},
    warnings: [],
  };
}

export const keyOf = (r: ServiceRequest): string => `${r.namespace}/${r.name}`;
