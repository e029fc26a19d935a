// The speaker's view of the API: one informer per kind election reads, feeding
// the cluster model, plus the ServiceL2Status objects it writes. The model may
// start from disk; each kind switches to the API's view when its informer has
// listed once, and keeps its last content while the API server is away.
import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { SPEAKER_POD_LABELS, type IPAddressPool, type L2Advertisement, type ServiceL2Status } from '../../shared/api/index.ts';
import { formatConfigError } from '../../shared/config/index.ts';
import { createInformer, RESOURCES, type ApiObject, type Informer, type Resource, type ApiAccess } from '../../shared/k8s/index.ts';
import type { Logger } from '../../shared/observability/index.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import type { ClusterModel, ModelKind, ModelUpdate } from '../core/index.ts';

export interface ApiWatchOptions {
  readonly access: ApiAccess;
  /** The install namespace: pools, advertisements, speaker pods and ServiceL2Status live here. */
  readonly namespace: string;
  readonly model: ClusterModel;
  readonly log: Logger;
  /** A kind of election input changed (or was listed for the first time). */
  readonly onChange: (kind: ModelKind) => void;
  readonly onNodeDeleted: (name: string) => void;
  /** A ServiceL2Status changed (ours or another speaker's). */
  readonly onStatusChange: () => void;
  /** Every informer has listed once (see `complete`). */
  readonly onComplete: () => void;
}

export class ApiWatch {
  readonly services: Informer<V1Service>;
  readonly statuses: Informer<ServiceL2Status>;
  readonly #informers: Array<Informer<ApiObject>> = [];
  readonly #opts: ApiWatchOptions;
  #listed = 0;

  constructor(opts: ApiWatchOptions) {
    this.#opts = opts;
    const all = undefined;
    this.services = this.#watch<V1Service>('services', RESOURCES.service, all);
    this.#watch<V1EndpointSlice>('endpointSlices', RESOURCES.endpointSlice, all);
    this.#watch<V1Node>('nodes', RESOURCES.node, all);
    this.#watch<L2Advertisement>('advertisements', RESOURCES.l2Advertisement, opts.namespace);
    this.#watch<IPAddressPool>('pools', RESOURCES.ipAddressPool, opts.namespace);
    this.#watch<V1Pod>('speakerPods', RESOURCES.pod, opts.namespace, Object.entries(SPEAKER_POD_LABELS).map(([k, v]) => `${k}=${v}`).join(','));
    const statusChanged = (): void => opts.onStatusChange();
    this.statuses = createInformer(opts.access, RESOURCES.serviceL2Status, {
      namespace: opts.namespace,
      logger: opts.log,
      onAdd: statusChanged,
      onUpdate: statusChanged,
      onDelete: statusChanged,
    });
    this.#informers.push(this.statuses as Informer<ApiObject>);
    this.statuses.synced.then(
      () => this.#listedOne('statuses'),
      () => {},
    );
  }

  start(): void {
    for (const informer of this.#informers) informer.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.#informers.map((i) => i.stop()));
  }

  /** Every informer has listed once: the view is the API's, complete (it may be stale while the API is away). */
  get complete(): boolean {
    return this.#listed === this.#informers.length;
  }

  readiness(): Result<void, string> {
    const failing = this.#informers.map((i) => i.readiness()).filter((r) => !r.ok);
    return failing.length === 0 ? ok(undefined) : err(failing.map((r) => (r.ok ? '' : r.error)).join('; '));
  }

  #listedOne(kind: ModelKind | 'statuses'): void {
    this.#listed++;
    if (!this.complete) return;
    this.#opts.log.info({ last: kind }, 'every informer has listed: the view of the cluster is the API\'s');
    this.#opts.onComplete();
  }

  #watch<T extends ApiObject>(kind: ModelKind, resource: Resource<T>, namespace: string | undefined, labelSelector?: string): Informer<T> {
    const { model, log, onChange } = this.#opts;
    const apply = (update: ModelUpdate): void => {
      const what = update.keptLastValid ? 'keeping its last valid version' : 'ignored';
      for (const e of update.errors) log.warn({ kind: e.kind, object: `${e.namespace ?? ''}/${e.name ?? ''}`, field: e.field }, `${what}: ${formatConfigError(e)}`);
      if (update.changed) onChange(kind);
    };
    const informer = createInformer(this.#opts.access, resource, {
      ...(namespace === undefined ? {} : { namespace }),
      ...(labelSelector === undefined ? {} : { labelSelector }),
      logger: log,
      onAdd: (o) => apply(model.set(kind, o)),
      onUpdate: (o) => apply(model.set(kind, o)),
      onDelete: (o) => {
        apply(model.delete(kind, o));
        if (kind === 'nodes' && o.metadata?.name) this.#opts.onNodeDeleted(o.metadata.name);
      },
    });
    informer.synced.then(
      () => {
        // What came from disk and is gone from the API goes now: the list has no delete events for it.
        apply(model.replace(kind, informer.cache.values()));
        log.debug({ kind, objects: informer.cache.size }, 'listed');
        this.#listedOne(kind);
      },
      () => {},
    );
    this.#informers.push(informer as unknown as Informer<ApiObject>);
    return informer;
  }
}
