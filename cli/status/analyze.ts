// `ballast status`, the analysis: plain lists of API objects in, a report out
// (pools with usage per family, Services with their IPs and announcing nodes,
// and every problem found). Pure: the fetching is fetch.ts, the text render.ts.
import type { CoreV1Event, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { ANNOTATION, ANNOTATION_ALLOCATED_FROM, LABEL_EXCLUDE_FROM_LB, type IPAddressPool, type L2Advertisement, type ServiceL2Status } from '../../shared/api/index.ts';
import {
  advertisesPool,
  formatPoolConflict,
  isLoadBalancer,
  parseL2Advertisement,
  parsePool,
  poolContains,
  resolvePoolConflicts,
  validateL2Advertisement,
  type L2AdvertisementConfig,
  type Pool,
} from '../../shared/config/index.ts';
import { familyName, parseIP, type Family, type IPAddress } from '../../shared/net/index.ts';

export interface ClusterSnapshot {
  /** The install namespace: pools, advertisements, ServiceL2Statuses and speaker pods live here. */
  readonly namespace: string;
  /** Only Services of this class (default: those with none), like the controller's --load-balancer-class. */
  readonly loadBalancerClass?: string | undefined;
  readonly pools: readonly IPAddressPool[];
  readonly l2Advertisements: readonly L2Advertisement[];
  readonly serviceL2Statuses: readonly ServiceL2Status[];
  readonly services: readonly V1Service[];
  /** Warning events about Services (others are ignored). */
  readonly events: readonly CoreV1Event[];
  readonly nodes: readonly V1Node[];
  /** Pods of the install namespace; the speakers among them are recognised by owner or labels. */
  readonly pods: readonly V1Pod[];
  /** Lists that could not be read, with why (e.g. RBAC): reported, not fatal. */
  readonly unreadable?: readonly string[];
}

export type Severity = 'error' | 'warning';

export interface Problem {
  readonly severity: Severity;
  /** "Service shop/web", "IPAddressPool ballast-system/default", "node worker-3". */
  readonly object: string;
  readonly message: string;
}

export interface FamilyUsage {
  readonly family: 'IPv4' | 'IPv6';
  readonly assigned: bigint;
  readonly available: bigint;
  /** Where the figures come from: the controller's pool status, or counted here from Service IPs. */
  readonly source: 'status' | 'services';
}

export interface PoolReport {
  readonly name: string;
  readonly addresses: readonly string[];
  readonly autoAssign: boolean;
  readonly terminating: boolean;
  readonly usage: readonly FamilyUsage[];
  readonly conditions: ReadonlyArray<{ type: string; status: string; reason: string; message: string }>;
}

export interface ServiceReport {
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  readonly pool: string | undefined;
  /** Nodes that announce it, from ServiceL2Status. */
  readonly nodes: readonly string[];
}

export interface StatusReport {
  readonly namespace: string;
  readonly pools: readonly PoolReport[];
  readonly services: readonly ServiceReport[];
  readonly speakers: { readonly ready: number; readonly nodes: number };
  readonly problems: readonly Problem[];
}

/** The DaemonSet of the contract, and the labels its pods carry (app.kubernetes.io recommended labels). */
export const SPEAKER_DAEMONSET = 'ballast-speaker';
export const SPEAKER_LABELS = { 'app.kubernetes.io/name': 'ballast', 'app.kubernetes.io/component': 'speaker' } as const;

export function analyze(s: ClusterSnapshot): StatusReport {
  const problems: Problem[] = (s.unreadable ?? []).map((why) => ({ severity: 'warning', object: 'cluster', message: `could not read ${why}; the report below may be incomplete` }));
  const add = (severity: Severity, object: string, message: string): void => void problems.push({ severity, object, message });

  const pools = parsePools(s, add);
  const services = s.services
    .filter((svc) => svc.metadata?.name && isLoadBalancer(svc, s.loadBalancerClass || undefined))
    .sort((a, b) => compareText(`${a.metadata!.namespace}/${a.metadata!.name}`, `${b.metadata!.namespace}/${b.metadata!.name}`));
  const announcers = announcersByService(s.serviceL2Statuses);
  const usedIPs = ipsOfServices(services);
  const advertisements = s.l2Advertisements.filter((a) => a.metadata?.namespace === s.namespace);
  const parsedAds = advertisements.flatMap((a) => {
    const r = parseL2Advertisement(a);
    return r.ok ? [r.value] : [];
  });

  const poolReports = pools.map(({ raw, pool }) => poolReport(raw, pool, usedIPs));
  poolProblems(s, pools, poolReports, usedIPs, parsedAds, add);

  const serviceReports = services.map((svc) => serviceReport(svc, pools, announcers));
  serviceProblems(s, services, serviceReports, pools, parsedAds, add);
  advertisementProblems(advertisements, s.pools, add);
  const speakers = speakerProblems(s, add);

  problems.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  return { namespace: s.namespace, pools: poolReports, services: serviceReports, speakers, problems };
}

interface ParsedPool {
  readonly raw: IPAddressPool;
  readonly pool: Pool | undefined;
}

function parsePools(s: ClusterSnapshot, add: (sev: Severity, obj: string, msg: string) => void): ParsedPool[] {
  return s.pools
    .filter((raw) => raw.metadata?.namespace === s.namespace)
    .map((raw) => {
      const parsed = parsePool(raw);
      if (!parsed.ok) {
        for (const e of parsed.error) add('error', poolObject(s.namespace, raw.metadata?.name), `${e.field}: ${e.message}`);
        return { raw, pool: undefined };
      }
      return { raw, pool: parsed.value };
    })
    .sort((a, b) => compareText(a.raw.metadata?.name ?? '', b.raw.metadata?.name ?? ''));
}

const poolObject = (ns: string, name: string | undefined): string => `IPAddressPool ${ns}/${name ?? '?'}`;
const serviceObject = (svc: { namespace: string; name: string }): string => `Service ${svc.namespace}/${svc.name}`;

/** Every distinct load-balancer IP in use, with the Services holding it. */
function ipsOfServices(services: readonly V1Service[]): Map<string, { ip: IPAddress; holders: string[] }> {
  const used = new Map<string, { ip: IPAddress; holders: string[] }>();
  for (const svc of services) {
    for (const ingress of svc.status?.loadBalancer?.ingress ?? []) {
      const ip = ingress.ip ? parseIP(ingress.ip) : undefined;
      if (!ip?.ok) continue;
      const entry = used.get(ip.value.text) ?? { ip: ip.value, holders: [] };
      entry.holders.push(`${svc.metadata!.namespace}/${svc.metadata!.name}`);
      used.set(ip.value.text, entry);
    }
  }
  return used;
}

function poolReport(raw: IPAddressPool, pool: Pool | undefined, used: Map<string, { ip: IPAddress; holders: string[] }>): PoolReport {
  const status = raw.status;
  const families: Family[] = pool ? ([4, 6] as const).filter((f) => pool.ranges.some((r) => r.family === f)) : [];
  const usage = families.map((family): FamilyUsage => {
    const fromStatus = family === 4 ? [status?.assignedIPv4, status?.availableIPv4] : [status?.assignedIPv6, ipv6Available(status)];
    const [assigned, available] = fromStatus;
    if (assigned !== undefined && available !== undefined && assigned !== null && available !== null) {
      return { family: familyName(family), assigned: BigInt(assigned), available: BigInt(available), source: 'status' };
    }
    const held = [...used.values()].filter(({ ip }) => ip.family === family && poolContains(pool!, ip)).length;
    const size = poolSize(pool!, family);
    return { family: familyName(family), assigned: BigInt(held), available: size > BigInt(held) ? size - BigInt(held) : 0n, source: 'services' };
  });
  return {
    name: raw.metadata?.name ?? '?',
    addresses: raw.spec?.addresses ?? [],
    autoAssign: raw.spec?.autoAssign ?? true,
    terminating: raw.metadata?.deletionTimestamp != null,
    usage,
    conditions: (status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
  };
}

/** availableIPv6 is capped at 2^53-1 for JSON; availableIPv6Text is exact ("18446744073709551616" or "2^64"). */
function ipv6Available(status: IPAddressPool['status']): number | bigint | undefined {
  const text = (status as { availableIPv6Text?: unknown } | undefined)?.availableIPv6Text;
  if (typeof text === 'string') {
    const power = /^2\^(\d+)$/.exec(text);
    if (power) return 1n << BigInt(power[1]!);
    if (/^\d+$/.test(text)) return BigInt(text);
  }
  return status?.availableIPv6;
}

/** Addresses a pool can hand out in one family; avoidBuggyIPs leaves out IPv4 .0 and .255. */
export function poolSize(pool: Pool, family: Family): bigint {
  let size = 0n;
  for (const r of pool.ranges) {
    if (r.family !== family) continue;
    size += r.last - r.first + 1n;
    if (family === 4 && pool.avoidBuggyIPs) size -= countEndingIn(r.first, r.last, 0n) + countEndingIn(r.first, r.last, 255n);
  }
  return size;
}

/** How many x in [first, last] have x mod 256 == rest. */
function countEndingIn(first: bigint, last: bigint, rest: bigint): bigint {
  const upTo = (n: bigint): bigint => (n < rest ? 0n : (n - rest) / 256n + 1n);
  return upTo(last) - (first === 0n ? 0n : upTo(first - 1n));
}

function poolProblems(
  s: ClusterSnapshot,
  pools: readonly ParsedPool[],
  reports: readonly PoolReport[],
  used: Map<string, { ip: IPAddress; holders: string[] }>,
  parsedAds: readonly L2AdvertisementConfig[],
  add: (sev: Severity, obj: string, msg: string) => void,
): void {
  const parsed = pools.flatMap((p) => (p.pool ? [p.pool] : []));
  const conflicts = new Map(resolvePoolConflicts(parsed).conflicts.map((c) => [c.pool.name, c]));
  pools.forEach(({ raw, pool }, i) => {
    const report = reports[i]!;
    const object = poolObject(s.namespace, report.name);
    const condition = (type: string): PoolReport['conditions'][number] | undefined => report.conditions.find((c) => c.type === type);
    const hasStatus = report.conditions.length > 0;

    const conflict = conflicts.get(report.name);
    if (condition('Conflict')?.status === 'True') add('error', object, `in conflict: ${condition('Conflict')!.message}`);
    else if (!hasStatus && conflict) add('error', object, `in conflict: ${formatPoolConflict(conflict)}`);
    const ready = condition('Ready');
    if (ready?.status === 'False' && condition('Conflict')?.status !== 'True') add('error', object, `not ready: ${ready.reason}: ${ready.message}`);

    if (condition('NodeConflict')?.status === 'True') add('warning', object, `holds a node's address: ${condition('NodeConflict')!.message}`);
    if (condition('Exhausted')?.status === 'True') add('warning', object, `exhausted: ${condition('Exhausted')!.message}`);
    else if (!hasStatus && !report.terminating) {
      for (const u of report.usage) if (u.available === 0n) add('warning', object, `exhausted: every ${u.family} address is in use`);
    }

    if (report.terminating && pool) {
      const users = [...new Set([...used.values()].filter(({ ip }) => poolContains(pool, ip)).flatMap(({ holders }) => holders))].sort(compareText);
      if (users.length > 0) {
        add('warning', object, `is being deleted but ${users.length} Service${users.length === 1 ? '' : 's'} still use its addresses (${listSome(users)}); it stays until they release them`);
      }
    }
    if (pool && !report.terminating && !parsedAds.some((ad) => advertisesPool(ad, { name: pool.name, labels: raw.metadata?.labels ?? {} }))) {
      add('warning', object, 'no L2Advertisement selects it: Services get its addresses, but no node announces them');
    }
  });
}

/** ServiceL2Status → "ns/name" → announcing nodes. */
function announcersByService(statuses: readonly ServiceL2Status[]): Map<string, string[]> {
  const byService = new Map<string, string[]>();
  for (const st of statuses) {
    const { serviceNamespace, serviceName, node } = st.status ?? {};
    if (!serviceNamespace || !serviceName || !node) continue;
    const key = `${serviceNamespace}/${serviceName}`;
    const nodes = byService.get(key) ?? [];
    if (!nodes.includes(node)) nodes.push(node);
    byService.set(key, nodes.sort(compareText));
  }
  return byService;
}

function serviceReport(svc: V1Service, pools: readonly ParsedPool[], announcers: Map<string, string[]>): ServiceReport {
  const namespace = svc.metadata!.namespace ?? '';
  const name = svc.metadata!.name!;
  const ips = (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));
  const recorded = svc.metadata?.annotations?.[ANNOTATION_ALLOCATED_FROM];
  const pool = recorded ?? pools.find(({ pool: p }) => p && ips.some((text) => containsText(p, text)))?.pool?.name;
  return { namespace, name, ips, pool, nodes: announcers.get(`${namespace}/${name}`) ?? [] };
}

function containsText(pool: Pool, text: string): boolean {
  const ip = parseIP(text);
  return ip.ok && poolContains(pool, ip.value);
}

function serviceProblems(
  s: ClusterSnapshot,
  services: readonly V1Service[],
  reports: readonly ServiceReport[],
  pools: readonly ParsedPool[],
  parsedAds: readonly L2AdvertisementConfig[],
  add: (sev: Severity, obj: string, msg: string) => void,
): void {
  const warnings = lastWarningByService(s.events);
  const announcedPool = (name: string | undefined): boolean => {
    const p = pools.find((x) => x.pool?.name === name);
    return p === undefined || parsedAds.some((ad) => advertisesPool(ad, { name: p.raw.metadata?.name ?? '', labels: p.raw.metadata?.labels ?? {} }));
  };

  services.forEach((svc, i) => {
    const r = reports[i]!;
    const object = serviceObject(r);
    if (r.ips.length === 0) {
      const event = warnings.get(`${r.namespace}/${r.name}`);
      const requested = ANNOTATION.addressPool.map((k) => svc.metadata?.annotations?.[k]).find((v) => v !== undefined)?.trim();
      let why = event ? `${event.reason}: ${event.message}` : 'no Warning event explains it; is the controller running? (kubectl logs deploy/ballast-controller)';
      if (requested && !pools.some((p) => p.raw.metadata?.name === requested)) why = `it asks for pool "${requested}", which does not exist; ${why}`;
      add('error', object, `has no IP: ${why}`);
      return;
    }
    for (const text of r.ips) {
      const ip = parseIP(text);
      if (!ip.ok) add('error', object, `status IP ${text} does not parse: ${ip.error}`);
      else if (!pools.some((p) => p.pool && poolContains(p.pool, ip.value))) add('warning', object, `IP ${text} is in no IPAddressPool of ${s.namespace} (set by hand, or its pool was removed)`);
    }
    if (r.nodes.length === 0) {
      const hint = !announcedPool(r.pool)
        ? `no L2Advertisement selects its pool "${r.pool}"`
        : 'no ServiceL2Status: no ready endpoints, no eligible node, or no speaker running';
      add('error', object, `${r.ips.join(', ')} announced by no node: ${hint}`);
    } else if (r.nodes.length > 1) {
      add('error', object, `${r.ips.join(', ')} announced by ${r.nodes.length} nodes (${r.nodes.join(', ')}): clients see whichever answered last`);
    }
  });

  // A ServiceL2Status whose Service is gone or has no IP: a speaker did not clean up.
  const withIPs = new Set(reports.filter((r) => r.ips.length > 0).map((r) => `${r.namespace}/${r.name}`));
  for (const st of s.serviceL2Statuses) {
    const { serviceNamespace, serviceName, node } = st.status ?? {};
    if (!serviceNamespace || !serviceName) continue;
    if (!withIPs.has(`${serviceNamespace}/${serviceName}`)) {
      add('warning', `ServiceL2Status ${st.metadata?.namespace}/${st.metadata?.name}`, `node ${node ?? '?'} claims Service ${serviceNamespace}/${serviceName}, which has no load-balancer IP (stale)`);
    }
  }
}

/** The most recent Warning event about each Service ("ns/name"). */
function lastWarningByService(events: readonly CoreV1Event[]): Map<string, { reason: string; message: string }> {
  const last = new Map<string, { at: number; reason: string; message: string }>();
  for (const e of events) {
    const o = e.involvedObject;
    if (e.type !== 'Warning' || o?.kind !== 'Service' || !o.name) continue;
    const key = `${o.namespace ?? ''}/${o.name}`;
    const at = millis(e.series?.lastObservedTime) ?? millis(e.lastTimestamp) ?? millis(e.eventTime) ?? millis(e.firstTimestamp) ?? millis(e.metadata?.creationTimestamp) ?? 0;
    const known = last.get(key);
    if (!known || at >= known.at) last.set(key, { at, reason: e.reason ?? '', message: (e.message ?? '').trim() });
  }
  return last;
}

function millis(v: Date | string | undefined | null): number | undefined {
  if (v == null) return undefined;
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  return Number.isFinite(ms) ? ms : undefined;
}

function advertisementProblems(advertisements: readonly L2Advertisement[], pools: readonly IPAddressPool[], add: (sev: Severity, obj: string, msg: string) => void): void {
  for (const ad of [...advertisements].sort((a, b) => compareText(a.metadata?.name ?? '', b.metadata?.name ?? ''))) {
    const object = `L2Advertisement ${ad.metadata?.namespace}/${ad.metadata?.name}`;
    const parsed = parseL2Advertisement(ad);
    if (!parsed.ok) {
      for (const e of parsed.error) add('error', object, `${e.field}: ${e.message}`);
      continue;
    }
    // The webhook's own wording, so status and kubectl warnings say the same thing.
    for (const w of validateL2Advertisement(ad, pools).warnings) add('warning', object, w);
  }
}

export function isSpeakerPod(pod: V1Pod): boolean {
  const owned = pod.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.name === SPEAKER_DAEMONSET) ?? false;
  const labels = pod.metadata?.labels ?? {};
  return owned || Object.entries(SPEAKER_LABELS).every(([k, v]) => labels[k] === v);
}

