// A list+watch cache of one resource that survives the API server going away.
//
// Lists, then watches from the list's resourceVersion; a watch the API server
// ends (its timeoutSeconds) is resumed from the last resourceVersion seen,
// bookmarks included, so a quiet resource's position stays fresh; a 410 Gone
// (that position was compacted away) lists again, and a relist turns objects
// that vanished meanwhile into delete callbacks. Beyond client-go's reflector:
// - a failed list or watch is retried with capped exponential backoff,
//   keeping the cache (a speaker keeps announcing what it last knew,
//   Cilium#40735);
// - `healthy` (a watch is established now) and `synced` (the first list was
//   delivered); the transport ends a watch whose API server stopped answering
//   within seconds (transport/liveness.ts), so `healthy` goes false quickly;
// - a handler that throws is logged and does not tear the stream down;
// - update callbacks get the previous object too; a relist calls onUpdate
//   only for objects whose resourceVersion changed;
// - objects carry apiVersion/kind (built-in kinds omit them in lists).
import { err, ok, type Result } from '../result.ts';
import { silentLogger, type Logger } from '../observability/index.ts';
import { formatApiError, type ApiError } from './api-error.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { objectClient, type ObjectClient } from './client.ts';
import { collectionPath, objectKey, type ApiObject, type Resource } from './resources.ts';
import type { ApiAccess, WatchEvent } from './transport/index.ts';

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
export function createInformer<T extends ApiObject>(access: ApiAccess, resource: Resource<T>, opts: InformerOptions<T> = {}): Informer<T> {
  return new ListWatchInformer(access, resource, opts);
}

class ListWatchInformer<T extends ApiObject> implements Informer<T> {
  readonly resource: Resource<T>;
  readonly synced: Promise<void>;
  private readonly access: ApiAccess;
  private readonly objects = new Map<string, T>();
  private readonly view = new MapView(this.objects);
  private readonly handlers: InformerHandlers<T>;
  private readonly client: ObjectClient<T>;
  private readonly path: string;
  private readonly namespace: string | undefined;
  private readonly selectors: { labelSelector?: string | undefined; fieldSelector?: string | undefined };
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private readonly stopping = new AbortController();
  private state: 'new' | 'running' | 'stopped' = 'new';
  private loop: Promise<void> = Promise.resolve();
  private wakeFromSleep: (() => void) | undefined;
  /** Where the watch resumes; empty: list first. */
  private resourceVersion = '';
  /** Watch events applied so far (bookmarks included). */
  private events = 0;
  private listed = false;
  private isSynced = false;
  private resolveSynced!: () => void;
  private rejectSynced!: (e: Error) => void;
  private isHealthy = false;
  private lastError: ApiError | undefined;
  private unhealthySince: number | undefined;

