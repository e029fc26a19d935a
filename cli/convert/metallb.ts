// MetalLB configuration → Ballast YAML. Input: metallb.io/v1beta1 and v1beta2
// objects (also inside List documents, as `kubectl get -o yaml` writes them)
// and the legacy ConfigMap `config` (MetalLB ≤ 0.12). Everything Ballast cannot
// express (BGP, BFD, communities, preferred nodes, …) is reported, never
// dropped silently. Pure: text in, text and notes out.
import { dump, loadAll } from 'js-yaml';
import { API_VERSION, type IPAddressPool, type L2Advertisement } from '../../shared/api/index.ts';
import { advertisesPool, formatConfigError, parseL2Advertisement, parsePool } from '../../shared/config/index.ts';
import { compileSelector, type LabelSelector } from '../../shared/labels/index.ts';
import { familyBits, formatIP, parseIP } from '../../shared/net/index.ts';
import { legacyConfigToObjects } from './legacy-config.ts';

export type NoteSeverity =
  /** MetalLB configuration Ballast cannot express: left out of the output. */
  | 'dropped'
  /** Converted, but the API server or webhook will refuse it as written. */
  | 'invalid'
  /** Not MetalLB configuration (a Deployment, a Namespace …): not converted, nothing lost. */
  | 'skipped'
  /** Converted, with something the user should know. */
  | 'note';

export interface ConversionNote {
  readonly severity: NoteSeverity;
  /** What the note is about: "IPAddressPool metallb-system/default", "ConfigMap config address-pools[1]". */
  readonly source: string;
  readonly message: string;
}

export interface ConversionResult {
  readonly objects: ReadonlyArray<IPAddressPool | L2Advertisement>;
  readonly yaml: string;
  readonly notes: readonly ConversionNote[];
  readonly converted: number;
}

/** A MetalLB object as read: loosely typed, checked field by field here. */
export interface RawObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; labels?: unknown; annotations?: unknown } & Record<string, unknown>;
  spec?: unknown;
  data?: unknown;
  items?: unknown;
}

