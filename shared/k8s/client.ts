// Typed CRUD for one resource over an ApiAccess. Every answer is a Result:
// the caller decides what a 404 or a 409 means.
import { err, ok, type Result } from '../result.ts';
import type { ApiError } from './api-error.ts';
import type { ApiAccess } from './transport/index.ts';
import { collectionPath, objectPath, type ApiObject, type ObjectRef, type Resource } from './resources.ts';

/** The Content-Type that selects each kind of PATCH. */
const PATCH_CONTENT_TYPE = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;
/** merge (RFC 7386), json (RFC 6902), strategic (built-in kinds only), apply (server-side apply; JSON is YAML). */
export type PatchType = keyof typeof PATCH_CONTENT_TYPE;

/** The status type of an object type (`IPAddressPoolStatus` for `IPAddressPool`). */
export type StatusOf<T> = T extends { status?: infer S } ? NonNullable<S> : never;

/** What to list: a namespace (else all), label/field selectors, and from where. */
export interface ListOptions {
  /** Only this namespace; all namespaces when omitted (namespaced resources). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Unset: the latest state, a quorum read of etcd. "0": any state, from the API server's watch cache. A version
   * with resourceVersionMatch NotOlderThan: at least that new (the watch cache serves it once it has caught up).
   */
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
  /** Page size (default 500); 0: one page, everything at once. */
  limit?: number;
}

/** A complete list and the resourceVersion it was read at. */
export interface ObjectList<T> {
  readonly items: T[];
  /** The collection's resourceVersion: a watch from here misses nothing. */
  readonly resourceVersion: string;
}

/** Per-call deadline (default 30 s) and cancellation. */
export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Typed CRUD on one resource; every failure is an ApiError value, never a throw. */
export interface ObjectClient<T extends ApiObject> {
  readonly resource: Resource<T>;
  /** Every matching object (paged by 500), each stamped with apiVersion and kind. */
  list(opts?: ListOptions & CallOptions): Promise<Result<ObjectList<T>, ApiError>>;
  get(ref: ObjectRef, opts?: CallOptions): Promise<Result<T, ApiError>>;
  /** POST; 409 AlreadyExists if the name is taken. */
  create(obj: T, opts?: CallOptions): Promise<Result<T, ApiError>>;
  /** PUT; with metadata.resourceVersion set, 409 Conflict if the object changed since it was read. */
  replace(obj: T, opts?: CallOptions): Promise<Result<T, ApiError>>;
  /** PATCH the object (merge patch unless told); `apply` needs fieldManager. */
  patch(ref: ObjectRef, patch: unknown, opts?: CallOptions & { type?: PatchType; fieldManager?: string; force?: boolean }): Promise<Result<T, ApiError>>;
  /**
   * Merge-patches the status subresource with these fields (lists replace, `null` removes);
   * with resourceVersion, 409 Conflict if the object changed since it was read.
   */
  patchStatus(ref: ObjectRef, status: Partial<StatusOf<T>>, opts?: CallOptions & { resourceVersion?: string }): Promise<Result<T, ApiError>>;
  /** DELETE; a 404 is an error value like any other (the caller knows whether gone is fine). */
  delete(ref: ObjectRef, opts?: CallOptions & { uid?: string; resourceVersion?: string }): Promise<Result<void, ApiError>>;
}

/** A typed client for one resource, e.g. `objectClient(access, RESOURCES.ipAddressPool)`. */
export function objectClient<T extends ApiObject>(access: ApiAccess, resource: Resource<T>): ObjectClient<T> {
  return new ResourceClient(access, resource);
}

const PAGE = 500;

class ResourceClient<T extends ApiObject> implements ObjectClient<T> {
  readonly resource: Resource<T>;
  private readonly access: ApiAccess;

  constructor(access: ApiAccess, resource: Resource<T>) {
    this.access = access;
    this.resource = resource;
  }