const podReady = (pod: V1Pod): boolean =>
  pod.metadata?.deletionTimestamp == null && pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

function speakerProblems(s: ClusterSnapshot, add: (sev: Severity, obj: string, msg: string) => void): { ready: number; nodes: number } {
  const speakers = s.pods.filter((p) => p.metadata?.namespace === s.namespace && isSpeakerPod(p));
  const readyOn = new Set(speakers.filter(podReady).flatMap((p) => (p.spec?.nodeName ? [p.spec.nodeName] : [])));
  // Nodes excluded from load balancers never announce, so a missing speaker there costs nothing.
  const candidates = s.nodes.filter((n) => n.metadata?.name && n.metadata.labels?.[LABEL_EXCLUDE_FROM_LB] === undefined).map((n) => n.metadata!.name!);
  const missing = candidates.filter((n) => !readyOn.has(n)).sort(compareText);
  if (candidates.length > 0 && speakers.length === 0) {
    add('error', 'speakers', `no speaker pods in namespace ${s.namespace}: nothing is announced (is DaemonSet ${SPEAKER_DAEMONSET} installed?)`);
  } else if (missing.length > 0) {
    add('warning', 'speakers', `${missing.length} node${missing.length === 1 ? ' has' : 's have'} no ready speaker and cannot announce: ${listSome(missing)}`);
  }
  return { ready: candidates.length - missing.length, nodes: candidates.length };
}

function listSome(items: readonly string[], max = 5): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
