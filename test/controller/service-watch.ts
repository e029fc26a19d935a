// Watches Services in a namespace and checks, on every event the API server
// sends, what a user could see go wrong: a Service whose IP changes, and one
// IP held by two Services that may not share it. The evidence comes from the
// API, not from the controller's memory.
import * as k8s from '@kubernetes/client-node';
import type { V1Service } from '@kubernetes/client-node';
import { ANNOTATION } from '../../shared/api/index.ts';

export interface Violation {
  /**
   * ip-changed: a Service's IPs changed after it first got them.
   * double-booked: a status write put an IP on a Service while another that may not share it held it.
   */
  kind: 'ip-changed' | 'double-booked';
  detail: string;
}

const annotation = (svc: V1Service, spellings: readonly string[]): string => {
  for (const k of spellings) {
    const v = svc.metadata?.annotations?.[k];
    if (v !== undefined) return v.trim();
  }
  return '';
};

/** Why two Services may not hold one IP (MetalLB's rules), or undefined when they may. */
export function incompatibility(a: V1Service, b: V1Service): string | undefined {
  const ka = annotation(a, ANNOTATION.allowSharedIP);
  const kb = annotation(b, ANNOTATION.allowSharedIP);
  if (ka === '' || ka !== kb) return `sharing keys "${ka}" and "${kb}"`;
  const ports = (s: V1Service): string[] => (s.spec?.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`);
  const clash = ports(a).filter((p) => ports(b).includes(p));
  if (clash.length) return `both use ${clash.join(', ')}`;
  const backend = (s: V1Service): string => (s.spec?.externalTrafficPolicy === 'Local' ? JSON.stringify(Object.entries(s.spec.selector ?? {}).sort()) : '');
  if (backend(a) !== backend(b)) return 'externalTrafficPolicy Local with different selectors';
  return undefined;
}

export class ServiceWatch {
  readonly violations: Violation[] = [];
  /** uid → the IPs it first got (a Service's IPs may only be set once, then kept until it is deleted). */
  readonly firstIPs = new Map<string, string>();
  readonly live = new Map<string, V1Service>();
  events = 0;
  /** Events that showed one IP on two Services that may share it: proof that sharing was exercised. */
  sharedSeen = 0;
  /** Events where a user's edit made two holders of one IP incompatible (the controller must then move one). */
  editedIntoConflict = 0;
  #abort?: AbortController;
  readonly #kc: k8s.KubeConfig;
  readonly #namespace: string;

  constructor(kc: k8s.KubeConfig, namespace: string) {
    this.#kc = kc;
    this.#namespace = namespace;
  }

  async start(): Promise<void> {
    const watch = new k8s.Watch(this.#kc);
    this.#abort = await watch.watch(
      `/api/v1/namespaces/${this.#namespace}/services`,
      { allowWatchBookmarks: false },
      (type: string, svc: V1Service) => this.#onEvent(type, svc),
      (e: unknown) => {
        if (e && !(this.#abort?.signal.aborted ?? false)) this.violations.push({ kind: 'ip-changed', detail: `watch ended early: ${String(e)}` });
      },
    );
  }

  stop(): void {
    this.#abort?.abort();
  }

  #onEvent(type: string, svc: V1Service): void {
    this.events++;
    const uid = svc.metadata?.uid ?? '';
    const name = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    if (type === 'DELETED') {
      this.live.delete(uid);
      return;
    }
    const before = new Set((this.live.get(uid)?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip));
    this.live.set(uid, svc);
    const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).join(',');
    const first = this.firstIPs.get(uid);
    if (ips !== '') {
      if (first === undefined) this.firstIPs.set(uid, ips);
      else if (first !== ips) this.violations.push({ kind: 'ip-changed', detail: `${name}: ${first} → ${ips}` });
    }
    for (const ip of ips ? ips.split(',') : []) {
      for (const other of this.live.values()) {
        if (other.metadata?.uid === uid) continue;
        if (!(other.status?.loadBalancer?.ingress ?? []).some((i) => i.ip === ip)) continue;
        const why = incompatibility(svc, other);
        if (!why) this.sharedSeen++;
        // An edit of a Service already on the IP (its sharing key, its ports) makes the pair incompatible
        // until the controller moves one: the final state must show it resolved. A write that
        // puts the IP on a Service next to an incompatible holder is the controller's own mistake.
        else if (!before.has(ip)) this.violations.push({ kind: 'double-booked', detail: `${ip} given to ${name} while ${other.metadata?.name} holds it: ${why}` });
        else this.editedIntoConflict++;
      }
    }
  }
}
