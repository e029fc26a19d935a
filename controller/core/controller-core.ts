// The controller's decisions, without I/O: pools and Services in, the status,
// finalizers and Events to write out. The shell (controller/shell) feeds it
// from informers and carries its plans out; this file is where "which IP does
// this Service get, and what do we tell the user" is answered.
import type { V1Node, V1Service } from '@kubernetes/client-node';
import type { IPAddressPool } from '../../shared/api/index.ts';
import { formatConfigError, isLoadBalancer, nodeAddresses, parseServiceRequest, poolContains, type ServiceRequest } from '../../shared/config/index.ts';
import type { Labels } from '../../shared/labels/index.ts';
import { parseIP, type IPAddress } from '../../shared/net/index.ts';
import { ANNOTATION } from '../../shared/api/index.ts';
import { Allocator, formatAllocationFailure, formatInvalidation, type Assignment, type PoolUsage } from '../allocator/index.ts';
import { PoolBook } from './pool-book.ts';
import type { IngressEntry, PlannedEvent, PoolPlan, ServicePlan } from './planned.ts';

export interface ControllerCoreOptions {
  /** Serve Services of this loadBalancerClass; undefined: only Services without a class. */
  readonly loadBalancerClass?: string;
}

export interface RestoreOutcome {
  readonly restored: number;
  /** Services whose IPs in status could not be kept; each will get a new assignment, with this message as a Warning. */
  readonly failed: ReadonlyArray<{ readonly key: string; readonly message: string }>;
}

