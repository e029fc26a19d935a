// A list+watch cache of one resource that survives the API server going away.
//
// Built on client-node's ListWatch (what makeInformer returns; used directly
// because makeInformer cannot pass a field selector), which lists, watches,
// relists after 410 Gone and turns a relist into delete callbacks for objects
// that vanished. What it lacks, this adds:
// - it stops for good on the first list or watch error: we restart it with
//   capped exponential backoff, keeping the cache (a speaker keeps announcing
//   what it last knew, Cilium#40735);
// - `healthy` (a watch is established) and `synced` (the first list delivered);
// - an exception thrown by a handler is swallowed by client-node's Watch and
//   aborts the event mid-way: handlers run inside try/catch and are logged;
// - update callbacks get the previous object too;
// - list items carry apiVersion/kind (built-in kinds omit them in lists);
// - watch bookmarks, so a quiet resource's resourceVersion stays fresh.
import * as k8s from '@kubernetes/client-node';
import { err, ok, type Result } from '../result.ts';
import { silentLogger, type Logger } from '../observability/index.ts';
import { formatApiError, toApiError, type ApiError } from './api-error.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { objectClient, type ObjectClient } from './client.ts';
import { collectionPath, objectKey, type ApiObject, type Resource } from './resources.ts';

/** Typed callbacks; they run synchronously in event order and must not mutate what they get. */
export interface InformerHandlers<T> {
  onAdd?: (obj: T) => void;
  /** old is the object as the cache held it before. */
  onUpdate?: (obj: T, old: T) => void;
  /** obj is the last state seen (for deletes found by a relist: the state before the outage). */
  onDelete?: (obj: T) => void;
}

/** What to watch and how to retry; handlers are given here so none misses the first list. */
export interface InformerOptions<T> extends InformerHandlers<T> {
  /** Only this namespace (namespaced resources); all when omitted. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Restart delays after a failed list or watch (default 0.5 s doubling to 10 s). */
  backoff?: BackoffOptions;
  logger?: Logger;
}

/** Read-only view of an informer's objects, keyed by objectKey (`namespace/name` or `name`). Do not mutate what it returns. */
export interface ObjectCache<T> {
  get(key: string): T | undefined;
  has(key: string): boolean;
  keys(): IterableIterator<string>;
  values(): IterableIterator<T>;
  readonly size: number;
}

/** A list+watch cache of one resource that restarts itself and keeps its content while the API server is away. */
export interface Informer<T> {
  readonly resource: Resource<T & ApiObject>;
  readonly cache: ObjectCache<T>;
  /** Resolves once the first list has been delivered to the handlers; rejects if stopped before. */
  readonly synced: Promise<void>;
  /** A watch is established now. While false the cache keeps its last content. */
  readonly healthy: boolean;
  /** ok when synced and healthy; else why not, for a /readyz check. */
  readiness(): Result<void, string>;
  /** Starts listing and watching (idempotent). */
  start(): void;
  /** Stops for good; the cache keeps its content. */
  stop(): Promise<void>;
}

/** An informer on one resource; call start(), then await synced. */
export function createInformer<T extends ApiObject>(kc: k8s.KubeConfig, resource: Resource<T>, opts: InformerOptions<T> = {}): Informer<T> {
  return new RestartingInformer(kc, resource, opts);
}

class ListFailed extends Error {
  readonly apiError: ApiError;
  constructor(e: ApiError) {
    super(formatApiError(e));
    this.apiError = e;
  }
}

interface WatchHooks {
  established(): void;
  connectFailed(e: ApiError): void;
}

// Observes client-node's Watch from the inside: ListWatch treats a timed-out
// connect as a routine reconnect and never reports it, but for us it means the
// API server is unreachable (blackholed rather than refusing).
class ObservedWatch extends k8s.Watch {
  closed = false;
  private readonly hooks: WatchHooks;

  constructor(kc: k8s.KubeConfig, hooks: WatchHooks) {
    super(kc);
    this.hooks = hooks;
  }

