// Events about objects (Services, pools …) for people running `kubectl describe`.
//
// core/v1 Events, not events.k8s.io/v1: both are views of the same objects,
// but `kubectl describe` prints the core/v1 fields (firstTimestamp,
// lastTimestamp, count → "2m (x5 over 10m)"); an Event written through
// events.k8s.io/v1 has no first/lastTimestamp there, so a repeated one shows an
// age of "<unknown>". client-go's record.EventRecorder, which almost every
// controller (and MetalLB, through controller-runtime) uses, writes core/v1 too.
//
// Recording never blocks and never throws: the caller's loop goes on, a
// writer drains a queue at a bounded rate, repeats only raise a count
// (event-aggregator.ts), failures are logged.
import type { CoreV1Event } from '@kubernetes/client-node';
import { silentLogger, type Logger } from '../observability/index.ts';
import { formatApiError, isTransient, type ApiError } from './api-error.ts';
import { objectClient, type ObjectClient } from './client.ts';
import { backoffDelay } from './backoff.ts';
import { EventAggregator, type AggregatedEvent, type AggregatorOptions } from './event-aggregator.ts';
import { RESOURCES, type ApiObject } from './resources.ts';
import { TokenBucket } from './token-bucket.ts';
import type { ApiAccess } from './transport/index.ts';

/** Normal for decisions taken, Warning for what a person should look at. */
export type EventType = 'Normal' | 'Warning';
/** CamelCase, fixed per kind of decision (`IPAllocated`, `AllocationFailed`); the type makes callers pass a capitalised literal. */
export type EventReason = Capitalize<string>;

/** Who reports, and the limits that keep a hot loop from flooding the API server. */
export interface EventRecorderOptions extends AggregatorOptions {
  /** Who reports (`ballast-controller`, `ballast-speaker`): the "From" column of kubectl describe. */
  component: string;
  /** Which instance reports: the pod name (controller) or node name (speaker). */
  instance: string;
  logger?: Logger;
  /** Writes (creates and count updates) per second across all events (default 20) … */
  writesPerSecond?: number;
  /** … after a burst of this many (default 100). */
  writeBurst?: number;
  /** Events waiting for a write beyond this many are dropped (default 1000). */
  maxPending?: number;
}

/** Counters since the recorder was created (for metrics and tests). */
export interface EventStats {
  /** Event objects created. */
  readonly created: number;
  /** Count updates written to existing Event objects. */
  readonly patched: number;
  /** Occurrences not written: rate-limited, queue full, invalid, or recorded after close. */
  readonly dropped: number;
  /** Writes the API server refused or that never got an answer (after retries). */
  readonly failed: number;
}

/** Records Events about objects; never throws, never waits for the API server. */
export interface EventRecorder {
  /** Records a Normal event about obj (an object read from the API: it needs apiVersion, kind, name and uid). */
  normal(obj: ApiObject, reason: EventReason, message: string): void;
  /** Records a Warning event about obj. */
  warning(obj: ApiObject, reason: EventReason, message: string): void;
  /** Resolves when every event recorded so far is written or given up. */
  flush(): Promise<void>;
  /** Stops accepting events and waits up to timeoutMs (default 5 s) for pending writes. */
  close(timeoutMs?: number): Promise<void>;
  stats(): EventStats;
}

/** An EventRecorder for one component instance. */
export function createEventRecorder(access: ApiAccess, opts: EventRecorderOptions): EventRecorder {
  return new QueuedEventRecorder(objectClient(access, RESOURCES.event), opts);
}

const REASON = /^[A-Z][A-Za-z0-9]{0,127}$/;
// events.k8s.io caps a note at 1 kB; core/v1 does not, but nobody reads more in describe.
const MAX_MESSAGE = 1024;
const MAX_ATTEMPTS = 5;

interface EventData {
  readonly namespace: string;
  readonly involvedObject: NonNullable<CoreV1Event['involvedObject']>;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
  attempts: number;
  /** A retry timer will queue it; nothing else may. */
  waitingRetry: boolean;
}

class QueuedEventRecorder implements EventRecorder {
  private readonly events: ObjectClient<CoreV1Event>;
  private readonly component: string;
  private readonly instance: string;
  private readonly log: Logger;
  private readonly aggregator: EventAggregator;
  private readonly writes: TokenBucket;
  private readonly maxPending: number;
  private readonly data = new WeakMap<AggregatedEvent, EventData>();
  private readonly queue = new Set<AggregatedEvent>();
  private readonly retries = new Set<NodeJS.Timeout>();
  private inFlight: AggregatedEvent | undefined;
  private draining = false;
  private closed = false;
  private failing = false;
  private idleWaiters: Array<() => void> = [];
  private wake: (() => void) | undefined;
  private sequence = 0;
  private counters = { created: 0, patched: 0, dropped: 0, failed: 0 };

  constructor(events: ObjectClient<CoreV1Event>, opts: EventRecorderOptions) {
    this.events = events;
    this.component = opts.component;
    this.instance = opts.instance;
    this.log = (opts.logger ?? silentLogger).child({ eventRecorder: opts.component });
    this.aggregator = new EventAggregator(opts);
    this.writes = new TokenBucket(opts.writeBurst ?? 100, opts.writesPerSecond ?? 20, Date.now());
    this.maxPending = opts.maxPending ?? 1000;
  }

  normal(obj: ApiObject, reason: EventReason, message: string): void {
    this.record(obj, 'Normal', reason, message);
  }

  warning(obj: ApiObject, reason: EventReason, message: string): void {
    this.record(obj, 'Warning', reason, message);
  }

  stats(): EventStats {
    return { ...this.counters };
  }

