// A keyed work queue processed one item at a time (the allocator is not
// shared between concurrent syncs, so nothing needs locking): a key queued
// twice is processed once, a key being processed and queued again runs again
// after, and a failed key comes back after a per-key exponential backoff.
export interface WorkQueueOptions {
  /** First retry delay after a failure (default 200 ms), doubling per failure up to maxRetryDelayMs (default 30 s). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

export class WorkQueue {
  readonly #queued = new Set<string>();
  readonly #delayed = new Map<string, NodeJS.Timeout>();
  readonly #failures = new Map<string, number>();
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.#retryDelayMs = opts.retryDelayMs ?? 200;
    this.#maxRetryDelayMs = opts.maxRetryDelayMs ?? 30_000;
  }

  get length(): number {
    return this.#queued.size;
  }

  add(key: string): void {
    if (this.#closed) return;
    this.#queued.add(key);
    this.#wake?.();
  }

  /** Adds key after delayMs unless it is already waiting for a delayed add (debounce). */
  addAfter(key: string, delayMs: number): void {
    if (this.#closed || this.#delayed.has(key)) return;
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.#delayed.set(key, timer);
  }

  /** Processes keys until the signal aborts; `work` returning false (or throwing) means retry later. */
  async run(work: (key: string) => Promise<boolean>, signal: AbortSignal, onError?: (key: string, e: unknown) => void): Promise<void> {
    signal.addEventListener('abort', () => this.#wake?.(), { once: true });
    while (!signal.aborted) {
      const key = this.#queued.values().next().value;
      if (key === undefined) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      this.#queued.delete(key);
      let done = false;
      try {
        done = await work(key);
      } catch (e) {
        onError?.(key, e);
      }
      if (done) this.#failures.delete(key);
      else this.#retry(key);
    }
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#delayed.values()) clearTimeout(t);
    this.#delayed.clear();
    this.#queued.clear();
    this.#wake?.();
  }

  #retry(key: string): void {
    const n = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, n);
    this.addAfter(key, Math.min(this.#maxRetryDelayMs, this.#retryDelayMs * 2 ** (n - 1)));
  }
}