  override async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    // ListWatch may come back from a reconnect delay after stop(): start nothing then.
    if (this.closed) {
      done(null);
      return new AbortController();
    }
    let established = false;
    let finished = false;
    const controller = await super.watch(path, { ...query, allowWatchBookmarks: true }, callback, (e: unknown) => {
      finished = true;
      if (!established && (e as { name?: string } | null)?.name === 'TimeoutError') this.hooks.connectFailed(toApiError(e));
      done(e);
    });
    // Watch.watch resolves after the response headers, or after calling done on failure.
    if (!finished) {
      established = true;
      this.hooks.established();
    }
    return controller;
  }
}

class RestartingInformer<T extends ApiObject> implements Informer<T> {
  readonly resource: Resource<T>;
  readonly synced: Promise<void>;
  private readonly objects = new Map<string, T>();
  private readonly view = new MapView(this.objects);
  private readonly handlers: InformerHandlers<T>;
  private readonly client: ObjectClient<T>;
  private readonly listOptions: { namespace?: string | undefined; labelSelector?: string | undefined; fieldSelector?: string | undefined };
  private readonly listWatch: k8s.ListWatch<k8s.KubernetesObject>;
  private readonly observedWatch: ObservedWatch;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private restartTimer: NodeJS.Timeout | undefined;
  private attempting = false;
  private listed = false;
  private isSynced = false;
  private resolveSynced!: () => void;
  private rejectSynced!: (e: Error) => void;
  private isHealthy = false;
  private lastError: ApiError | undefined;
  private unhealthySince: number | undefined;