  async list(opts: ListOptions & CallOptions = {}): Promise<Result<ObjectList<T>, ApiError>> {
    const items: T[] = [];
    let cont: string | undefined;
    const limit = opts.limit === 0 ? undefined : (opts.limit ?? PAGE);
    for (;;) {
      // The version goes with the first page only: the continue token carries it (the API server refuses both).
      const version = cont === undefined ? { resourceVersion: opts.resourceVersion, resourceVersionMatch: opts.resourceVersionMatch } : {};
      const page = await this.access.request<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>(
        'GET',
        collectionPath(this.resource, opts.namespace),
        {
          query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, ...version, limit, continue: cont },
          timeoutMs: opts.timeoutMs,
          signal: opts.signal,
        },
      );
      if (!page.ok) return page;
      for (const item of page.value.items ?? []) items.push(this.stamp(item));
      cont = page.value.metadata?.continue || undefined;
      // A paged list is one consistent snapshot at the first page's resourceVersion, repeated on every page.
      if (!cont) return ok({ items, resourceVersion: page.value.metadata?.resourceVersion ?? '' });
    }
  }

  async get(ref: ObjectRef, opts: CallOptions = {}): Promise<Result<T, ApiError>> {
    return this.stamped(await this.access.request<T>('GET', objectPath(this.resource, ref), opts));
  }

  async create(obj: T, opts: CallOptions = {}): Promise<Result<T, ApiError>> {
    const ns = obj.metadata?.namespace;
    if (this.resource.namespaced && !ns) throw new Error(`${this.resource.kind} ${obj.metadata?.name ?? '(generateName)'}: create needs metadata.namespace`);
    return this.stamped(await this.access.request<T>('POST', collectionPath(this.resource, ns), { ...opts, body: this.stamp({ ...obj }) }));
  }

  async replace(obj: T, opts: CallOptions = {}): Promise<Result<T, ApiError>> {
    const path = objectPath(this.resource, { namespace: obj.metadata?.namespace, name: obj.metadata?.name ?? '' });
    return this.stamped(await this.access.request<T>('PUT', path, { ...opts, body: this.stamp({ ...obj }) }));
  }

  async patch(ref: ObjectRef, patch: unknown, opts: CallOptions & { type?: PatchType; fieldManager?: string; force?: boolean } = {}): Promise<Result<T, ApiError>> {
    const type = opts.type ?? 'merge';
    if (type === 'apply' && !opts.fieldManager) throw new Error('server-side apply needs a fieldManager');
    const res = await this.access.request<T>('PATCH', objectPath(this.resource, ref), {
      body: patch,
      contentType: PATCH_CONTENT_TYPE[type],
      query: { fieldManager: opts.fieldManager, force: opts.force },
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
    });
    return this.stamped(res);
  }

  async patchStatus(ref: ObjectRef, status: Partial<StatusOf<T>>, opts: CallOptions & { resourceVersion?: string } = {}): Promise<Result<T, ApiError>> {
    // A resourceVersion inside a merge patch is a precondition: the API server answers 409 if it moved on.
    const body = opts.resourceVersion ? { metadata: { resourceVersion: opts.resourceVersion }, status } : { status };
    const res = await this.access.request<T>('PATCH', objectPath(this.resource, ref, 'status'), {
      body,
      contentType: PATCH_CONTENT_TYPE.merge,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
    });
    return this.stamped(res);
  }

  async delete(ref: ObjectRef, opts: CallOptions & { uid?: string; resourceVersion?: string } = {}): Promise<Result<void, ApiError>> {
    const preconditions = opts.uid || opts.resourceVersion ? { uid: opts.uid, resourceVersion: opts.resourceVersion } : undefined;
    const res = await this.access.request<unknown>('DELETE', objectPath(this.resource, ref), {
      body: preconditions ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions } : undefined,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
    });
    return res.ok ? ok(undefined) : err(res.error);
  }

  // List items of built-in kinds arrive without apiVersion/kind; Events and informers need them.
  private stamp(obj: T): T {
    obj.apiVersion ??= this.resource.apiVersion;
    obj.kind ??= this.resource.kind;
    return obj;
  }

  private stamped(r: Result<T, ApiError>): Result<T, ApiError> {
    if (r.ok) this.stamp(r.value);
    return r;
  }
}
