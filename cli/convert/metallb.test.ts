import { describe, expect, it } from 'vitest';
import { loadAll } from 'js-yaml';
import { parseL2Advertisement, parsePool } from '../../shared/config/index.ts';
import { convertMetalLB, type ConversionNote } from './metallb.ts';

const convert = (yaml: string, namespace = 'ballast-system') => convertMetalLB(yaml, { namespace });
const notesOf = (notes: readonly ConversionNote[], severity: ConversionNote['severity']): string[] => notes.filter((n) => n.severity === severity).map((n) => `${n.source}: ${n.message}`);

// What `kubectl get ipaddresspools,l2advertisements -n metallb-system -o yaml` prints for a typical layer-2 install.
const KUBECTL_LIST = `
apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
- apiVersion: metallb.io/v1beta1
  kind: IPAddressPool
  metadata:
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: |
        {"apiVersion":"metallb.io/v1beta1","kind":"IPAddressPool"}
    creationTimestamp: "2024-03-01T10:00:00Z"
    generation: 1
    name: first-pool
    namespace: metallb-system
    resourceVersion: "1234"
    uid: 0b6c1c6e-0000-4000-8000-000000000001
  spec:
    addresses:
    - 203.0.113.10-203.0.113.50
    - 2001:db8:100::/124
    autoAssign: true
    avoidBuggyIPs: false
  status:
    assignedIPv4: 3
    assignedIPv6: 0
    availableIPv4: 38
    availableIPv6: 16
- apiVersion: metallb.io/v1beta1
  kind: L2Advertisement
  metadata:
    name: example
    namespace: metallb-system
  spec:
    ipAddressPools:
    - first-pool
`;