  constructor(access: ApiAccess, resource: Resource<T>, opts: InformerOptions<T>) {
    this.access = access;
    this.resource = resource;
    this.handlers = { onAdd: opts.onAdd, onUpdate: opts.onUpdate, onDelete: opts.onDelete };
    this.client = objectClient(access, resource);
    this.path = collectionPath(resource, opts.namespace);
    this.namespace = opts.namespace;
    this.selectors = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
    this.backoff = new Backoff(opts.backoff);
    this.log = (opts.logger ?? silentLogger).child({ informer: resource.plural, ...(opts.namespace ? { namespace: opts.namespace } : {}) });
    this.synced = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve;
      this.rejectSynced = reject;
    });
    this.synced.catch(() => {}); // rejection is for those who await it, not an unhandled error
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
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    this.isHealthy = false;
    this.stopping.abort();
    this.wakeFromSleep?.();
    if (wasRunning) await this.loop;
    if (!this.isSynced) this.rejectSynced(new Error(`${this.resource.plural} informer stopped before it synced`));
  }

  private async run(): Promise<void> {
    // A 410 right after a list would make the next list pointless at once: only then does it wait.
    let expiredRightAfterList = false;
    while (this.state === 'running') {
      const listedNow = this.resourceVersion === '';
      if (listedNow && !(await this.list())) {
        await this.sleep(this.backoff.next());
        continue;
      }
      const eventsBefore = this.events;
      const watchedSince = performance.now();
      const watched = await this.watch();
      if (this.state !== 'running') return;
      this.markSynced();
      // The API server ended it on schedule: resume where it stopped. Unless it ended at once and empty, which
      // something between us and the API server does in a loop (client-go's reflector: "very short watch").
      const veryShort = performance.now() - watchedSince < 1_000 && this.events === eventsBefore;
      if (watched.ok && !veryShort) continue;
      if (watched.ok) {
        this.failed({ code: undefined, reason: 'ShortWatch', message: 'the watch ended at once without an event' });
        await this.sleep(this.backoff.next());
        continue;
      }
      if (watched.error.code === 410) {
        this.log.debug({ resourceVersion: this.resourceVersion, error: formatApiError(watched.error) }, 'watch position expired; listing again');
        this.resourceVersion = '';
        if (expiredRightAfterList && listedNow) await this.sleep(this.backoff.next());
        expiredRightAfterList = listedNow;
        continue;
      }
      expiredRightAfterList = false;
      this.failed(watched.error);
      await this.sleep(this.backoff.next());
    }
  }

  private async list(): Promise<boolean> {
    const r = await this.client.list({ ...this.selectors, namespace: this.namespace, signal: this.stopping.signal });
    if (this.state !== 'running') return false;
    if (!r.ok) {
      this.failed(r.error);
      return false;
    }
    this.log.debug({ objects: r.value.items.length, resourceVersion: r.value.resourceVersion }, 'listed');
    this.replace(r.value.items);
    this.resourceVersion = r.value.resourceVersion;
    this.listed = true;
    return true;
  }

  // After the first list, once the watch that follows it opened or failed: so right after `await synced`,
  // `healthy` and readiness() say whether events are flowing, not merely that a watch is on its way.
  private markSynced(): void {
    if (!this.listed || this.isSynced || this.state !== 'running') return;
    this.isSynced = true;
    this.log.debug({ objects: this.objects.size }, 'synced');
    this.resolveSynced();
  }

  private watch(): Promise<Result<void, ApiError>> {
    return this.access.watch<T>(this.path, {
      query: { resourceVersion: this.resourceVersion, ...this.selectors },
      signal: this.stopping.signal,
      onOpen: () => this.established(),
      onEvent: (e) => this.apply(e),
    });
  }

  private apply(e: WatchEvent<T>): void {
    if (this.state !== 'running') return;
    this.events++;
    const rv = e.object.metadata?.resourceVersion;
    if (e.type === 'DELETED') this.deleted(e.object);
    else if (e.type !== 'BOOKMARK') this.addedOrUpdated(e.object);
    if (rv) this.resourceVersion = rv;
  }

  // A relist: vanished objects are deletes (with their last known state), the rest adds or updates.
  private replace(items: readonly T[]): void {
    const listed = new Set(items.map((o) => objectKey(o)));
    for (const [key, old] of [...this.objects]) {
      if (listed.has(key)) continue;
      this.objects.delete(key);
      this.call('onDelete', () => this.handlers.onDelete?.(old));
    }
    for (const item of items) this.addedOrUpdated(item);
  }

  private addedOrUpdated(obj: T): void {
    const key = objectKey(this.stamp(obj));
    const old = this.objects.get(key);
    if (old && old.metadata?.resourceVersion !== undefined && old.metadata.resourceVersion === obj.metadata?.resourceVersion) return;
    this.objects.set(key, obj);
    if (old) this.call('onUpdate', () => this.handlers.onUpdate?.(obj, old));
    else this.call('onAdd', () => this.handlers.onAdd?.(obj));
  }

  private deleted(obj: T): void {
    const key = objectKey(this.stamp(obj));
    if (!this.objects.delete(key)) return;
    this.call('onDelete', () => this.handlers.onDelete?.(obj));
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
    this.markSynced();
  }

  private failed(e: ApiError): void {
    if (this.state !== 'running') return;
    const fields = { error: formatApiError(e), cachedObjects: this.objects.size };
    if (this.isHealthy || this.unhealthySince === undefined) this.log.warn(fields, 'list/watch failed; keeping the cache and retrying');
    else this.log.debug(fields, 'list/watch still failing');
    this.isHealthy = false;
    this.lastError = e;
    this.unhealthySince ??= Date.now();
  }

  private sleep(ms: number): Promise<void> {
    if (this.state !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeFromSleep = done;
    });
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
