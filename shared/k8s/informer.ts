// A list+watch cache of one resource that survives the API server going away.
//
// Lists, then watches from the list's resourceVersion; a watch the API server
// ends (its timeoutSeconds) is resumed from the last resourceVersion seen,
// bookmarks included, so a quiet resource's position stays fresh; a relist
// turns objects that vanished meanwhile into delete callbacks.
//
// How it gets the whole state (client-go's reflector rules, tools/cache/reflector.go):
// - streamed, where the API server can (WatchList, KEP-3157: a watch with
//   sendInitialEvents=true sends every object as an ADDED event, then a
//   bookmark marked k8s.io/initial-events-end, then goes on as a watch): it
//   comes from the API server's watch cache, not from etcd, and it arrives
//   one object at a time, so the informer never holds a whole list of whole
//   objects (with `transform`, only trimmed ones). At 5 000 Services that is
//   ≈45 MB less RSS than one list (docs/benchmarks.md). Where the server
//   refuses it (the WatchList feature gate off: 400/422), it lists instead;
// - which version: the initial state, relist() and a recovery from "too
//   large" ask for the latest (no resourceVersion: a consistent read, which
//   the watch cache serves once it has caught up with etcd); after a 410 (the
//   watch position was compacted away) the state "not older than" the last
//   version seen (resourceVersionMatch=NotOlderThan): never back in time;
// - listing instead: the first list asks for resourceVersion "0" (any
//   version, from the watch cache: a DaemonSet rollout costs the API server
//   N reads of its memory, not N range reads of etcd; older than etcd is
//   fine, the watch that follows catches up, and nothing newer has been seen
//   yet that it could go behind); after a 410, "not older than" the last
//   version seen, in one page (so the watch cache can serve it); after "too
//   large resource version" (504 ResourceVersionTooLarge: this API server
//   has not got that far, after an etcd restore or behind another HA API
//   server) or a list at a version that failed, a quorum read of etcd.

// Beyond client-go's reflector:
// - a failed list or watch is retried with the shared backoff (backoff.ts),
//   keeping the cache (a speaker keeps announcing what it last knew,
//   Cilium#40735), and waits at least as long as a 429's Retry-After;
// - `healthy` (a watch is established now) and `synced` (the first list was
//   delivered); the transport ends a watch whose API server stopped answering
//   within seconds (transport/liveness.ts), so `healthy` goes false quickly;
// - `transform` trims every object before it is cached or handed on, so the
//   cache holds only the fields the program reads (client-go's TransformFunc);
// - a handler that throws is logged and does not tear the stream down;
// - update callbacks get the previous object too; a relist calls onUpdate
//   only for objects whose resourceVersion changed;
// - objects carry apiVersion/kind (built-in kinds omit them in lists).
import { err, ok, type Result } from '../result.ts';
import { silentLogger, type Logger } from '../observability/index.ts';
import { formatApiError, isExpired, isResourceVersionTooLarge, type ApiError } from './api-error.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { objectClient, type ListOptions, type ObjectClient } from './client.ts';
import { collectionPath, objectKey, type ApiObject, type Resource } from './resources.ts';
import type { ApiAccess, Query, WatchEvent } from './transport/index.ts';

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
  /**
   * Applied to every listed or watched object before it is cached or given to a handler: return the fields the
   * program reads (drop managedFields, annotations it ignores …). Must keep metadata.name and namespace; the
   * informer keeps metadata.resourceVersion itself. Must not mutate its argument.
   */
  transform?: (obj: T) => T;
  /** Restart delays after a failed list or watch (default: backoff.ts's, like client-go's). */
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
  /**
   * Lists again now with a quorum read (the latest state in etcd, not the watch cache), delivers the changes to
   * the handlers, and watches on from there; resolves once that list is in the cache (retrying while the API
   * server fails), rejects if the informer stops or the signal aborts first.
   */
  relist(signal?: AbortSignal): Promise<void>;
  /** Starts listing and watching (idempotent). */
  start(): void;
  /** Stops for good; the cache keeps its content. */
  stop(): Promise<void>;
}

/** An informer on one resource; call start(), then await synced. */
export function createInformer<T extends ApiObject>(access: ApiAccess, resource: Resource<T>, opts: InformerOptions<T> = {}): Informer<T> {
  return new ListWatchInformer(access, resource, opts);
}

