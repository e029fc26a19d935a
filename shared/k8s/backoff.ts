// The one retry policy of everything that talks to the API server (informers,
// the controller's work queue, event writes): client-go's, with full jitter.
// client-go's reflector waits 800 ms doubling to a 30 s cap and forgets its
// failures after 2 minutes without one (wait.NewExponentialBackoffManager).
// Full jitter (each delay uniform in [0, ceiling]) spreads the clients that
// failed together — every speaker of a DaemonSet when the API server restarts
// — over the whole window instead of bunching them at its end (the AWS
// Architecture Blog's "Exponential Backoff and Jitter" compares the variants).

/** Delays after successive failures. */
export interface BackoffOptions {
  /** Ceiling of the first delay (default 800 ms). */
  initialMs?: number;
  /** Largest ceiling (default 30 s). */
  maxMs?: number;
  /** A failure this long after the previous one starts over from initialMs (default 2 min): a healthy period resets. */
  resetAfterMs?: number;
  /** The jitter's source of uniform [0, 1) numbers (default Math.random; tests fix it). */
  random?: () => number;
}

const DEFAULTS = { initialMs: 800, maxMs: 30_000, resetAfterMs: 120_000, random: Math.random } as const;

function settings(opts: BackoffOptions): Required<BackoffOptions> {
  const s = { ...DEFAULTS, ...opts };
  if (!(s.initialMs > 0 && s.maxMs >= s.initialMs && s.resetAfterMs >= 0)) throw new Error(`invalid backoff ${JSON.stringify(opts)}`);
  return s;
}

/** The delay before retry number `failures` (1 for the first): uniform in [0, min(maxMs, initialMs · 2^(failures−1))]. */
export function backoffDelay(failures: number, opts: BackoffOptions = {}): number {
  const s = settings(opts);
  const ceiling = Math.min(s.maxMs, s.initialMs * 2 ** Math.max(0, Math.min(failures - 1, 52)));
  return Math.round(ceiling * s.random());
}

/** Delays for successive failures of one thing (a list+watch loop); forgets them after a healthy period, or on reset(). */
export class Backoff {
  readonly #opts: Required<BackoffOptions>;
  readonly #now: () => number;
  #failures = 0;
  #lastFailureAt = -Infinity;

  constructor(opts: BackoffOptions = {}, now: () => number = () => performance.now()) {
    this.#opts = settings(opts);
    this.#now = now;
  }

  /** Counts one more failure and returns the delay before the next attempt: at least atLeastMs (a Retry-After). */
  next(atLeastMs = 0): number {
    const now = this.#now();
    if (now - this.#lastFailureAt >= this.#opts.resetAfterMs) this.#failures = 0;
    this.#lastFailureAt = now;
    this.#failures++;
    return Math.max(atLeastMs, backoffDelay(this.#failures, this.#opts));
  }

  /** After a success that proves health: the next failure starts over. */
  reset(): void {
    this.#failures = 0;
  }
}
