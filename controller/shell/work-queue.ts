// A keyed work queue: a key queued twice is processed once, a key being
// processed and queued again runs again after it (never two at once), and a
// failed key comes back after a per-key exponential backoff. Several keys may
// be in flight at once: a sync decides synchronously (the allocator is only
// touched between awaits, so it needs no lock) and then waits for its writes,
// and those writes overlap.
import { backoffDelay, type BackoffOptions } from '../../shared/k8s/index.ts';

export interface WorkQueueOptions {
  /** Delays before a failed key is retried: the shared backoff, from 200 ms (a 409 is often cured at once) up to 30 s. */
  retryBackoff?: BackoffOptions;
}

export class WorkQueue {
  readonly #queued = new Set<string>();
  readonly #delayed = new Map<string, NodeJS.Timeout>();
  readonly #failures = new Map<string, number>();
  readonly #backoff: BackoffOptions;
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.#backoff = { initialMs: 200, ...opts.retryBackoff };
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

  /**
   * Processes keys until the signal aborts, up to `concurrency` at once (never one key twice at
   * once); `work` resolving false (or throwing) means retry later. Resolves when the work in flight
   * at the abort has finished.
   */
  async run(work: (key: string) => Promise<boolean>, signal: AbortSignal, opts: { concurrency?: number; onError?: (key: string, e: unknown) => void } = {}): Promise<void> {
    const concurrency = Math.max(1, opts.concurrency ?? 1);
    const active = new Set<string>();
    const running = new Set<Promise<void>>();
    const wake = (): void => this.#wake?.();
    signal.addEventListener('abort', wake, { once: true });
    while (!signal.aborted) {
      const key = active.size < concurrency ? this.#nextIdle(active) : undefined;
      if (key === undefined) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      this.#queued.delete(key);
      active.add(key);
      const job = (async () => {
        let done = false;
        try {
          done = await work(key);
        } catch (e) {
          opts.onError?.(key, e);
        }
        active.delete(key);
        if (done) this.#failures.delete(key);
        else this.#retry(key);
      })();
      running.add(job);
      void job.finally(() => {
        running.delete(job);
        wake();
      });
    }
    await Promise.all(running);
  }

  #nextIdle(active: ReadonlySet<string>): string | undefined {
    for (const key of this.#queued) if (!active.has(key)) return key;
    return undefined;
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
    this.addAfter(key, backoffDelay(n, this.#backoff));
  }
}
