// The controller's shell: informers on Services, Namespaces, pools and Nodes
// (whose own addresses no Service may get) feed ControllerCore; its plans are written back (Service status, pool status and
// finalizers, Events). Only the leader runs the core: a new term starts from
// nothing and restores every assignment from Service status before it
// allocates anything (so losing and regaining leadership is a restart).
import type { V1Namespace, V1Node, V1Service } from '@kubernetes/client-node';
import { POOL_FINALIZER, type IPAddressPool } from '../../shared/api/index.ts';
import { createInformer, formatApiError, objectClient, RESOURCES, type ApiAccess, type EventRecorder, type Informer, type ObjectClient } from '../../shared/k8s/index.ts';
import type { Labels } from '../../shared/labels/index.ts';
import type { Logger } from '../../shared/observability/index.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import { ControllerCore, serviceKeyOf, type PoolPlan, type ServicePlan } from '../core/index.ts';
import type { ControllerMetrics } from './metrics.ts';
import { WorkQueue } from './work-queue.ts';

export interface ServiceControllerOptions {
  access: ApiAccess;
  /** Where the pools live. */
  namespace: string;
  loadBalancerClass?: string;
  events: EventRecorder;
  metrics: ControllerMetrics;
  log: Logger;
  /** Pool status is rewritten at most this often while Services churn (default 500 ms). */
  poolStatusDelayMs?: number;
  /** Status writes in flight at once (default 16). */
  writeConcurrency?: number;
}

const POOLS = 'pools';
const NODES = 'nodes';
const POOL_STATUS = 'pool-status';
const svcItem = (key: string): string => `svc:${key}`;

export class ServiceController {
  readonly services: Informer<V1Service>;
  readonly namespaces: Informer<V1Namespace>;
  readonly pools: Informer<IPAddressPool>;
  readonly nodes: Informer<V1Node>;
  readonly #opts: ServiceControllerOptions;
  readonly #serviceApi: ObjectClient<V1Service>;
  readonly #poolApi: ObjectClient<IPAddressPool>;
  /** The leader's term, while leading. */
  #term: { core: ControllerCore; queue: WorkQueue } | undefined;
  /** The Service as our last status write returned it, until the watch brings it back: the cache may be older. */
  readonly #pendingStatus = new Map<string, V1Service>();

  constructor(opts: ServiceControllerOptions) {
    this.#opts = opts;
    const log = opts.log;
    this.#serviceApi = objectClient(opts.access, RESOURCES.service);
    this.#poolApi = objectClient(opts.access, RESOURCES.ipAddressPool);
    this.services = createInformer(opts.access, RESOURCES.service, {
      logger: log,
      onAdd: (s) => this.#enqueue(svcItem(serviceKeyOf(s))),
      onUpdate: (s) => {
        // Any newer view of the Service (usually our own write coming back) replaces what we wrote.
        this.#pendingStatus.delete(serviceKeyOf(s));
        this.#enqueue(svcItem(serviceKeyOf(s)));
      },
      onDelete: (s) => {
        this.#pendingStatus.delete(serviceKeyOf(s));
        this.#enqueue(svcItem(serviceKeyOf(s)));
      },
    });
    this.namespaces = createInformer(opts.access, RESOURCES.namespace, {
      logger: log,
      // Namespace labels feed serviceAllocation.namespaceSelectors.
      onUpdate: (ns, old) => {
        if (JSON.stringify(ns.metadata?.labels ?? {}) !== JSON.stringify(old.metadata?.labels ?? {})) this.#enqueueNamespace(ns.metadata?.name ?? '');
      },
    });
    this.pools = createInformer(opts.access, RESOURCES.ipAddressPool, {
      namespace: opts.namespace,
      logger: log,
      onAdd: () => this.#enqueue(POOLS),
      onUpdate: () => this.#enqueue(POOLS),
      onDelete: () => this.#enqueue(POOLS),
    });
    this.nodes = createInformer(opts.access, RESOURCES.node, {
      logger: log,
      // Only their addresses matter here; a node's status changes far more often than those.
      onAdd: () => this.#enqueue(NODES),
      onUpdate: (n, old) => {
        if (JSON.stringify(n.status?.addresses ?? []) !== JSON.stringify(old.status?.addresses ?? [])) this.#enqueue(NODES);
      },
      onDelete: () => this.#enqueue(NODES),
    });
  }

