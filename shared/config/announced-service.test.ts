import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { parseAnnouncedService, serviceKey } from './announced-service.ts';

const svc = (spec: V1Service['spec'], ingress: Array<{ ip?: string; hostname?: string }>): V1Service => ({
  metadata: { namespace: 'shop', name: 'web', labels: { app: 'web' } },
  spec,
  status: { loadBalancer: { ingress } },
});

describe('parseAnnouncedService', () => {
  it('parses ingress IPs in order, canonical and without duplicates', () => {
    const r = parseAnnouncedService(
      svc({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', loadBalancerClass: 'ballast.io/l2' }, [
        { ip: '198.51.100.7' },
        { ip: '2001:DB8::0:7' },
        { hostname: 'lb.example' },
        { ip: '198.51.100.7' },
      ]),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.ips.map((ip) => ip.text)).toEqual(['198.51.100.7', '2001:db8::7']);
    expect(r.value).toMatchObject({ namespace: 'shop', name: 'web', labels: { app: 'web' }, externalTrafficPolicy: 'Local', loadBalancerClass: 'ballast.io/l2' });
    expect(serviceKey(r.value)).toBe('shop/web');
  });

  it('defaults the traffic policy to Cluster and the class to none', () => {
    const r = parseAnnouncedService(svc({ type: 'LoadBalancer' }, []));
    expect(r.ok && [r.value.externalTrafficPolicy, r.value.loadBalancerClass, r.value.ips.length]).toEqual(['Cluster', undefined, 0]);
  });

  it('announces nothing for a Service that is no longer type LoadBalancer, even with ingress left over', () => {
    const r = parseAnnouncedService(svc({ type: 'ClusterIP' }, [{ ip: '198.51.100.7' }]));
    expect(r.ok && r.value.ips).toEqual([]);
  });

  it('reports a bad ingress IP and a bad policy with their fields', () => {
    const r = parseAnnouncedService(svc({ type: 'LoadBalancer', externalTrafficPolicy: 'Global' }, [{ ip: '198.51.100.7' }, { ip: '198.51.100.300' }]));
    expect(!r.ok && r.error.map((e) => [e.field, e.message])).toEqual([
      ['spec.externalTrafficPolicy', '"Global" is neither Cluster nor Local'],
      ['status.loadBalancer.ingress[1].ip', '"198.51.100.300" is not a valid IPv4 address'],
    ]);
  });
});
