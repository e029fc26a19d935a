// Builders for election tests: checked config values without going through the
// API shapes each time.
import type { AnnouncedService, L2AdvertisementConfig, NodeInfo, PoolRef } from '../../shared/config/index.ts';
import { compileSelector, type LabelSelector, type Labels } from '../../shared/labels/index.ts';
import { parseIP, type IPAddress } from '../../shared/net/index.ts';
import type { ElectionInput } from './elect.ts';

export function ip(text: string): IPAddress {
  const r = parseIP(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

export function node(name: string, extra: Partial<Omit<NodeInfo, 'name'>> = {}): NodeInfo {
  return { name, labels: {}, networkUnavailable: false, excluded: false, ...extra };
}

export function service(key: string, ips: string[], extra: Partial<Omit<AnnouncedService, 'namespace' | 'name' | 'ips'>> = {}): AnnouncedService {
  const [namespace, name] = key.split('/') as [string, string];
  return { namespace, name, labels: {}, externalTrafficPolicy: 'Cluster', loadBalancerClass: undefined, ...extra, ips: ips.map(ip) };
}

const selector = (s: LabelSelector) => {
  const r = compileSelector(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

export interface AdSpec {
  pools?: string[];
  poolSelectors?: LabelSelector[];
  nodeSelectors?: LabelSelector[];
  serviceSelectors?: LabelSelector[];
  interfaces?: string[];
}

export function ad(name: string, spec: AdSpec = {}): L2AdvertisementConfig {
  return {
    namespace: 'ballast-system',
    name,
    poolNames: new Set(spec.pools ?? []),
    poolSelectors: (spec.poolSelectors ?? []).map(selector),
    nodeSelectors: (spec.nodeSelectors ?? []).map(selector),
    serviceSelectors: (spec.serviceSelectors ?? []).map(selector),
    interfaces: spec.interfaces?.length ? new Set(spec.interfaces) : 'all',
  };
}

/** Pools by exact IP text; IPs not listed are in no pool. */
export function poolsByIP(pools: Record<string, { name: string; labels?: Labels; ips: string[] }>): (ip: IPAddress) => PoolRef | undefined {
  const byIP = new Map<string, PoolRef>();
  for (const pool of Object.values(pools)) for (const text of pool.ips) byIP.set(ip(text).text, { name: pool.name, labels: pool.labels ?? {} });
  return (address) => byIP.get(address.text);
}

/** Everything in pool "default", one catch-all advertisement, every given node live. */
export function input(partial: Partial<ElectionInput> & Pick<ElectionInput, 'services' | 'nodes'>): ElectionInput {
  return {
    readyEndpointNodes: new Map(),
    liveSpeakers: new Set(partial.nodes.map((n) => n.name)),
    advertisements: [ad('all')],
    poolOf: () => ({ name: 'default', labels: {} }),
    ...partial,
  };
}