describe('convertMetalLB: metallb.io objects', () => {
  it('converts a kubectl List of pools and advertisements, changing only apiVersion and namespace', () => {
    const r = convert(KUBECTL_LIST);
    expect(r.converted).toBe(2);
    expect(r.objects).toEqual([
      {
        apiVersion: 'ballast.io/v1beta1',
        kind: 'IPAddressPool',
        metadata: { name: 'first-pool', namespace: 'ballast-system' },
        spec: { addresses: ['203.0.113.10-203.0.113.50', '2001:db8:100::/124'], autoAssign: true, avoidBuggyIPs: false },
      },
      { apiVersion: 'ballast.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'example', namespace: 'ballast-system' }, spec: { ipAddressPools: ['first-pool'] } },
    ]);
    expect(notesOf(r.notes, 'dropped')).toEqual([]);
    expect(notesOf(r.notes, 'invalid')).toEqual([]);
    // Server-set fields and status never travel; tool bookkeeping is mentioned.
    expect(notesOf(r.notes, 'note')).toEqual(['IPAddressPool metallb-system/first-pool: left out tool bookkeeping annotations: kubectl.kubernetes.io/last-applied-configuration']);
  });

  it('writes YAML that reads back to the same objects, every one of which Ballast parses', () => {
    const r = convert(KUBECTL_LIST, 'lb');
    expect(r.yaml.startsWith('# Converted from MetalLB')).toBe(true);
    const back = loadAll(r.yaml).filter(Boolean);
    expect(back).toEqual(r.objects);
    const [pool, ad] = back as [never, never];
    expect(parsePool({ ...(pool as object), metadata: { ...(pool as { metadata: object }).metadata, creationTimestamp: '2024-01-01T00:00:00Z' } } as never).ok).toBe(true);
    expect(parseL2Advertisement(ad).ok).toBe(true);
    expect((pool as { metadata: { namespace: string } }).metadata.namespace).toBe('lb');
  });

  it('keeps labels and annotations that select or describe, and serviceAllocation whole', () => {
    const r = convert(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: shop
  namespace: metallb-system
  labels: {tier: front}
  annotations: {owner: team-shop, meta.helm.sh/release-name: metallb-config}
spec:
  addresses: [198.51.100.64/26]
  autoAssign: false
  serviceAllocation:
    priority: 10
    namespaces: [shop]
    namespaceSelectors: [{matchLabels: {team: shop}}]
    serviceSelectors: [{matchExpressions: [{key: app, operator: In, values: [web]}]}]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: front, namespace: metallb-system}
spec:
  ipAddressPoolSelectors: [{matchLabels: {tier: front}}]
  nodeSelectors: [{matchLabels: {kubernetes.io/os: linux}}]
  interfaces: [eth0, bond0]
  serviceSelectors: [{matchLabels: {exposed: "true"}}]
`);
    expect(r.objects[0]).toEqual({
      apiVersion: 'ballast.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'shop', namespace: 'ballast-system', labels: { tier: 'front' }, annotations: { owner: 'team-shop' } },
      spec: {
        addresses: ['198.51.100.64/26'],
        autoAssign: false,
        serviceAllocation: {
          priority: 10,
          namespaces: ['shop'],
          namespaceSelectors: [{ matchLabels: { team: 'shop' } }],
          serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }],
        },
      },
    });
    expect(r.objects[1]!.spec).toEqual({
      ipAddressPoolSelectors: [{ matchLabels: { tier: 'front' } }],
      nodeSelectors: [{ matchLabels: { 'kubernetes.io/os': 'linux' } }],
      interfaces: ['eth0', 'bond0'],
      serviceSelectors: [{ matchLabels: { exposed: 'true' } }],
    });
    expect(notesOf(r.notes, 'note')).toEqual(['IPAddressPool metallb-system/shop: left out tool bookkeeping annotations: meta.helm.sh/release-name']);
  });

  it('reports every BGP object, BFD profile and community as not converted, and drops pools only BGP announced', () => {
    const r = convert(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lan, namespace: metallb-system}
spec: {addresses: [198.51.100.0/27]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: routed, namespace: metallb-system, labels: {bgp: "yes"}}
spec: {addresses: [203.0.113.0/24]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: lan, namespace: metallb-system}
spec: {ipAddressPools: [lan]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: routed, namespace: metallb-system}
spec:
  ipAddressPoolSelectors: [{matchLabels: {bgp: "yes"}}]
  aggregationLength: 32
  communities: [no-advertise]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 198.51.100.1, bfdProfile: fast}
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: 300, transmitInterval: 300}
---
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: communities, namespace: metallb-system}
spec:
  communities: [{name: no-advertise, value: "65535:65282"}]
`);
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['IPAddressPool/lan', 'L2Advertisement/lan']);
    expect(notesOf(r.notes, 'dropped')).toEqual([
      'BGPAdvertisement metallb-system/routed: BGPAdvertisement is BGP configuration; Ballast announces in layer 2 (ARP/NDP) only',
      'BGPPeer metallb-system/tor: BGPPeer is BGP configuration; Ballast announces in layer 2 (ARP/NDP) only',
      'BFDProfile metallb-system/fast: BFDProfile is BGP configuration; Ballast announces in layer 2 (ARP/NDP) only',
      'Community metallb-system/communities: Community is BGP configuration; Ballast announces in layer 2 (ARP/NDP) only',
      "IPAddressPool routed: announced only by BGP in MetalLB (BGPAdvertisement metallb-system/routed); not converted. If its addresses are on the nodes' LAN, convert it with an L2Advertisement instead",
    ]);
  });

  it('reports preferredNodeSelectors and unknown fields as not converted', () => {
    const r = convert(`
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: pref, namespace: metallb-system}
spec:
  preferredNodeSelectors: [{weight: 50, preference: {matchLabels: {zone: a}}}]
  futureField: 1
`);
    expect(r.objects[0]!.spec).toEqual({});
    expect(notesOf(r.notes, 'dropped')).toEqual([
      'L2Advertisement metallb-system/pref: spec.preferredNodeSelectors: Ballast elects the announcing node by hashing among all eligible nodes; it has no preference weights',
      'L2Advertisement metallb-system/pref: spec.futureField: Ballast has no such field',
    ]);
  });

  it('writes the network of a CIDR with host bits set, as MetalLB used it, and says so', () => {
    const r = convert('apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\nspec: {addresses: ["198.51.100.77/28", "2001:db8:100::5/126", " 203.0.113.1 - 203.0.113.9 "]}\n');
    expect(r.objects[0]!.spec).toEqual({ addresses: ['198.51.100.64/28', '2001:db8:100::4/126', '203.0.113.1-203.0.113.9'] });
    expect(notesOf(r.notes, 'note')).toContain('IPAddressPool p: "198.51.100.77/28" written as 198.51.100.64/28: MetalLB ignores host bits, Ballast requires the network address');
  });

  it('writes a CIDR without host bits canonically and calls it normalised, not a CIDR with host bits', () => {
    const r = convert('apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\nspec: {addresses: ["fc00:f853:0ccd:e799::/124", "2001:DB8:0:0::/64", "203.0.113.0/24"]}\n');
    expect(r.objects[0]!.spec).toEqual({ addresses: ['fc00:f853:ccd:e799::/124', '2001:db8::/64', '203.0.113.0/24'] });
    expect(notesOf(r.notes, 'note').filter((n) => n.includes('"'))).toEqual([
      'IPAddressPool p: "fc00:f853:0ccd:e799::/124" normalised to fc00:f853:ccd:e799::/124 (the same network)',
      'IPAddressPool p: "2001:DB8:0:0::/64" normalised to 2001:db8::/64 (the same network)',
    ]);
  });

  it('flags a converted pool Ballast will refuse', () => {
    const r = convert('apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\nspec: {addresses: ["203.0.113.9-203.0.113.1"]}\n---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: a}\n');
    expect(notesOf(r.notes, 'invalid')).toEqual(['IPAddressPool p: IPAddressPool ballast-system/p spec.addresses[0]: "203.0.113.9-203.0.113.1" is reversed: start 203.0.113.9 is after end 203.0.113.1']);
  });

  it('notes a pool that no advertisement in the input announces, and converts it', () => {
    const r = convert('apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: quiet}\nspec: {addresses: [203.0.113.0/28]}\n');
    expect(r.converted).toBe(1);
    expect(notesOf(r.notes, 'note')).toEqual(['IPAddressPool quiet: no L2Advertisement in the input selects it: Ballast assigns its addresses but no node announces them until one does']);
  });

  it('skips status objects and what is not MetalLB configuration, saying so', () => {
    const r = convert(`
apiVersion: metallb.io/v1beta1
kind: ServiceL2Status
metadata: {name: l2-abcde, namespace: metallb-system}
status: {node: worker-1, serviceName: web, serviceNamespace: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller, namespace: metallb-system}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations: {metallb.universe.tf/address-pool: first-pool, metallb.io/loadBalancerIPs: 203.0.113.20}
spec: {type: LoadBalancer}
`);
    expect(r.converted).toBe(0);
    expect(notesOf(r.notes, 'skipped')).toEqual([
      "ServiceL2Status metallb-system/l2-abcde: ServiceL2Status is status MetalLB writes; Ballast's speakers write their own ServiceL2Status",
      'Deployment metallb-system/controller: not MetalLB configuration',
      'Service shop/web: Services are not converted; Ballast honours metallb.universe.tf/address-pool, metallb.io/loadBalancerIPs with a Warning event; rename: metallb.universe.tf/address-pool → ballast.io/address-pool, metallb.io/loadBalancerIPs → ballast.io/loadBalancerIPs',
    ]);
  });

  it('refuses input that is not YAML', () => {
    expect(() => convert('a: [unclosed')).toThrow(/input is not YAML/);
  });
});