/** Which state: any version (lists only), not older than what was seen, or the latest (a quorum or consistent read). */
type SyncKind = 'any' | 'notOlderThan' | 'latest';

/**
 * A watch that lasted this long without one event is suspect: the API server sends a bookmark about every minute
 * and 2 s before the watch's end (k8s.io/apiserver cacher, cacheWatcher.nextBookmarkTime), even when nothing changes.
 */
const SILENT_WATCH_MS = 70_000;

/** The bookmark that ends a streamed initial state (metav1.InitialEventsAnnotationKey). */
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

/** A streamed initial state in progress: what it has delivered so far. */
interface Streaming {
  readonly kind: SyncKind;
  readonly startedAs: number;
  readonly seen: Set<string>;
}

interface RelistWaiter {
  /** Syncs (lists or streams) started after this one was asked for satisfy it. */
  readonly askedAtSync: number;
  resolve(): void;
  reject(e: Error): void;
}

class ListWatchInformer<T extends ApiObject> implements Informer<T> {
  readonly resource: Resource<T>;
  readonly synced: Promise<void>;
  private readonly access: ApiAccess;
  private readonly objects = new Map<string, T>();
  private readonly view = new MapView(this.objects);
  private readonly handlers: InformerHandlers<T>;
  private readonly transform: ((obj: T) => T) | undefined;
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
  /** The last resourceVersion seen (list or event): where the watch resumes and what a relist may not go behind. */
  private resourceVersion = '';
  /** The whole state is due before the next plain watch, and which. */
  private syncDue: SyncKind | undefined = 'latest';
  /** Syncs started so far; relist() waiters are settled by one that started after they asked. */
  private syncsStarted = 0;
  private relistWaiters: RelistWaiter[] = [];
  /** Whether the API server streams the initial state (unknown until it is tried). */
  private streamingSupported: boolean | undefined;
  private streaming: Streaming | undefined;
  /** Ends the open watch early (a relist was asked for). */
  private watchAbort: AbortController | undefined;
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
    this.transform = opts.transform;
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