  flush(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(timeoutMs = 5_000): Promise<void> {
    this.closed = true;
    for (const t of this.retries) clearTimeout(t);
    this.retries.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.counters.dropped += this.queue.size;
    this.queue.clear();
    this.wake?.();
  }

  private record(obj: ApiObject, type: EventType, reason: string, message: string): void {
    const m = obj.metadata;
    if (this.closed) return void this.counters.dropped++;
    if (!REASON.test(reason) || !obj.apiVersion || !obj.kind || !m?.name) {
      // A caller bug, not an API failure: say so loudly, but do not break the caller's loop.
      this.counters.dropped++;
      this.log.error({ reason, kind: obj.kind, apiVersion: obj.apiVersion, name: m?.name }, 'invalid event dropped: reason must be CamelCase and the object needs apiVersion, kind and name');
      return;
    }
    const objectId = m.uid ?? `${obj.kind}/${m.namespace ?? ''}/${m.name}`;
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message;
    const seen = this.aggregator.observe(objectId, type, reason, text, Date.now());
    if (seen.kind === 'dropped') {
      this.counters.dropped++;
      this.log.debug({ reason, object: objectId }, 'event rate-limited for this object');
      return;
    }
    if (seen.kind === 'new') {
      if (!m.uid) this.log.warn({ kind: obj.kind, name: m.name }, 'event about an object without uid: kubectl describe will not list it');
      this.data.set(seen.entry, {
        namespace: m.namespace || 'default',
        involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: m.name, namespace: m.namespace, uid: m.uid },
        type,
        reason,
        message: text,
        attempts: 0,
        waitingRetry: false,
      });
    }
    this.enqueue(seen.entry);
  }

  private enqueue(entry: AggregatedEvent): void {
    if (this.closed || this.queue.has(entry) || this.inFlight === entry || this.data.get(entry)?.waitingRetry) return;
    if (this.queue.size >= this.maxPending) {
      this.counters.dropped++;
      return;
    }
    this.queue.add(entry);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.size > 0) {
        const wait = this.writes.msUntilToken(Date.now());
        if (wait > 0) {
          await new Promise<void>((r) => {
            const t = setTimeout(r, wait);
            this.wake = () => {
              if (this.closed) {
                clearTimeout(t);
                r();
              }
            };
          });
          this.wake = undefined;
          continue;
        }
        this.writes.take(Date.now());
        const entry = this.queue.values().next().value!;
        this.queue.delete(entry);
        this.inFlight = entry;
        const again = await this.write(entry);
        this.inFlight = undefined;
        if (again || entry.count > entry.settled) this.enqueue(entry);
      }
    } finally {
      this.draining = false;
      this.notifyIfIdle();
    }
  }

  /** One create or count update; true when it should be queued again at once. */
  private async write(entry: AggregatedEvent): Promise<boolean> {
    const d = this.data.get(entry);
    if (!d) return false;
    const count = entry.count;
    const lastTimestamp = timestamp(entry.lastMs);
    if (entry.name === undefined) {
      const name = `${d.involvedObject.name!.slice(0, 230)}.${(BigInt(Date.now()) * 1_000_000n + BigInt(this.sequence++ % 1_000_000)).toString(16)}`;
      const r = await this.events.create({
        metadata: { name, namespace: d.namespace },
        involvedObject: d.involvedObject,
        type: d.type,
        reason: d.reason,
        message: d.message,
        source: { component: this.component, host: this.instance },
        reportingComponent: this.component,
        reportingInstance: this.instance,
        firstTimestamp: timestamp(entry.firstMs) as unknown as Date,
        lastTimestamp: lastTimestamp as unknown as Date,
        count,
      });
      if (!r.ok) return this.failed(entry, d, r.error, r.error.code === 409); // 409: the name is taken, a new one next time
      entry.name = name;
      entry.settled = count;
      this.counters.created++;
    } else {
      const r = await this.events.patch({ namespace: d.namespace, name: entry.name }, { count, lastTimestamp });
      if (!r.ok && r.error.code === 404) {
        // The Event expired (the API server's event TTL) or was deleted: start a new one.
        entry.name = undefined;
        return true;
      }
      if (!r.ok) return this.failed(entry, d, r.error, false);
      entry.settled = count;
      this.counters.patched++;
    }
    d.attempts = 0;
    if (this.failing) this.log.info('writing events again');
    this.failing = false;
    return false;
  }

  private failed(entry: AggregatedEvent, d: EventData, e: ApiError, retryNow: boolean): boolean {
    d.attempts++;
    const fields = { reason: d.reason, object: `${d.involvedObject.kind} ${d.namespace}/${d.involvedObject.name}`, error: formatApiError(e), attempt: d.attempts };
    if (!this.failing) this.log.warn(fields, 'could not write event');
    else this.log.debug(fields, 'could not write event');
    this.failing = true;
    if (d.attempts >= MAX_ATTEMPTS || !(retryNow || isTransient(e))) {
      this.counters.failed++;
      d.attempts = 0;
      entry.settled = entry.count; // these occurrences are given up; a later repeat writes the full count
      return false;
    }
    if (retryNow) return true;
    d.waitingRetry = true;
    const t = setTimeout(() => {
      this.retries.delete(t);
      d.waitingRetry = false;
      this.enqueue(entry);
      this.notifyIfIdle();
    }, backoffDelay(d.attempts, { initialMs: 1_000 }));
    this.retries.add(t);
    return false;
  }

  private idle(): boolean {
    return this.queue.size === 0 && this.inFlight === undefined && this.retries.size === 0 && !this.draining;
  }

  private notifyIfIdle(): void {
    if (!this.idle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

// metav1.Time is RFC 3339 with whole seconds.
const timestamp = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