describe('convertMetalLB: legacy ConfigMap (MetalLB ≤ 0.12)', () => {
  const CONFIGMAP = `
apiVersion: v1
kind: ConfigMap
metadata:
  namespace: metallb-system
  name: config
data:
  config: |
    peers:
    - peer-address: 198.51.100.1
      peer-asn: 64501
      my-asn: 64500
    bgp-communities:
      no-advertise: 65535:65282
    address-pools:
    - name: default
      protocol: layer2
      addresses:
      - 198.51.100.240-198.51.100.250
      - 2001:db8:100::/120
    - name: legacy-arp
      protocol: arp
      auto-assign: false
      avoid-buggy-ips: true
      addresses:
      - 203.0.113.0/28
    - name: routed
      protocol: bgp
      addresses:
      - 203.0.113.128/25
      bgp-advertisements:
      - aggregation-length: 32
        localpref: 100
        communities: [no-advertise]
`;

  it('turns each layer2 pool into an IPAddressPool and an L2Advertisement naming it', () => {
    const r = convert(CONFIGMAP);
    expect(r.objects).toEqual([
      { apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'default', namespace: 'ballast-system' }, spec: { addresses: ['198.51.100.240-198.51.100.250', '2001:db8:100::/120'] } },
      { apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'legacy-arp', namespace: 'ballast-system' }, spec: { addresses: ['203.0.113.0/28'], autoAssign: false, avoidBuggyIPs: true } },
      { apiVersion: 'ballast.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'default', namespace: 'ballast-system' }, spec: { ipAddressPools: ['default'] } },
      { apiVersion: 'ballast.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'legacy-arp', namespace: 'ballast-system' }, spec: { ipAddressPools: ['legacy-arp'] } },
    ]);
  });

  it('reports peers, communities, BGP advertisements and the BGP pool as not converted', () => {
    const dropped = notesOf(convert(CONFIGMAP).notes, 'dropped');
    expect(dropped).toEqual([
      'ConfigMap metallb-system/config data.config: peers: 1 BGP peer; Ballast announces in layer 2 (ARP/NDP) only',
      'ConfigMap metallb-system/config data.config: bgp-communities: 1 BGP community; Ballast has no BGP',
      'ConfigMap metallb-system/config data.config address-pools[2] "routed": bgp-advertisements: 1 BGP advertisement setting (aggregation, local preference, communities); Ballast has no BGP',
      "IPAddressPool routed: announced only by BGP in MetalLB (ConfigMap metallb-system/config pool routed); not converted. If its addresses are on the nodes' LAN, convert it with an L2Advertisement instead",
    ]);
  });

  it('explains the interface exclusion ConfigMap as a speaker flag', () => {
    const r = convert(`
apiVersion: v1
kind: ConfigMap
metadata: {name: metallb-excludel2, namespace: metallb-system}
data:
  excludel2.yaml: |
    announcedInterfacesToExclude: ["^docker.*", "^cali.*", "^storage0$"]
`);
    expect(notesOf(r.notes, 'dropped')).toEqual([
      "ConfigMap metallb-system/metallb-excludel2: interface exclusions are a speaker flag in Ballast: --interfaces-exclude '^docker.*,^cali.*,^storage0$' (its defaults already skip docker, veth, cali, flannel, lo, …)",
    ]);
  });

  it('converts the deprecated AddressPool CRD like a legacy pool', () => {
    const r = convert('apiVersion: metallb.io/v1beta1\nkind: AddressPool\nmetadata: {name: old, namespace: metallb-system}\nspec: {protocol: layer2, addresses: [198.51.100.32/28], autoAssign: false}\n');
    expect(r.objects.map((o) => [o.kind, o.metadata.name, o.spec])).toEqual([
      ['IPAddressPool', 'old', { addresses: ['198.51.100.32/28'], autoAssign: false }],
      ['L2Advertisement', 'old', { ipAddressPools: ['old'] }],
    ]);
    expect(notesOf(r.notes, 'dropped')).toEqual([]);
  });
});