  /** Starts the informers (every replica keeps them warm, so a new leader starts at once). */
  start(): void {
    this.services.start();
    this.namespaces.start();
    this.pools.start();
    this.nodes.start();
  }

  async stop(): Promise<void> {
    this.#term?.queue.close();
    await Promise.all([this.services.stop(), this.namespaces.stop(), this.pools.stop(), this.nodes.stop()]);
  }

  /** Informers synced: for /readyz of every replica. */
  readiness(): Result<void, string> {
    for (const inf of [this.services, this.namespaces, this.pools, this.nodes]) {
      const r = inf.readiness();
      if (!r.ok) return err(`${inf.resource.kind}: ${r.error}`);
    }
    return ok(undefined);
  }

  /** One leadership term: restore, then process changes until signal aborts. */
  async lead(signal: AbortSignal): Promise<void> {
    const log = this.#opts.log;
    await Promise.all([this.services.synced, this.namespaces.synced, this.pools.synced, this.nodes.synced]);
    if (signal.aborted) return;
    const core = new ControllerCore({ loadBalancerClass: this.#opts.loadBalancerClass });
    const queue = new WorkQueue();
    core.updateNodes([...this.nodes.cache.values()]);
    core.updatePools([...this.pools.cache.values()]);
    const services = [...this.services.cache.values()];
    const restored = core.restore(services, (ns) => this.#namespaceLabels(ns));
    log.info({ restored: restored.restored, failed: restored.failed.length, pools: this.pools.cache.size }, 'restored assignments from Service status');
    for (const f of restored.failed) log.warn({ service: f.key }, f.message);
    this.#term = { core, queue };
    for (const s of services) queue.add(svcItem(serviceKeyOf(s)));
    queue.add(POOL_STATUS);
    try {
      // Decisions are synchronous; the status writes they lead to overlap (5000 Services would
      // otherwise wait for 5000 round trips one after the other).
      await queue.run((item) => this.#process(core, queue, item), signal, {
        concurrency: this.#opts.writeConcurrency ?? 16,
        onError: (item, e) => log.error({ item, err: e }, 'sync failed'),
      });
    } finally {
      queue.close();
      this.#term = undefined;
      this.#pendingStatus.clear();
    }
  }

  #enqueue(item: string): void {
    this.#term?.queue.add(item);
  }

  #enqueueNamespace(ns: string): void {
    for (const s of this.services.cache.values()) if (s.metadata?.namespace === ns) this.#enqueue(svcItem(serviceKeyOf(s)));
  }

