import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { formatConfigError, isLoadBalancer, parseServiceRequest, type ServiceConfigError, type ServiceRequest } from './index.ts';

const svc = (spec: V1Service['spec'] = {}, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): V1Service => ({
  metadata: { name: 'web', namespace: 'shop', annotations, labels },
  spec: { type: 'LoadBalancer', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});

const parsed = (s: V1Service, nsLabels: Record<string, string> = {}): ServiceRequest => {
  const r = parseServiceRequest(s, nsLabels);
  if (!r.ok) throw new Error(formatConfigError(r.error));
  return r.value;
};

const failure = (s: V1Service): ServiceConfigError => {
  const r = parseServiceRequest(s, {});
  if (r.ok) throw new Error('expected an error');
  return r.error;
};

const ips = (r: ServiceRequest): string[] => r.requestedIPs.map((ip) => ip.text);

describe('parseServiceRequest', () => {
  it('reads a plain Service: ports sorted, no sharing, Cluster backend, labels carried', () => {
    const r = parsed(
      svc({ ports: [{ port: 443, protocol: 'UDP' }, { port: 8080 }, { port: 80, protocol: 'TCP' }], loadBalancerClass: 'x/y' }, {}, { app: 'web' }),
      { team: 'a' },
    );
    expect(r).toEqual({
      namespace: 'shop',
      name: 'web',
      requestedIPs: [],
      pool: undefined,
      sharingKey: '',
      ports: [{ protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 8080 }, { protocol: 'UDP', port: 443 }],
      backendKey: '',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: [4],
      loadBalancerClass: 'x/y',
      labels: { app: 'web' },
      namespaceLabels: { team: 'a' },
      warnings: [],
    });
  });

  it('takes the newest annotation spelling and warns about every older one in use', () => {
    const r = parsed(
      svc({}, {
        'ballast.io/address-pool': 'new',
        'metallb.io/address-pool': 'mid',
        'metallb.universe.tf/address-pool': 'old',
        'metallb.universe.tf/allow-shared-ip': ' key1 ',
        'metallb.io/loadBalancerIPs': '198.51.100.7',
      }),
    );
    expect(r.pool).toBe('new');
    expect(r.sharingKey).toBe('key1');
    expect(ips(r)).toEqual(['198.51.100.7']);
    expect(r.warnings).toEqual([
      'annotation "metallb.io/loadBalancerIPs" is deprecated; use "ballast.io/loadBalancerIPs"',
      'annotation "metallb.io/address-pool" is deprecated; use "ballast.io/address-pool"',
      'annotation "metallb.universe.tf/address-pool" is deprecated; use "ballast.io/address-pool"',
      'annotation "metallb.universe.tf/allow-shared-ip" is deprecated; use "ballast.io/allow-shared-ip"',
    ]);
  });

  it('reads one IP per family from the annotation, IPv4 first, and spec.loadBalancerIP alone', () => {
    const dual = svc({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] }, { 'ballast.io/loadBalancerIPs': ' 2001:DB8::5 , 198.51.100.5' });
    expect(ips(parsed(dual))).toEqual(['198.51.100.5', '2001:db8::5']);
    expect(parsed(dual).ipFamilies).toEqual([6, 4]);
    expect(ips(parsed(svc({ loadBalancerIP: '198.51.100.9' })))).toEqual(['198.51.100.9']);
  });

  it('accepts spec.loadBalancerIP equal to the annotation', () => {
    expect(ips(parsed(svc({ loadBalancerIP: '198.51.100.9' }, { 'ballast.io/loadBalancerIPs': '198.51.100.9' })))).toEqual(['198.51.100.9']);
  });

  it.each([
    [svc({}, { 'ballast.io/loadBalancerIPs': '198.51.100.1,198.51.100.2' }), 'metadata.annotations["ballast.io/loadBalancerIPs"]', 'gives two IPv4 addresses (198.51.100.1, 198.51.100.2); at most one per family'],
    [svc({}, { 'metallb.io/loadBalancerIPs': '198.51.100.999' }), 'metadata.annotations["metallb.io/loadBalancerIPs"]', 'not a valid IPv4 address'],
    [svc({}, { 'ballast.io/loadBalancerIPs': '198.51.100.1,' }), 'metadata.annotations["ballast.io/loadBalancerIPs"]', 'empty address'],
    [svc({ loadBalancerIP: '198.51.100.1' }, { 'ballast.io/loadBalancerIPs': '198.51.100.2' }), 'spec.loadBalancerIP', 'differs from annotation "ballast.io/loadBalancerIPs" (198.51.100.2); set only one of them'],
    [svc({ loadBalancerIP: 'nope' }), 'spec.loadBalancerIP', 'not a valid IPv4 address'],
    [svc({}, { 'ballast.io/loadBalancerIPs': '2001:db8::1' }), 'metadata.annotations["ballast.io/loadBalancerIPs"]', "requests IPv6 address 2001:db8::1, but the Service's IP families are IPv4"],
    [
      svc({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] }, { 'ballast.io/loadBalancerIPs': '198.51.100.1' }),
      'metadata.annotations["ballast.io/loadBalancerIPs"]',
      'RequireDualStack needs one address per family, but only IPv4 is given',
    ],
    [svc({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4'] }), 'spec.ipFamilies', 'RequireDualStack needs IPv4 and IPv6, but the Service has only IPv4'],
    [svc({ ipFamilyPolicy: 'Sometimes' }), 'spec.ipFamilyPolicy', 'is not one of SingleStack, PreferDualStack, RequireDualStack'],
    [svc({ ipFamilies: ['IPv4', 'IPX'] }), 'spec.ipFamilies[1]', 'is not IPv4 or IPv6'],
    [svc({ ipFamilies: [], clusterIPs: ['None'] }), 'spec.ipFamilies', 'no cluster IP'],
    [svc({ ports: [{ port: 80 }, { port: 53, protocol: 'ICMP' }] }), 'spec.ports[1].protocol', '"ICMP" is not TCP, UDP or SCTP'],
    [svc({ ports: [{ port: 0 }] }), 'spec.ports[0].port', '0 is not a port number'],
  ])('rejects case %# at %s', (s, field, message) => {
    const e = failure(s);
    expect(e).toMatchObject({ kind: 'Service', namespace: 'shop', name: 'web', field });
    expect(e.message).toContain(message);
    expect(formatConfigError(e)).toMatch(new RegExp(`^Service shop/web ${field.replace(/[[\]"().]/g, '\\$&')}: `));
  });

  it('takes families from ipFamilyPolicy and ipFamilies, else from the cluster IPs', () => {
    expect(parsed(svc({ ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6', 'IPv4'] })).ipFamilies).toEqual([6]);
    expect(parsed(svc({ ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] })).ipFamilies).toEqual([4, 6]);
    expect(parsed(svc({ ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6'] })).ipFamilies).toEqual([6]);
    expect(parsed(svc({ ipFamilyPolicy: undefined, ipFamilies: undefined, clusterIPs: ['2001:db8::a'] })).ipFamilies).toEqual([6]);
    expect(parsed(svc({ ipFamilyPolicy: 'PreferDualStack', ipFamilies: undefined, clusterIPs: ['198.51.100.3', '2001:db8::a'] })).ipFamilies).toEqual([4, 6]);
    expect(parsed(svc({ ipFamilyPolicy: undefined, ipFamilies: undefined, clusterIP: '198.51.100.3' })).ipFamilyPolicy).toBe('SingleStack');
  });

  it('keys backends by the canonical selector for externalTrafficPolicy Local only', () => {
    expect(parsed(svc({ externalTrafficPolicy: 'Local', selector: { tier: 'edge', app: 'web' } })).backendKey).toBe('app=web,tier=edge');
    expect(parsed(svc({ externalTrafficPolicy: 'Cluster', selector: { app: 'web' } })).backendKey).toBe('');
  });
});

describe('isLoadBalancer', () => {
  it('takes LoadBalancer Services with no class unless a class flag is set, then exactly that class', () => {
    expect(isLoadBalancer(svc({ type: 'ClusterIP' }))).toBe(false);
    expect(isLoadBalancer(svc())).toBe(true);
    expect(isLoadBalancer(svc({ loadBalancerClass: 'example.com/lb' }))).toBe(false);
    expect(isLoadBalancer(svc({ loadBalancerClass: 'example.com/lb' }), 'example.com/lb')).toBe(true);
    expect(isLoadBalancer(svc({ loadBalancerClass: 'example.com/other' }), 'example.com/lb')).toBe(false);
    expect(isLoadBalancer(svc(), 'example.com/lb')).toBe(false);
  });
});
