// Which recorded events become new Event objects, which only bump the count of
// one already written, and which are dropped: pure, on a clock passed in.
//
// Like client-go's EventCorrelator, but a repeat never costs a write by
// itself: it increments a count that the writer sends when it next can, so the
// count stays exact while the write rate stays bounded.
import { TokenBucket } from './token-bucket.ts';

/** How long repeats aggregate, how many events are remembered, how many new ones an object may have. */
export interface AggregatorOptions {
  /** A repeat within this long of the previous occurrence bumps the same Event (default 10 min). */
  windowMs?: number;
  /** Distinct events remembered, least recently seen forgotten first (default 4096). */
  maxEntries?: number;
  /** New distinct events per object: burst (default 25) … */
  perObjectBurst?: number;
  /** … then this many per second (default 0.2: one per 5 s). */
  perObjectPerSecond?: number;
}

/** One distinct (object, type, reason, message) and how much of it the API server has. */
export interface AggregatedEvent {
  readonly key: string;
  readonly objectId: string;
  /** Occurrences so far. */
  count: number;
  /** Occurrences written to the API server, or given up after failures; count > settled means a write is due. */
  settled: number;
  readonly firstMs: number;
  lastMs: number;
  /** The Event object's name once created. */
  name: string | undefined;
}

/** What became of one occurrence: a new Event, a repeat of one, or dropped by the per-object limit. */
export type Observation =
  | { readonly kind: 'new'; readonly entry: AggregatedEvent }
  | { readonly kind: 'repeat'; readonly entry: AggregatedEvent }
  | { readonly kind: 'dropped' };

/** Remembers recent distinct events (bounded, least recently seen first out) and classifies each occurrence. */
export class EventAggregator {
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly entries = new Map<string, AggregatedEvent>();
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(opts: AggregatorOptions = {}) {
    this.windowMs = opts.windowMs ?? 10 * 60_000;
    this.maxEntries = opts.maxEntries ?? 4096;
    this.burst = opts.perObjectBurst ?? 25;
    this.perSecond = opts.perObjectPerSecond ?? 0.2;
  }

  observe(objectId: string, type: string, reason: string, message: string, nowMs: number): Observation {
    const key = JSON.stringify([objectId, type, reason, message]);
    const known = this.entries.get(key);
    if (known && nowMs - known.lastMs <= this.windowMs) {
      known.count++;
      known.lastMs = Math.max(known.lastMs, nowMs);
      touch(this.entries, key, known);
      return { kind: 'repeat', entry: known };
    }
    if (!this.bucket(objectId, nowMs).take(nowMs)) return { kind: 'dropped' };
    const entry: AggregatedEvent = { key, objectId, count: 1, settled: 0, firstMs: nowMs, lastMs: nowMs, name: undefined };
    touch(this.entries, key, entry);
    evictOldest(this.entries, this.maxEntries);
    return { kind: 'new', entry };
  }

  /** Distinct events remembered now. */
  get size(): number {
    return this.entries.size;
  }

  private bucket(objectId: string, nowMs: number): TokenBucket {
    let b = this.buckets.get(objectId);
    if (!b) b = new TokenBucket(this.burst, this.perSecond, nowMs);
    touch(this.buckets, objectId, b);
    evictOldest(this.buckets, this.maxEntries);
    return b;
  }
}

// Map iteration order is insertion order: re-inserting makes a key the most recent.
function touch<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
}

function evictOldest<V>(map: Map<string, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return;
    map.delete(key);
  }
}