const BGP_KINDS = new Set(['BGPAdvertisement', 'BGPPeer', 'BFDProfile', 'Community']);
const STATUS_KINDS = new Set(['ServiceL2Status', 'ServiceBGPStatus', 'ConfigurationState']);
const POOL_FIELDS = new Set(['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation']);
const ALLOCATION_FIELDS = new Set(['priority', 'namespaces', 'namespaceSelectors', 'serviceSelectors']);
const L2_FIELDS = new Set(['ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'interfaces', 'serviceSelectors']);
const METALLB_ANNOTATION_PREFIXES = ['metallb.io/', 'metallb.universe.tf/'];

export function convertMetalLB(input: string, opts: { namespace: string }): ConversionResult {
  const notes: ConversionNote[] = [];
  const note = (severity: NoteSeverity, source: string, message: string): void => void notes.push({ severity, source, message });

  let docs: unknown[];
  try {
    docs = loadAll(input);
  } catch (e) {
    throw new Error(`input is not YAML: ${(e as Error).message}`);
  }
  const pools: IPAddressPool[] = [];
  const ads: L2Advertisement[] = [];
  const bgpAds: Array<{ source: string; spec: Record<string, unknown> }> = [];

  for (const obj of expandLists(docs)) {
    const kind = typeof obj.kind === 'string' ? obj.kind : '?';
    const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '?';
    const name = typeof obj.metadata?.name === 'string' ? obj.metadata.name : '?';
    const ns = typeof obj.metadata?.namespace === 'string' ? `${obj.metadata.namespace}/` : '';
    const source = `${kind} ${ns}${name}`;

    if (apiVersion.startsWith('metallb.io/')) {
      if (kind === 'IPAddressPool') pools.push(convertPool(obj, name, opts.namespace, source, note));
      else if (kind === 'L2Advertisement') ads.push(convertL2Advertisement(obj, name, opts.namespace, source, note));
      else if (kind === 'AddressPool') {
        // The deprecated v1beta1 AddressPool (removed in MetalLB 0.14): a pool with a protocol, like the legacy ConfigMap.
        const legacy = legacyConfigToObjects({ 'address-pools': [{ ...asRecord(obj.spec), name }] }, source, note);
        pools.push(...legacy.pools.map((p) => convertPool(p, p.metadata!.name as string, opts.namespace, source, note)));
        ads.push(...legacy.ads.map((a) => convertL2Advertisement(a, a.metadata!.name as string, opts.namespace, source, note)));
        bgpAds.push(...legacy.bgpPools.map((pool) => ({ source, spec: { ipAddressPools: [pool] } })));
      } else if (BGP_KINDS.has(kind)) {
        if (kind === 'BGPAdvertisement') bgpAds.push({ source, spec: asRecord(obj.spec) });
        note('dropped', source, `${kind} is BGP configuration; Ballast announces in layer 2 (ARP/NDP) only`);
      } else if (STATUS_KINDS.has(kind)) note('skipped', source, `${kind} is status MetalLB writes; Ballast's speakers write their own ServiceL2Status`);
      else note('dropped', source, `unknown MetalLB kind ${kind} (${apiVersion})`);
      continue;
    }
    if (apiVersion === 'v1' && kind === 'ConfigMap') {
      convertConfigMap(obj, name, source, opts.namespace, pools, ads, bgpAds, note);
      continue;
    }
    if (apiVersion === 'v1' && kind === 'Service') {
      const annotations = Object.keys(asRecord(obj.metadata?.annotations)).filter((k) => METALLB_ANNOTATION_PREFIXES.some((p) => k.startsWith(p)));
      const renames = annotations.map((k) => `${k} → ballast.io/${k.slice(k.indexOf('/') + 1)}`);
      note('skipped', source, renames.length ? `Services are not converted; Ballast honours ${annotations.join(', ')} with a Warning event; rename: ${renames.join(', ')}` : 'Services are not converted');
      continue;
    }
    note('skipped', source, 'not MetalLB configuration');
  }

  checkAnnouncements(pools, ads, bgpAds, note);
  for (const pool of pools) {
    const parsed = parsePool({ ...pool, metadata: { ...pool.metadata, creationTimestamp: new Date(0).toISOString() } });
    if (!parsed.ok) for (const e of parsed.error) note('invalid', `IPAddressPool ${pool.metadata.name}`, formatConfigError(e));
  }
  for (const ad of ads) {
    const parsed = parseL2Advertisement(ad);
    if (!parsed.ok) for (const e of parsed.error) note('invalid', `L2Advertisement ${ad.metadata.name}`, formatConfigError(e));
  }

  const objects = [...pools, ...ads];
  const header = '# Converted from MetalLB by "ballast convert-metallb"; review, then kubectl apply -f.\n';
  const yaml = objects.length === 0 ? header : header + objects.map((o) => `---\n${dump(o, { noRefs: true, lineWidth: -1 })}`).join('');
  return { objects, yaml, notes, converted: objects.length };
}

type Note = (severity: NoteSeverity, source: string, message: string) => void;

/** List documents (kind List or FooList) become their items; items of typed lists get their kind back. */
function expandLists(docs: readonly unknown[]): RawObject[] {
  const out: RawObject[] = [];
  for (const doc of docs) {
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) continue;
    const obj = doc as RawObject;
    if (Array.isArray(obj.items) && typeof obj.kind === 'string' && obj.kind.endsWith('List')) {
      const itemKind = obj.kind === 'List' ? undefined : obj.kind.slice(0, -'List'.length);
      out.push(...expandLists(obj.items.map((item: unknown) => (item && typeof item === 'object' ? { apiVersion: obj.apiVersion, kind: itemKind, ...(item as object) } : item))));
    } else out.push(obj);
  }
  return out;
}

function convertPool(obj: RawObject, name: string, namespace: string, source: string, note: Note): IPAddressPool {
  const spec = asRecord(obj.spec);
  dropUnknown(spec, POOL_FIELDS, source, 'spec', note);
  const out: IPAddressPool['spec'] = { addresses: [] };
  const addresses = Array.isArray(spec.addresses) ? spec.addresses : [];
  out.addresses = addresses.map((a: unknown) => (typeof a === 'string' ? canonicalAddress(a, source, note) : String(a)));
  if (spec.autoAssign !== undefined) out.autoAssign = spec.autoAssign as boolean;
  if (spec.avoidBuggyIPs !== undefined) out.avoidBuggyIPs = spec.avoidBuggyIPs as boolean;
  if (spec.serviceAllocation !== undefined) {
    const allocation = asRecord(spec.serviceAllocation);
    dropUnknown(allocation, ALLOCATION_FIELDS, source, 'spec.serviceAllocation', note);
    out.serviceAllocation = pick(allocation, ALLOCATION_FIELDS);
  }
  return { apiVersion: API_VERSION, kind: 'IPAddressPool', metadata: metadata(obj, name, namespace, source, note), spec: out };
}

function convertL2Advertisement(obj: RawObject, name: string, namespace: string, source: string, note: Note): L2Advertisement {
  const spec = asRecord(obj.spec);
  if (spec.preferredNodeSelectors !== undefined) {
    note('dropped', source, 'spec.preferredNodeSelectors: Ballast elects the announcing node by hashing among all eligible nodes; it has no preference weights');
  }
  dropUnknown(spec, new Set([...L2_FIELDS, 'preferredNodeSelectors']), source, 'spec', note);
  return { apiVersion: API_VERSION, kind: 'L2Advertisement', metadata: metadata(obj, name, namespace, source, note), spec: pick(spec, L2_FIELDS) };
}

function convertConfigMap(
  obj: RawObject,
  name: string,
  source: string,
  namespace: string,
  pools: IPAddressPool[],
  ads: L2Advertisement[],
  bgpAds: Array<{ source: string; spec: Record<string, unknown> }>,
  note: Note,
): void {
  const data = asRecord(obj.data);
  if (typeof data.config === 'string') {
    let config: unknown;
    try {
      config = loadAll(data.config)[0];
    } catch (e) {
      note('dropped', source, `data.config is not YAML: ${(e as Error).message}`);
      return;
    }
    const legacy = legacyConfigToObjects(asRecord(config), `${source} data.config`, note);
    for (const p of legacy.pools) pools.push(convertPool(p, p.metadata!.name as string, namespace, `${source} pool ${String(p.metadata!.name)}`, note));
    for (const a of legacy.ads) ads.push(convertL2Advertisement(a, a.metadata!.name as string, namespace, `${source} pool ${String(a.metadata!.name)}`, note));
    bgpAds.push(...legacy.bgpPools.map((pool) => ({ source: `${source} pool ${pool}`, spec: { ipAddressPools: [pool] } })));
    return;
  }
  if (name === 'metallb-excludel2' || typeof data['excludel2.yaml'] === 'string') {
    const text = typeof data['excludel2.yaml'] === 'string' ? data['excludel2.yaml'] : '';
    const patterns = asRecord(safeLoad(text)).announcedInterfacesToExclude;
    const list = Array.isArray(patterns) ? patterns.map(String) : [];
    note('dropped', source, `interface exclusions are a speaker flag in Ballast: --interfaces-exclude ${list.length ? `'${list.join(',')}'` : '<regexes>'} (its defaults already skip docker, veth, cali, flannel, lo, …)`);
    return;
  }
  if (name === 'metallb-memberlist-config' || name.includes('memberlist')) {
    note('dropped', source, 'memberlist settings: Ballast speakers detect each other with their own heartbeat (--heartbeat-interval)');
    return;
  }
  note('skipped', source, 'ConfigMap without a MetalLB "config" key');
}

/**
 * MetalLB masks a CIDR's host bits silently (Go's net.ParseCIDR); Ballast
 * refuses them, so write the network MetalLB actually used and say so. A CIDR
 * that only looks different (leading zeros, upper case, an uncompressed IPv6
 * address) is the same network, written the canonical way.
 */
function canonicalAddress(text: string, source: string, note: Note): string {
  const trimmed = text.trim();
  const [base, prefixText, extra] = trimmed.split('/');
  if (prefixText === undefined || extra !== undefined || !/^\d{1,3}$/.test(prefixText)) return trimmed.replace(/\s*-\s*/, '-');
  const ip = parseIP(base ?? '');
  const prefix = Number(prefixText);
  if (!ip.ok || prefix > familyBits(ip.value.family)) return trimmed;
  const hostMask = (1n << BigInt(familyBits(ip.value.family) - prefix)) - 1n;
  const networkValue = ip.value.value & ~hostMask;
  const network = `${formatIP(ip.value.family, networkValue)}/${prefix}`;
  if (networkValue !== ip.value.value) note('note', source, `"${trimmed}" written as ${network}: MetalLB ignores host bits, Ballast requires the network address`);
  else if (network !== trimmed) note('note', source, `"${trimmed}" normalised to ${network} (the same network)`);
  return network;
}

/** Pools MetalLB announced only through BGP are left out: their addresses are not on the nodes' LAN. */
function checkAnnouncements(pools: IPAddressPool[], ads: readonly L2Advertisement[], bgpAds: ReadonlyArray<{ source: string; spec: Record<string, unknown> }>, note: Note): void {
  const l2 = ads.flatMap((a) => {
    const r = parseL2Advertisement(a);
    return r.ok ? [r.value] : [];
  });
  const keep: IPAddressPool[] = [];
  for (const pool of pools) {
    const ref = { name: pool.metadata.name ?? '', labels: pool.metadata.labels ?? {} };
    const source = `IPAddressPool ${ref.name}`;
    const byBgp = bgpAds.filter((b) => bgpCovers(b.spec, ref)).map((b) => b.source);
    if (l2.some((ad) => advertisesPool(ad, ref))) keep.push(pool);
    else if (byBgp.length > 0) {
      note('dropped', source, `announced only by BGP in MetalLB (${byBgp.join(', ')}); not converted. If its addresses are on the nodes' LAN, convert it with an L2Advertisement instead`);
    } else {
      keep.push(pool);
      note('note', source, 'no L2Advertisement in the input selects it: Ballast assigns its addresses but no node announces them until one does');
    }
  }
  pools.splice(0, pools.length, ...keep);
}

function bgpCovers(spec: Record<string, unknown>, pool: { name: string; labels: Record<string, string> }): boolean {
  const names = Array.isArray(spec.ipAddressPools) ? spec.ipAddressPools : [];
  const selectors = Array.isArray(spec.ipAddressPoolSelectors) ? (spec.ipAddressPoolSelectors as LabelSelector[]) : [];
  if (names.length === 0 && selectors.length === 0) return true;
  return names.includes(pool.name) || selectors.some((s) => {
    const compiled = compileSelector(s);
    return compiled.ok && compiled.value.matches(pool.labels);
  });
}

/** Name, labels and annotations; the namespace becomes Ballast's; kubectl and Helm bookkeeping stays behind. */
function metadata(obj: RawObject, name: string, namespace: string, source: string, note: Note): IPAddressPool['metadata'] {
  const labels = stringMap(obj.metadata?.labels);
  const annotations = stringMap(obj.metadata?.annotations);
  const bookkeeping = Object.keys(annotations).filter((k) => k === 'kubectl.kubernetes.io/last-applied-configuration' || k.startsWith('meta.helm.sh/'));
  for (const k of bookkeeping) delete annotations[k];
  if (bookkeeping.length) note('note', source, `left out tool bookkeeping annotations: ${bookkeeping.join(', ')}`);
  return {
    name,
    namespace,
    ...(Object.keys(labels).length ? { labels } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  };
}

function dropUnknown(spec: Record<string, unknown>, known: ReadonlySet<string>, source: string, path: string, note: Note): void {
  for (const key of Object.keys(spec)) if (!known.has(key)) note('dropped', source, `${path}.${key}: Ballast has no such field`);
}

function pick<T>(record: Record<string, unknown>, keys: ReadonlySet<string>): T {
  return Object.fromEntries(Object.entries(record).filter(([k]) => keys.has(k))) as T;
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function stringMap(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(asRecord(value)).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function safeLoad(text: string): unknown {
  try {
    return loadAll(text)[0];
  } catch {
    return undefined;
  }
}
