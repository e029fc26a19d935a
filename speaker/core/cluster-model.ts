// What the speaker knows about the cluster: the API objects election depends
// on, each kept twice — trimmed to the fields that matter (compared to skip
// no-op updates, and persisted so a speaker restarted without the API server
// can rebuild this view) and parsed once (what election reads). Pure: objects
// in, election inputs out.
import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { IPAddressPool, L2Advertisement } from '../../shared/api/index.ts';
import {
  isLoadBalancer,
  nodesWithReadyEndpoints,
  parseAnnouncedService,
  parseL2Advertisement,
  parseNode,
  parsePool,
  poolContains,
  resolvePoolConflicts,
  serviceKey,
  type AnnouncedService,
  type ConfigError,
  type L2AdvertisementConfig,
  type NodeInfo,
  type Pool,
  type PoolRef,
} from '../../shared/config/index.ts';
import type { Labels } from '../../shared/labels/index.ts';
import type { IPAddress } from '../../shared/net/index.ts';
import type { ElectionInput } from '../election/index.ts';

/** The trimmed objects, per kind: what a state file holds. */
export interface ModelSnapshot {
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly nodes: readonly V1Node[];
  readonly advertisements: readonly L2Advertisement[];
  readonly pools: readonly IPAddressPool[];
  readonly speakerPods: readonly V1Pod[];
}

export type ModelKind = keyof ModelSnapshot;
export const MODEL_KINDS: readonly ModelKind[] = ['services', 'endpointSlices', 'nodes', 'advertisements', 'pools', 'speakerPods'];

/** A speaker pod as liveness sees it. */
export interface SpeakerPod {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string | undefined;
  readonly node: string | undefined;
  readonly ready: boolean;
}

interface PoolEntry {
  readonly pool: Pool;
  readonly labels: Labels;
}

interface SliceEntry {
  readonly service: string;
  readonly nodes: ReadonlySet<string>;
}

/** What a set/delete did: whether election inputs changed, and what could not be parsed. */
export interface ModelUpdate {
  readonly changed: boolean;
  readonly errors: readonly ConfigError[];
  /** The edit did not parse; the last valid version stays in use. */
  readonly keptLastValid?: boolean;
}

const UNCHANGED: ModelUpdate = { changed: false, errors: [] };

interface Entry<P> {
  readonly json: string;
  readonly raw: unknown;
  /** undefined: kept (for the snapshot) but not an election input, e.g. a Service of another class or one that did not parse. */
  readonly parsed: P | undefined;
  /** The last edit refused while this (valid) version stays in use. */
  rejectedJson?: string;
}

class Section<P> {
  readonly entries = new Map<string, Entry<P>>();
  readonly #trim: (raw: never) => unknown;
  readonly #parse: (trimmed: never) => { parsed: P | undefined; errors: readonly ConfigError[] };
  readonly #keepLastValid: boolean;

  /**
   * `keepLastValid`: an edit that does not parse leaves the last valid version
   * in place (and is reported), as the controller keeps a pool's last valid
   * spec: the IPs it handed out from that spec must stay announced.
   */
  constructor(trim: (raw: never) => unknown, parse: (trimmed: never) => { parsed: P | undefined; errors: readonly ConfigError[] }, keepLastValid = false) {
    this.#trim = trim;
    this.#parse = parse;
    this.#keepLastValid = keepLastValid;
  }

  set(key: string, raw: unknown): ModelUpdate {
    const trimmed = this.#trim(raw as never);
    const json = JSON.stringify(trimmed);
    const existing = this.entries.get(key);
    if (existing?.json === json) return UNCHANGED;
    const { parsed, errors } = this.#parse(trimmed as never);
    if (parsed === undefined && this.#keepLastValid && existing?.parsed !== undefined) {
      if (existing.rejectedJson === json) return UNCHANGED;
      existing.rejectedJson = json;
      return { changed: false, errors, keptLastValid: true };
    }
    this.entries.set(key, { json, raw: trimmed, parsed });
    return { changed: true, errors };
  }