  constructor(kc: k8s.KubeConfig, resource: Resource<T>, opts: InformerOptions<T>) {
    this.resource = resource;
    this.handlers = { onAdd: opts.onAdd, onUpdate: opts.onUpdate, onDelete: opts.onDelete };
    this.client = objectClient(kc, resource);
    this.listOptions = { namespace: opts.namespace, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
    this.backoff = new Backoff(opts.backoff);
    this.log = (opts.logger ?? silentLogger).child({ informer: resource.plural, ...(opts.namespace ? { namespace: opts.namespace } : {}) });
    this.synced = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve;
      this.rejectSynced = reject;
    });
    this.synced.catch(() => {}); // rejection is for those who await it, not an unhandled error
    this.observedWatch = new ObservedWatch(kc, {
      established: () => this.established(),
      connectFailed: (e) => this.failed(e, false),
    });
    this.listWatch = new k8s.ListWatch(
      collectionPath(resource, opts.namespace),
      this.observedWatch,
      () => this.list(),
      false,
      opts.labelSelector,
      opts.fieldSelector,
    );
    this.listWatch.on('add', (o) => this.added(o as unknown as T));
    this.listWatch.on('update', (o) => this.updated(o as unknown as T));
    this.listWatch.on('delete', (o) => this.deleted(o as unknown as T));
    this.listWatch.on('error', (e: unknown) => this.failed(e instanceof ListFailed ? e.apiError : toApiError(e), true));
  }

  get healthy(): boolean {
    return this.isHealthy;
  }

  get cache(): ObjectCache<T> {
    return this.view;
  }

  readiness(): Result<void, string> {
    const what = `${this.resource.plural} informer`;
    const why = this.lastError ? `: ${formatApiError(this.lastError)}` : '';
    if (!this.isSynced) return err(`${what}: not synced yet${why}`);
    if (!this.isHealthy) {
      const since = this.unhealthySince === undefined ? '' : ` since ${new Date(this.unhealthySince).toISOString()}`;
      return err(`${what}: watch down${since}${why}; serving ${this.objects.size} cached objects`);
    }
    return ok(undefined);
  }

  start(): void {
    if (this.state !== 'new') return;
    this.state = 'running';
    void this.attempt();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.restartTimer);
    this.observedWatch.closed = true;
    this.isHealthy = false;
    await this.listWatch.stop();
    if (!this.isSynced) this.rejectSynced(new Error(`${this.resource.plural} informer stopped before it synced`));
  }

  private async list(): Promise<k8s.KubernetesListObject<k8s.KubernetesObject>> {
    const r = await this.client.list(this.listOptions);
    if (!r.ok) throw new ListFailed(r.error);
    this.log.debug({ objects: r.value.items.length, resourceVersion: r.value.resourceVersion }, 'listed');
    this.listed = true;
    return { metadata: { resourceVersion: r.value.resourceVersion }, items: r.value.items as unknown as k8s.KubernetesObject[] };
  }

  private async attempt(): Promise<void> {
    if (this.state !== 'running') return;
    if (this.attempting) return this.scheduleRestart();
    this.attempting = true;
    try {
      // Resumes the watch from the last resourceVersion, or lists first if there is none (first start, after 410 Gone).
      await this.listWatch.start();
    } catch (e) {
      this.failed(toApiError(e), true);
    } finally {
      this.attempting = false;
    }
    // ListWatch delivers a list to the handlers before it opens the watch that start() waits for.
    if (this.listed && !this.isSynced && this.state === 'running') {
      this.isSynced = true;
      this.log.debug({ objects: this.objects.size }, 'synced');
      this.resolveSynced();
    }
  }

  private established(): void {
    if (this.state !== 'running') return;
    if (!this.isHealthy && this.unhealthySince !== undefined) {
      this.log.info({ downMs: Date.now() - this.unhealthySince, objects: this.objects.size }, 'watch re-established');
    }
    this.isHealthy = true;
    this.lastError = undefined;
    this.unhealthySince = undefined;
    this.backoff.reset();
  }

  // stopped: ListWatch gave up and must be started again; otherwise it is already reconnecting.
  private failed(e: ApiError, stopped: boolean): void {
    if (this.state !== 'running') return;
    const fields = { error: formatApiError(e), cachedObjects: this.objects.size };
    if (this.isHealthy || this.unhealthySince === undefined) this.log.warn(fields, 'list/watch failed; keeping the cache and retrying');
    else this.log.debug(fields, 'list/watch still failing');
    this.isHealthy = false;
    this.lastError = e;
    this.unhealthySince ??= Date.now();
    if (stopped) this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.state !== 'running' || this.restartTimer !== undefined) return;
    const delay = this.backoff.next();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.attempt();
    }, delay);
  }

  private added(obj: T): void {
    if (this.state === 'stopped') return; // a list that was in flight when stop() came
    const key = objectKey(this.stamp(obj));
    const old = this.objects.get(key);
    this.objects.set(key, obj);
    if (old) this.call('onUpdate', () => this.handlers.onUpdate?.(obj, old));
    else this.call('onAdd', () => this.handlers.onAdd?.(obj));
  }

  private updated(obj: T): void {
    if (this.state === 'stopped') return;
    const key = objectKey(this.stamp(obj));
    const old = this.objects.get(key) ?? obj;
    this.objects.set(key, obj);
    this.call('onUpdate', () => this.handlers.onUpdate?.(obj, old));
  }

  private deleted(obj: T): void {
    if (this.state === 'stopped') return;
    this.objects.delete(objectKey(obj));
    this.call('onDelete', () => this.handlers.onDelete?.(this.stamp(obj)));
  }

  private stamp(obj: T): T {
    obj.apiVersion ??= this.resource.apiVersion;
    obj.kind ??= this.resource.kind;
    return obj;
  }

  // A throwing handler is a bug in the caller; it must not tear the watch stream down with it.
  private call(which: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e, handler: which }, 'informer handler threw');
    }
  }
}

class MapView<T> implements ObjectCache<T> {
  private readonly map: ReadonlyMap<string, T>;
  constructor(map: ReadonlyMap<string, T>) {
    this.map = map;
  }
  get(key: string): T | undefined {
    return this.map.get(key);
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
  values(): IterableIterator<T> {
    return this.map.values();
  }
  get size(): number {
    return this.map.size;
  }
}
