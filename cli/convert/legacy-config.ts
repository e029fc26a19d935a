// MetalLB's legacy configuration (the `config` key of ConfigMap `config`,
// MetalLB ≤ 0.12; also the spec of the deprecated AddressPool CRD) as
// metallb.io/v1beta1-shaped objects, which metallb.ts converts like any other:
// a layer2 pool becomes an IPAddressPool plus an L2Advertisement naming it.
import type { ConversionNote, RawObject } from './metallb.ts';

type Note = (severity: ConversionNote['severity'], source: string, message: string) => void;

export interface LegacyObjects {
  readonly pools: RawObject[];
  readonly ads: RawObject[];
  /** Pools of protocol bgp: MetalLB announced them only by BGP. */
  readonly bgpPools: string[];
}

const TOP_LEVEL = new Set(['address-pools', 'peers', 'bgp-communities', 'bfd-profiles', 'peer-autodiscovery']);
const POOL_KEYS = new Set(['name', 'protocol', 'addresses', 'cidr', 'avoid-buggy-ips', 'avoidBuggyIPs', 'auto-assign', 'autoAssign', 'bgp-advertisements', 'bgpAdvertisements']);

export function legacyConfigToObjects(config: Record<string, unknown>, source: string, note: Note): LegacyObjects {
  const out: LegacyObjects = { pools: [], ads: [], bgpPools: [] };
  for (const key of Object.keys(config)) if (!TOP_LEVEL.has(key)) note('dropped', source, `${key}: not a MetalLB configuration key`);
  const count = (key: string): number => (Array.isArray(config[key]) ? config[key].length : config[key] && typeof config[key] === 'object' ? Object.keys(config[key]).length : 0);
  if (count('peers') > 0) note('dropped', source, `peers: ${count('peers')} BGP peer${count('peers') === 1 ? '' : 's'}; Ballast announces in layer 2 (ARP/NDP) only`);
  if (count('bgp-communities') > 0) note('dropped', source, `bgp-communities: ${count('bgp-communities')} BGP communit${count('bgp-communities') === 1 ? 'y' : 'ies'}; Ballast has no BGP`);
  if (count('bfd-profiles') > 0) note('dropped', source, `bfd-profiles: ${count('bfd-profiles')} BFD profile${count('bfd-profiles') === 1 ? '' : 's'}; BFD serves BGP sessions, which Ballast does not have`);
  if (config['peer-autodiscovery'] !== undefined) note('dropped', source, 'peer-autodiscovery: BGP peer discovery; Ballast has no BGP');

  const pools = Array.isArray(config['address-pools']) ? (config['address-pools'] as unknown[]) : [];
  pools.forEach((entry, i) => {
    const pool = entry && typeof entry === 'object' ? (entry as Record<string, unknown>) : {};
    const name = typeof pool.name === 'string' && pool.name !== '' ? pool.name : `pool-${i + 1}`;
    const where = `${source} address-pools[${i}] "${name}"`;
    if (pool.name !== name) note('note', where, `has no name; named ${name}`);
    for (const key of Object.keys(pool)) if (!POOL_KEYS.has(key)) note('dropped', where, `${key}: not a MetalLB pool field`);

    // "arp" is the protocol's name before MetalLB 0.7.
    const protocol = pool.protocol === 'arp' ? 'layer2' : pool.protocol;
    const advertisements = pool['bgp-advertisements'] ?? pool.bgpAdvertisements;
    if (Array.isArray(advertisements) && advertisements.length > 0) {
      note('dropped', where, `bgp-advertisements: ${advertisements.length} BGP advertisement setting${advertisements.length === 1 ? '' : 's'} (aggregation, local preference, communities); Ballast has no BGP`);
    }
    const addresses = pool.addresses ?? pool.cidr; // "cidr" before MetalLB 0.3
    const spec: Record<string, unknown> = { addresses: Array.isArray(addresses) ? addresses : [] };
    const autoAssign = pool['auto-assign'] ?? pool.autoAssign;
    const avoidBuggyIPs = pool['avoid-buggy-ips'] ?? pool.avoidBuggyIPs;
    if (autoAssign !== undefined) spec.autoAssign = autoAssign;
    if (avoidBuggyIPs !== undefined) spec.avoidBuggyIPs = avoidBuggyIPs;
    const metadata = { name };
    out.pools.push({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata, spec });

    if (protocol === 'layer2') out.ads.push({ apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata, spec: { ipAddressPools: [name] } });
    else if (protocol === 'bgp') out.bgpPools.push(name);
    else note('dropped', where, `protocol ${JSON.stringify(pool.protocol)} is neither layer2 nor bgp; the pool is converted without an L2Advertisement`);
  });
  return out;
}