export const serviceKeyOf = (svc: V1Service): string => `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;

export class ControllerCore {
  readonly #allocator = new Allocator();
  readonly #pools = new PoolBook();
  readonly #class: string | undefined;
  /** Last event signature per Service and reason group, so a resync repeats nothing it already said. */
  readonly #said = new Map<string, Map<string, string>>();
  /** Why a Service lost its IPs in a pool change (or a restore), told when it is assigned again. */
  readonly #moved = new Map<string, string>();
  /** Services whose last allocation failed: a pool change may help them. */
  readonly #failing = new Set<string>();

  constructor(opts: ControllerCoreOptions = {}) {
    this.#class = opts.loadBalancerClass || undefined;
  }

  serves(svc: V1Service): boolean {
    return isLoadBalancer(svc, this.#class);
  }

  /** Installs the pool set; returns the Services to sync again (moved off a pool, or failing and maybe helped). */
  updatePools(raws: readonly IPAddressPool[]): string[] {
    const { usable, conflicts } = this.#pools.update(raws);
    const invalid = this.#allocator.setPools(usable, conflicts);
    for (const inv of invalid) this.#moved.set(inv.key, formatInvalidation(inv));
    return [...new Set([...invalid.map((i) => i.key), ...this.#failing])].sort();
  }

  /**
   * Installs the nodes (their InternalIP and ExternalIP addresses are never handed out); returns the
   * Services to sync again: failing ones, since an address a node gave up may be what they wait for.
   */
  updateNodes(nodes: readonly V1Node[]): string[] {
    const addresses = nodes.flatMap(nodeAddresses);
    this.#pools.setNodeAddresses(addresses);
    const invalid = this.#allocator.setNodeAddresses(addresses);
    if (invalid.length > 0) throw new Error(`bug: node addresses invalidated ${invalid.map((i) => i.key).join(', ')}`);
    return this.#waiting();
  }

  /**
   * Controller start: takes back every IP recorded in Service status before
   * anything new is allocated, oldest Service first (so if two claim one IP the
   * older keeps it). A restart never changes an IP (MetalLB #1774, #2443, #2479).
   */
  restore(services: readonly V1Service[], namespaceLabels: (ns: string) => Labels): RestoreOutcome {
    const failed: Array<{ key: string; message: string }> = [];
    let restored = 0;
    const ordered = services.filter((s) => this.serves(s)).sort(byAgeThenKey);
    for (const svc of ordered) {
      const ips = ingressIPs(svc);
      if (ips.length === 0) continue;
      const key = serviceKeyOf(svc);
      const req = requestForRestore(svc, namespaceLabels(svc.metadata?.namespace ?? ''));
      if (!req) {
        failed.push({ key, message: `could not read the Service to keep ${ips.map((i) => i.text).join(', ')}` });
        continue;
      }
      const result = this.#allocator.restore(key, req, ips);
      if (result.ok) restored++;
      else {
        const message = `${ips.map((i) => i.text).join(', ')} from status could not be kept: ${formatAllocationFailure(result.error)}`;
        this.#moved.set(key, message);
        failed.push({ key, message });
      }
    }
    return { restored, failed };
  }

  /** Decides one Service (undefined: it was deleted). */
  syncService(key: string, svc: V1Service | undefined, namespaceLabels: Labels): ServicePlan {
    if (!svc) {
      const freed = this.#allocator.assignmentOf(key) !== undefined;
      this.#forget(key);
      return { key, ingress: undefined, events: [], wake: freed ? this.#waiting() : [] };
    }
    const events: PlannedEvent[] = [];
    if (!this.serves(svc)) {
      const released = this.#allocator.assignmentOf(key);
      this.#forget(key);
      if (released) {
        events.push({ type: 'Normal', reason: 'IPReleased', message: `released ${released.ips.map((i) => i.text).join(', ')} back to pool "${released.pool}": ${this.#whyNotServed(svc)}` });
        return { key, ingress: ingressIPs(svc).length ? [] : undefined, events, wake: this.#waiting() };
      }
      return { key, ingress: undefined, events, wake: [] };
    }

    const parsed = parseServiceRequest(svc, namespaceLabels);
    if (!parsed.ok) {
      this.#failing.add(key);
      const held = this.#allocator.assignmentOf(key);
      const keep = held ? `; keeping ${held.ips.map((i) => i.text).join(', ')}` : '';
      this.#say(key, events, 'outcome', { type: 'Warning', reason: 'InvalidService', message: `${formatConfigError(parsed.error)}${keep}` });
      return { key, ingress: held ? this.#ingressIfChanged(svc, held) : undefined, events, wake: [] };
    }
    const req = parsed.value;
    this.#say(key, events, 'deprecation', req.warnings.length ? { type: 'Warning', reason: 'DeprecatedAnnotation', message: req.warnings.join('; ') } : undefined);

    const before = ingressIPs(svc);
    const heldBefore = this.#allocator.assignmentOf(key);
    const result = this.#allocator.assign(key, req);
    const after = this.#allocator.assignmentOf(key);
    // Addresses this Service let go of may be what a failing one waits for.
    const wake = heldBefore && heldBefore.ips.some((ip) => !after?.ips.some((x) => x.family === ip.family && x.value === ip.value)) ? this.#waiting(key) : [];
    if (result.ok) {
      this.#failing.delete(key);
      const moved = this.#moved.get(key);
      this.#moved.delete(key);
      const ingress = this.#ingressIfChanged(svc, result.value);
      if (ingress) {
        const ips = result.value.ips.map((i) => i.text).join(', ');
        if (moved) events.push({ type: 'Warning', reason: 'IPChanged', message: `${moved}; now ${ips} from pool "${result.value.pool}"` });
        else if (!sameIPs(before, result.value.ips)) events.push({ type: 'Normal', reason: 'IPAllocated', message: `assigned ${ips} from pool "${result.value.pool}"` });
      }
      this.#say(key, events, 'outcome', undefined);
      return { key, ingress, events, wake };
    }

    this.#failing.add(key);
    const held = this.#allocator.assignmentOf(key);
    const failure = formatAllocationFailure(result.error);
    if (held) {
      this.#say(key, events, 'outcome', { type: 'Warning', reason: 'AllocationFailed', message: `cannot satisfy the Service's request: ${failure}; keeping ${held.ips.map((i) => i.text).join(', ')}` });
      return { key, ingress: this.#ingressIfChanged(svc, held), events, wake };
    }
    const moved = this.#moved.get(key);
    this.#say(key, events, 'outcome', { type: 'Warning', reason: 'AllocationFailed', message: moved ? `${moved}; and no new address: ${failure}` : failure });
    // An IP in status that we do not hold is stale (we released it, or another Service holds it now);
    // IPs outside every pool were never ours, so they are left alone (MetalLB #2887).
    const stale = before.filter((ip) => this.#inSomePool(ip));
    return { key, ingress: stale.length ? before.filter((ip) => !this.#inSomePool(ip)).map(toIngress) : undefined, events, wake };
  }

  /** The Services whose last allocation failed, but `except`. */
  #waiting(except?: string): string[] {
    return [...this.#failing].filter((k) => k !== except).sort();
  }

  poolPlans(now: Date): PoolPlan[] {
    return this.#pools.plans(
      (p) => this.#allocator.usage(p),
      (p) => this.#allocator.usersOf(p),
      (ip) => this.#allocator.holdersOf(ip),
      now,
    );
  }

  /** Per pool usage for metrics. */
  usage(): Array<{ pool: string; usage: PoolUsage }> {
    return this.#pools.names().flatMap((pool) => {
      const usage = this.#allocator.usage(pool);
      return usage ? [{ pool, usage }] : [];
    });
  }

  assignmentOf(key: string): Assignment | undefined {
    return this.#allocator.assignmentOf(key);
  }

  #inSomePool(ip: IPAddress): boolean {
    return [...this.#pools.usable, ...this.#pools.conflicts.map((c) => c.pool)].some((p) => poolContains(p, ip));
  }

  #ingressIfChanged(svc: V1Service, held: Assignment): IngressEntry[] | undefined {
    const current = svc.status?.loadBalancer?.ingress ?? [];
    const wanted = held.ips.map(toIngress);
    const same = current.length === wanted.length && current.every((c, i) => c.ip === wanted[i]!.ip && c.ipMode === 'VIP' && !c.hostname);
    return same ? undefined : wanted;
  }

  #whyNotServed(svc: V1Service): string {
    if (svc.spec?.type !== 'LoadBalancer') return `the Service is now of type ${svc.spec?.type ?? 'ClusterIP'}`;
    return `the Service's loadBalancerClass "${svc.spec.loadBalancerClass ?? ''}" is not served by this controller`;
  }

  /** Emits `event` unless the same was the last thing said in this group; undefined clears the group. */
  #say(key: string, events: PlannedEvent[], group: string, event: PlannedEvent | undefined): void {
    let said = this.#said.get(key);
    if (!event) {
      said?.delete(group);
      return;
    }
    const signature = `${event.type}/${event.reason}/${event.message}`;
    if (said?.get(group) === signature) return;
    if (!said) this.#said.set(key, (said = new Map()));
    said.set(group, signature);
    events.push(event);
  }

  #forget(key: string): void {
    this.#allocator.release(key);
    this.#said.delete(key);
    this.#moved.delete(key);
    this.#failing.delete(key);
  }
}