  #namespaceLabels(ns: string): Labels {
    return this.namespaces.cache.get(ns)?.metadata?.labels ?? {};
  }

  async #process(core: ControllerCore, queue: WorkQueue, item: string): Promise<boolean> {
    if (item === POOLS) {
      for (const key of core.updatePools([...this.pools.cache.values()])) queue.add(svcItem(key));
      queue.add(POOL_STATUS);
      return true;
    }
    if (item === NODES) {
      for (const key of core.updateNodes([...this.nodes.cache.values()])) queue.add(svcItem(key));
      queue.add(POOL_STATUS);
      return true;
    }
    if (item === POOL_STATUS) return this.#writePools(core.poolPlans(new Date()));
    const key = item.slice(4);
    const pending = this.#pendingStatus.get(key);
    const svc = this.services.cache.has(key) ? (pending ?? this.services.cache.get(key)) : undefined;
    const plan = core.syncService(key, svc, this.#namespaceLabels(key.split('/')[0] ?? ''));
    const done = svc ? await this.#writeService(svc, plan) : true;
    for (const waiting of plan.wake) queue.add(svcItem(waiting));
    queue.addAfter(POOL_STATUS, this.#opts.poolStatusDelayMs ?? 500);
    return done;
  }

  async #writeService(svc: V1Service, plan: ServicePlan): Promise<boolean> {
    const { events, metrics, log } = this.#opts;
    for (const e of plan.events) {
      if (e.type === 'Warning') {
        events.warning(svc, e.reason as Capitalize<string>, e.message);
        if (e.reason === 'AllocationFailed') metrics.allocationFailures.inc({ reason: e.reason });
      } else events.normal(svc, e.reason as Capitalize<string>, e.message);
      log.info({ service: plan.key, reason: e.reason }, e.message);
    }
    if (plan.ingress === undefined) return true;
    const ref = { namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '' };
    // A merge patch replaces the whole ingress list; null removes it. The resourceVersion makes it
    // conditional: if the Service changed since the decision (a user edited its sharing key, say),
    // the write fails with 409 and the Service is decided again on what it is now.
    const written = await this.#serviceApi.patchStatus(ref, { loadBalancer: { ingress: plan.ingress.length ? plan.ingress.map((i) => ({ ...i })) : null } } as never, {
      resourceVersion: svc.metadata?.resourceVersion,
    });
    if (!written.ok) {
      if (written.error.code === 404) return true; // deleted meanwhile
      if (written.error.code === 409) {
        metrics.statusWrites.inc({ kind: 'service', result: 'conflict' });
        this.#pendingStatus.delete(plan.key);
        log.debug({ service: plan.key }, 'the Service changed while it was being decided; deciding again');
        return false;
      }
      metrics.statusWrites.inc({ kind: 'service', result: 'error' });
      log.warn({ service: plan.key, err: formatApiError(written.error) }, 'writing Service status failed; will retry');
      return false;
    }
    metrics.statusWrites.inc({ kind: 'service', result: 'ok' });
    metrics.allocations.inc({ result: plan.ingress.length ? 'assigned' : 'cleared' });
    this.#pendingStatus.set(plan.key, written.value);
    return true;
  }

  async #writePools(plans: readonly PoolPlan[]): Promise<boolean> {
    const { events, metrics, log, namespace } = this.#opts;
    let allDone = true;
    for (const plan of plans) {
      const ref = { namespace: plan.namespace || namespace, name: plan.name };
      const cached = this.pools.cache.get(`${ref.namespace}/${ref.name}`);
      if (!cached) continue;
      for (const e of plan.events) events.warning(cached, e.reason as Capitalize<string>, e.message);
      if (plan.status) {
        const r = await this.#poolApi.patchStatus(ref, plan.status);
        metrics.statusWrites.inc({ kind: 'pool', result: r.ok ? 'ok' : 'error' });
        if (!r.ok && r.error.code !== 404) {
          log.warn({ pool: plan.name, err: formatApiError(r.error) }, 'writing pool status failed; will retry');
          allDone = false;
        }
      }
      if (plan.finalizer) {
        const current = cached.metadata.finalizers ?? [];
        const finalizers = plan.finalizer === 'add' ? [...current, POOL_FINALIZER] : current.filter((f) => f !== POOL_FINALIZER);
        // resourceVersion makes the merge patch conditional: another writer's finalizer is never lost.
        const r = await this.#poolApi.patch(ref, { metadata: { finalizers, resourceVersion: cached.metadata.resourceVersion } });
        if (!r.ok && r.error.code !== 404) {
          log.warn({ pool: plan.name, err: formatApiError(r.error) }, `${plan.finalizer === 'add' ? 'adding' : 'removing'} the pool finalizer failed; will retry`);
          allDone = false;
        } else if (r.ok && plan.finalizer === 'remove') log.info({ pool: plan.name }, 'no Service uses the deleted pool any more: finalizer removed');
      }
    }
    this.#updateUsageMetrics();
    return allDone;
  }

  #updateUsageMetrics(): void {
    const core = this.#term?.core;
    if (!core) return;
    const { addressesInUse, addressesFree } = this.#opts.metrics;
    addressesInUse.reset();
    addressesFree.reset();
    for (const { pool, usage } of core.usage()) {
      for (const [family, u] of [['IPv4', usage.ipv4], ['IPv6', usage.ipv6]] as const) {
        addressesInUse.set({ pool, family }, Number(u.assigned));
        addressesFree.set({ pool, family }, Number(u.available));
      }
    }
  }
}