  relist(signal?: AbortSignal): Promise<void> {
    if (this.state === 'stopped') return Promise.reject(new Error(`${this.resource.plural} informer stopped`));
    return new Promise<void>((resolve, reject) => {
      const waiter: RelistWaiter = {
        askedAtSync: this.syncsStarted,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = (): void => {
        this.relistWaiters = this.relistWaiters.filter((w) => w !== waiter);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('relist abandoned'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.relistWaiters.push(waiter);
      this.syncDue = 'latest';
      this.watchAbort?.abort();
      this.wakeFromSleep?.();
    });
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
    for (const w of this.relistWaiters.splice(0)) w.reject(new Error(`${this.resource.plural} informer stopped`));
  }

  private async run(): Promise<void> {
    // A 410 right after a sync would make the next sync pointless at once: only then does it wait.
    let expiredRightAfterSync = false;
    while (this.state === 'running') {
      const syncing = this.syncDue;
      const eventsBefore = this.events;
      let watchedSince = performance.now();
      let watched: Result<void, ApiError>;
      if (syncing !== undefined && this.streamingSupported !== false) {
        watched = await this.stream(syncing);
        const incomplete = this.streaming !== undefined;
        this.streaming = undefined;
        if (this.state !== 'running') return;
        if (incomplete && !watched.ok && !this.watchAbort?.signal.aborted) {
          if (watched.error.code === 400 || watched.error.code === 422) {
            // The WatchList feature gate is off on this API server: lists from now on.
            this.log.info({ error: formatApiError(watched.error) }, 'the API server does not stream initial state; listing instead');
            this.streamingSupported = false;
            if (this.syncDue === 'latest' && !this.listed && this.relistWaiters.length === 0) this.syncDue = 'any';
            continue;
          }
          if (this.cannotServe(watched.error, syncing)) continue;
        }
      } else {
        if (syncing !== undefined) {
          const listed = await this.list(syncing);
          if (this.state !== 'running') return;
          if (!listed.ok) {
            if (this.cannotServe(listed.error, syncing)) continue;
            await this.sleep(this.backoff.next(listed.error.retryAfterMs));
            continue;
          }
        }
        watchedSince = performance.now();
        watched = await this.watch({ resourceVersion: this.resourceVersion });
      }
      if (this.state !== 'running') return;
      this.markSynced();
      // relist() ended the watch: sync as asked, nothing failed.
      if (this.watchAbort?.signal.aborted) continue;
      const synced = syncing !== undefined && this.syncDue === undefined;
      // The API server ended it on schedule: resume where it stopped. Unless it ended at once and empty, which
      // something between us and the API server does in a loop (client-go's reflector: "very short watch").
      const lasted = performance.now() - watchedSince;
      const silent = this.events === eventsBefore;
      const veryShort = lasted < 1_000 && silent;
      if (watched.ok && silent && lasted >= SILENT_WATCH_MS && this.resourceVersion) {
        // Not even a bookmark in a full watch: this API server has not got as far as the version we watch from (an
        // etcd restored from a backup; it waits for that version in silence instead of answering "too large").
        // A sync not older than it brings the 504 that sends us to the latest state (or, where nothing is wrong,
        // costs one read of the watch cache).
        this.log.info({ resourceVersion: this.resourceVersion, lastedMs: Math.round(lasted) }, 'a whole watch without a bookmark; syncing again');
        this.syncDue = 'notOlderThan';
        continue;
      }
      if (watched.ok && !veryShort) continue;
      if (watched.ok) {
        this.failed({ code: undefined, reason: 'ShortWatch', message: 'the watch ended at once without an event' });
        await this.sleep(this.backoff.next());
        continue;
      }
      if (isExpired(watched.error) || isResourceVersionTooLarge(watched.error)) {
        this.log.debug({ resourceVersion: this.resourceVersion, error: formatApiError(watched.error) }, 'watch position unavailable; syncing again');
        this.syncDue = isExpired(watched.error) && this.resourceVersion ? 'notOlderThan' : 'latest';
        if (expiredRightAfterSync && synced) await this.sleep(this.backoff.next());
        expiredRightAfterSync = synced;
        continue;
      }
      expiredRightAfterSync = false;
      this.failed(watched.error);
      await this.sleep(this.backoff.next(watched.error.retryAfterMs));
    }
  }

  /**
   * A sync that failed because that version cannot be served here (compacted: 410; beyond this API server: too
   * large): the latest state instead, at once; true if that is what happens next.
   */
  private cannotServe(e: ApiError, syncing: SyncKind): boolean {
    if (!(isExpired(e) || isResourceVersionTooLarge(e))) return false;
    this.syncDue = 'latest';
    return syncing !== 'latest';
  }

  /** A watch that first streams the whole state (sendInitialEvents); the state is applied at its end bookmark (apply). */
  private stream(kind: SyncKind): Promise<Result<void, ApiError>> {
    this.streaming = { kind, startedAs: ++this.syncsStarted, seen: new Set() };
    return this.watch({
      sendInitialEvents: true,
      resourceVersionMatch: 'NotOlderThan',
      // Unset: the latest state, which the watch cache serves once it has caught up with etcd (a consistent read).
      resourceVersion: kind === 'notOlderThan' ? this.resourceVersion : undefined,
    });
  }

  private async list(kind: SyncKind): Promise<Result<void, ApiError>> {
    const startedAs = ++this.syncsStarted;
    const version: Pick<ListOptions, 'resourceVersion' | 'resourceVersionMatch' | 'limit'> =
      kind === 'any'
        ? { resourceVersion: '0' }
        : kind === 'notOlderThan' && this.resourceVersion
          ? // One page: with a limit, an API server without the list-from-cache snapshots would read etcd.
            { resourceVersion: this.resourceVersion, resourceVersionMatch: 'NotOlderThan', limit: 0 }
          : {};
    const r = await this.client.list({ ...this.selectors, ...version, namespace: this.namespace, signal: this.stopping.signal });
    if (this.state !== 'running') return err({ code: undefined, reason: 'Aborted', message: 'stopped' });
    if (!r.ok) {
      this.failed(r.error);
      return r;
    }
    this.log.debug({ objects: r.value.items.length, resourceVersion: r.value.resourceVersion, kind }, 'listed');
    this.replace(r.value.items);
    this.haveState(kind, startedAs, r.value.resourceVersion);
    return ok(undefined);
  }

  /** A whole state is in the cache (a list, or a stream's initial events): resume from its version, settle relist() waiters. */
  private haveState(kind: SyncKind, startedAs: number, resourceVersion: string): void {
    this.resourceVersion = resourceVersion;
    this.listed = true;
    if (this.syncDue === kind) this.syncDue = undefined;
    if (kind === 'latest') {
      const satisfied = this.relistWaiters.filter((w) => w.askedAtSync < startedAs);
      this.relistWaiters = this.relistWaiters.filter((w) => w.askedAtSync >= startedAs);
      for (const w of satisfied) w.resolve();
    }
  }

  // After the first list, once the watch that follows it opened or failed: so right after `await synced`,
  // `healthy` and readiness() say whether events are flowing, not merely that a watch is on its way.
  private markSynced(): void {
    if (!this.listed || this.isSynced || this.state !== 'running') return;
    this.isSynced = true;
    this.log.debug({ objects: this.objects.size }, 'synced');
    this.resolveSynced();
  }

  private watch(query: Query): Promise<Result<void, ApiError>> {
    const abort = (this.watchAbort = new AbortController());
    return this.access.watch<T>(this.path, {
      query: { ...query, ...this.selectors },
      signal: AbortSignal.any([this.stopping.signal, abort.signal]),
      onOpen: () => this.established(),
      onEvent: (e) => this.apply(e),
    });
  }

  private apply(e: WatchEvent<T>): void {
    if (this.state !== 'running' || this.watchAbort?.signal.aborted) return;
    this.events++;
    const rv = e.object.metadata?.resourceVersion;
    const streaming = this.streaming;
    if (streaming) {
      if (e.type === 'BOOKMARK' && (e.object.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.[INITIAL_EVENTS_END] === 'true') {
        // The whole state has been delivered: what it did not contain is gone.
        for (const [key, old] of [...this.objects]) {
          if (streaming.seen.has(key)) continue;
          this.objects.delete(key);
          this.call('onDelete', () => this.handlers.onDelete?.(old));
        }
        this.streaming = undefined;
        this.streamingSupported = true;
        this.log.debug({ objects: this.objects.size, resourceVersion: rv, kind: streaming.kind }, 'streamed the initial state');
        this.haveState(streaming.kind, streaming.startedAs, rv ?? this.resourceVersion);
        this.markSynced();
        return;
      }
      if (e.type === 'ADDED') streaming.seen.add(objectKey(e.object));
    }
    if (e.type === 'DELETED') this.deleted(e.object);
    else if (e.type !== 'BOOKMARK') this.addedOrUpdated(e.object);
    // During a stream, events come in no particular version order: the position is its end bookmark's.
    if (rv && !streaming) this.resourceVersion = rv;
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

  private addedOrUpdated(raw: T): void {
    const key = objectKey(raw);
    const old = this.objects.get(key);
    const rv = raw.metadata?.resourceVersion;
    if (old && old.metadata?.resourceVersion !== undefined && old.metadata.resourceVersion === rv) return;
    const obj = this.cached(raw);
    this.objects.set(key, obj);
    if (old) this.call('onUpdate', () => this.handlers.onUpdate?.(obj, old));
    else this.call('onAdd', () => this.handlers.onAdd?.(obj));
  }

  private deleted(raw: T): void {
    const key = objectKey(raw);
    const old = this.objects.get(key);
    if (!old) return;
    this.objects.delete(key);
    const obj = this.cached(raw);
    this.call('onDelete', () => this.handlers.onDelete?.(obj));
  }

  /** What the cache keeps of an object: transformed, with its resourceVersion, apiVersion and kind. */
  private cached(raw: T): T {
    let obj = raw;
    if (this.transform) {
      obj = this.transform(raw);
      const rv = raw.metadata?.resourceVersion;
      if (rv !== undefined && obj.metadata?.resourceVersion !== rv) obj = { ...obj, metadata: { ...obj.metadata, resourceVersion: rv } };
    }
    obj.apiVersion ??= this.resource.apiVersion;
    obj.kind ??= this.resource.kind;
    return obj;
  }

  private established(): void {
    if (this.state !== 'running') return;
    if (!this.isHealthy && this.unhealthySince !== undefined) {
      this.log.info({ downMs: Date.now() - this.unhealthySince, objects: this.objects.size }, 'watch re-established');
    }
    this.isHealthy = true;
    this.lastError = undefined;
    this.unhealthySince = undefined;
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