const toIngress = (ip: IPAddress): IngressEntry => ({ ip: ip.text, ipMode: 'VIP' });

function ingressIPs(svc: V1Service): IPAddress[] {
  return (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => {
    const ip = parseIP(i.ip ?? '');
    return ip.ok ? [ip.value] : [];
  });
}

const sameIPs = (a: readonly IPAddress[], b: readonly IPAddress[]): boolean =>
  a.length === b.length && a.every((ip) => b.some((o) => o.family === ip.family && o.value === ip.value));

function byAgeThenKey(a: V1Service, b: V1Service): number {
  const t = (s: V1Service): number => new Date(s.metadata?.creationTimestamp ?? 0).getTime();
  return t(a) - t(b) || serviceKeyOf(a).localeCompare(serviceKeyOf(b));
}

/**
 * The request to restore under. A Service whose annotations became invalid
 * still keeps its IPs: what matters for keeping them (ports, sharing key,
 * backend, families) is read with the requested-IP and pool annotations set
 * aside.
 */
function requestForRestore(svc: V1Service, namespaceLabels: Labels): ServiceRequest | undefined {
  const parsed = parseServiceRequest(svc, namespaceLabels);
  if (parsed.ok) return parsed.value;
  const annotations = { ...(svc.metadata?.annotations ?? {}) };
  for (const key of [...ANNOTATION.loadBalancerIPs, ...ANNOTATION.addressPool]) delete annotations[key];
  const lenient = parseServiceRequest({ ...svc, metadata: { ...svc.metadata, annotations }, spec: { ...svc.spec, loadBalancerIP: undefined } }, namespaceLabels);
  return lenient.ok ? lenient.value : undefined;
}