  delete(key: string): ModelUpdate {
    return this.entries.delete(key) ? { changed: true, errors: [] } : UNCHANGED;
  }

  *parsedValues(): IterableIterator<P> {
    for (const entry of this.entries.values()) if (entry.parsed !== undefined) yield entry.parsed;
  }
}

export interface ClusterModelOptions {
  /** The --load-balancer-class flag: Services of other classes are not ours to announce. */
  readonly loadBalancerClass?: string | undefined;
}

export class ClusterModel {
  readonly #services: Section<AnnouncedService>;
  readonly #slices = new Section<SliceEntry>(trimEndpointSlice, (s: V1EndpointSlice) => ({ parsed: parseSlice(s), errors: [] }));
  readonly #nodes = new Section<NodeInfo>(trimNode, (n: V1Node) => fromResult(parseNode(n)));
  readonly #ads = new Section<L2AdvertisementConfig>(trimAdvertisement, (a: L2Advertisement) => fromResult(parseL2Advertisement(a)));
  readonly #pools = new Section<PoolEntry>(
    trimPool,
    (p: IPAddressPool) => {
      const parsed = parsePool(p);
      return parsed.ok ? { parsed: { pool: parsed.value, labels: { ...p.metadata.labels } }, errors: [] } : { parsed: undefined, errors: parsed.error };
    },
    true,
  );
  readonly #pods = new Section<SpeakerPod>(trimPod, (p: V1Pod) => ({ parsed: parsePod(p), errors: [] }));
  /** Derived, rebuilt only when slices or pools changed. */
  #readyByService: Map<string, ReadonlySet<string>> | undefined;
  #poolLookup: PoolLookup | undefined;

  constructor(opts: ClusterModelOptions = {}) {
    const cls = opts.loadBalancerClass;
    this.#services = new Section<AnnouncedService>(trimService, (s: V1Service) => {
      if (!isLoadBalancer(s, cls)) return { parsed: undefined, errors: [] };
      return fromResult(parseAnnouncedService(s));
    });
  }

  set(kind: ModelKind, raw: unknown): ModelUpdate {
    const key = modelKey(kind, raw);
    if (key === undefined) return UNCHANGED;
    return this.#touched(kind, this.#section(kind).set(key, raw));
  }

  delete(kind: ModelKind, raw: unknown): ModelUpdate {
    const key = modelKey(kind, raw);
    if (key === undefined) return UNCHANGED;
    return this.#touched(kind, this.#section(kind).delete(key));
  }

  /** Makes a kind hold exactly these objects (an informer's first complete list replacing what came from disk). */
  replace(kind: ModelKind, raws: Iterable<unknown>): ModelUpdate {
    const section = this.#section(kind);
    const keep = new Set<string>();
    let changed = false;
    const errors: ConfigError[] = [];
    for (const raw of raws) {
      const key = modelKey(kind, raw);
      if (key === undefined) continue;
      keep.add(key);
      const update = section.set(key, raw);
      changed ||= update.changed;
      errors.push(...update.errors);
    }
    for (const key of [...section.entries.keys()]) if (!keep.has(key)) changed = section.delete(key).changed || changed;
    return this.#touched(kind, { changed, errors });
  }

  /** Seeds every kind from a snapshot (a state file). */
  load(snapshot: ModelSnapshot): ConfigError[] {
    const errors: ConfigError[] = [];
    for (const kind of MODEL_KINDS) errors.push(...this.replace(kind, snapshot[kind]).errors);
    return errors;
  }

  snapshot(): ModelSnapshot {
    const raws = <T>(kind: ModelKind): T[] => [...this.#section(kind).entries.values()].map((e) => e.raw as T);
    return {
      services: raws('services'),
      endpointSlices: raws('endpointSlices'),
      nodes: raws('nodes'),
      advertisements: raws('advertisements'),
      pools: raws('pools'),
      speakerPods: raws('speakerPods'),
    };
  }

  /** Everything election needs, given who is alive. */
  electionInput(liveSpeakers: ReadonlySet<string>): ElectionInput {
    const lookup = (this.#poolLookup ??= new PoolLookup([...this.#pools.parsedValues()]));
    return {
      services: [...this.#services.parsedValues()],
      readyEndpointNodes: (this.#readyByService ??= readyByService(this.#slices.parsedValues())),
      nodes: [...this.#nodes.parsedValues()],
      liveSpeakers,
      advertisements: [...this.#ads.parsedValues()],
      poolOf: (ip) => lookup.poolOf(ip),
    };
  }

  /** Nodes whose speaker pod the API reports Ready: liveness for speakers never heard on the LAN. */
  readyInAPI(): string[] {
    const nodes = new Set<string>();
    for (const pod of this.#pods.parsedValues()) if (pod.ready && pod.node) nodes.add(pod.node);
    return [...nodes];
  }

  speakerPods(): SpeakerPod[] {
    return [...this.#pods.parsedValues()];
  }

  /** Every node's InternalIP and ExternalIP addresses, by node name. */
  nodeAddresses(): Map<string, string[]> {
    const byNode = new Map<string, string[]>();
    for (const [name, entry] of this.#nodes.entries) {
      const node = entry.raw as V1Node;
      byNode.set(name, (node.status?.addresses ?? []).map((a) => a.address));
    }
    return byNode;
  }

  /** Every node name the model knows. */
  nodeNames(): string[] {
    return [...this.#nodes.entries.keys()];
  }

  /** The advertisements as parsed, e.g. to find the interfaces they name. */
  advertisements(): L2AdvertisementConfig[] {
    return [...this.#ads.parsedValues()];
  }

  node(name: string): NodeInfo | undefined {
    return this.#nodes.entries.get(name)?.parsed;
  }

  hasNode(name: string): boolean {
    return this.#nodes.entries.has(name);
  }

  /** Keys of the Services this speaker serves (class and type match, parsed). */
  serviceKeys(): string[] {
    return [...this.#services.parsedValues()].map(serviceKey);
  }

  #touched(kind: ModelKind, update: ModelUpdate): ModelUpdate {
    if (update.changed) {
      if (kind === 'endpointSlices') this.#readyByService = undefined;
      if (kind === 'pools') this.#poolLookup = undefined;
    }
    return update;
  }

  #section(kind: ModelKind): Section<unknown> {
    switch (kind) {
      case 'services':
        return this.#services;
      case 'endpointSlices':
        return this.#slices;
      case 'nodes':
        return this.#nodes;
      case 'advertisements':
        return this.#ads;
      case 'pools':
        return this.#pools;
      case 'speakerPods':
        return this.#pods;
    }
  }
}

/** The cache key of an object of a kind: `namespace/name`, or the name for Nodes. */
export function modelKey(kind: ModelKind, raw: unknown): string | undefined {
  const meta = (raw as { metadata?: { name?: string; namespace?: string } } | null)?.metadata;
  if (!meta?.name) return undefined;
  if (kind === 'nodes') return meta.name;
  return meta.namespace ? `${meta.namespace}/${meta.name}` : undefined;
}

function fromResult<P>(r: { ok: true; value: P } | { ok: false; error: ConfigError | readonly ConfigError[] }): { parsed: P | undefined; errors: readonly ConfigError[] } {
  if (r.ok) return { parsed: r.value, errors: [] };
  return { parsed: undefined, errors: Array.isArray(r.error) ? r.error : [r.error as ConfigError] };
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

function parseSlice(s: V1EndpointSlice): SliceEntry | undefined {
  const service = s.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (!service || !s.metadata?.namespace) return undefined;
  return { service: `${s.metadata.namespace}/${service}`, nodes: nodesWithReadyEndpoints([s]) };
}

function parsePod(p: V1Pod): SpeakerPod | undefined {
  if (!p.metadata?.name || !p.metadata.namespace) return undefined;
  return {
    name: p.metadata.name,
    namespace: p.metadata.namespace,
    uid: p.metadata.uid,
    node: p.spec?.nodeName,
    // A pod being deleted still reports Ready until its containers stop; its speaker is leaving.
    ready: !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
  };
}

function readyByService(slices: Iterable<SliceEntry>): Map<string, ReadonlySet<string>> {
  const byService = new Map<string, Set<string>>();
  for (const slice of slices) {
    let nodes = byService.get(slice.service);
    if (!nodes) byService.set(slice.service, (nodes = new Set()));
    for (const node of slice.nodes) nodes.add(node);
  }
  return byService;
}

/**
 * The pool holding an IP. Usable pools are asked first; a pool in conflict
 * (overlapping an older one) still holds what was allocated from it before.
 */
class PoolLookup {
  readonly #ordered: readonly PoolEntry[];

  constructor(entries: readonly PoolEntry[]) {
    const { usable, conflicts } = resolvePoolConflicts(entries.map((e) => e.pool));
    const byPool = new Map(entries.map((e) => [e.pool, e]));
    this.#ordered = [...usable, ...conflicts.map((c) => c.pool)].map((p) => byPool.get(p)!);
  }

  poolOf(ip: IPAddress): PoolRef | undefined {
    for (const { pool, labels } of this.#ordered) if (poolContains(pool, ip)) return { name: pool.name, labels };
    return undefined;
  }
}

// Trimming: the fields election reads, nothing that changes on every write
// (resourceVersion, managedFields, timestamps of other controllers).

function trimService(s: V1Service): V1Service {
  return {
    metadata: { name: s.metadata?.name, namespace: s.metadata?.namespace, uid: s.metadata?.uid, labels: s.metadata?.labels },
    spec: { type: s.spec?.type, externalTrafficPolicy: s.spec?.externalTrafficPolicy, loadBalancerClass: s.spec?.loadBalancerClass },
    status: { loadBalancer: { ingress: (s.status?.loadBalancer?.ingress ?? []).map((i) => ({ ip: i.ip })) } },
  };
}

function trimEndpointSlice(s: V1EndpointSlice): V1EndpointSlice {
  const service = s.metadata?.labels?.[SERVICE_NAME_LABEL];
  return {
    addressType: s.addressType,
    metadata: { name: s.metadata?.name, namespace: s.metadata?.namespace, labels: service === undefined ? {} : { [SERVICE_NAME_LABEL]: service } },
    endpoints: (s.endpoints ?? []).map((e) => ({
      addresses: [],
      nodeName: e.nodeName,
      conditions: { ready: e.conditions?.ready, serving: e.conditions?.serving },
    })),
  };
}

function trimNode(n: V1Node): V1Node {
  return {
    metadata: { name: n.metadata?.name, labels: n.metadata?.labels },
    status: {
      conditions: (n.status?.conditions ?? []).filter((c) => c.type === 'NetworkUnavailable').map((c) => ({ type: c.type, status: c.status })),
      // Where heartbeats over UDP go.
      addresses: (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => ({ type: a.type, address: a.address })),
    },
  };
}

function trimAdvertisement(a: L2Advertisement): L2Advertisement {
  return { metadata: { name: a.metadata?.name, namespace: a.metadata?.namespace, labels: a.metadata?.labels }, spec: a.spec ?? {} };
}

function trimPool(p: IPAddressPool): IPAddressPool {
  const m = p.metadata ?? {};
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      labels: m.labels,
      creationTimestamp: m.creationTimestamp instanceof Date ? m.creationTimestamp.toISOString() : m.creationTimestamp,
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp instanceof Date ? m.deletionTimestamp.toISOString() : m.deletionTimestamp } : {}),
    },
    spec: p.spec,
  };
}

function trimPod(p: V1Pod): V1Pod {
  return {
    metadata: {
      name: p.metadata?.name,
      namespace: p.metadata?.namespace,
      uid: p.metadata?.uid,
      ...(p.metadata?.deletionTimestamp ? { deletionTimestamp: p.metadata.deletionTimestamp } : {}),
    },
    spec: { containers: [], nodeName: p.spec?.nodeName },
    status: { conditions: (p.status?.conditions ?? []).filter((c) => c.type === 'Ready').map((c) => ({ type: c.type, status: c.status })) },
  };
}
