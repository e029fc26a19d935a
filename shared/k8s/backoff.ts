// Capped exponential backoff with downward jitter (never longer than the cap,
// so "how long can a broken watch stay broken" has one answer: maxMs).

/** Restart delays: initialMs, doubling (factor) up to maxMs, each shortened by up to jitter. */
export interface BackoffOptions {
  /** First delay (default 500 ms). */
  initialMs?: number;
  /** Longest delay (default 10 s). */
  maxMs?: number;
  /** Growth per failure (default 2). */
  factor?: number;
  /** Each delay is shortened by up to this fraction at random (default 0.2), so restarted peers do not retry in step. */
  jitter?: number;
}

/** Delays for successive failures; reset() after a success. */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private failures = 0;

  constructor(opts: BackoffOptions = {}, random: () => number = Math.random) {
    this.initialMs = opts.initialMs ?? 500;
    this.maxMs = opts.maxMs ?? 10_000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.2;
    this.random = random;
    if (!(this.initialMs > 0 && this.maxMs >= this.initialMs && this.factor >= 1 && this.jitter >= 0 && this.jitter < 1)) {
      throw new Error(`invalid backoff ${JSON.stringify(opts)}`);
    }
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.failures);
    if (base < this.maxMs) this.failures++;
    return Math.round(base * (1 - this.jitter * this.random()));
  }

  /** After a success: the next failure waits initialMs again. */
  reset(): void {
    this.failures = 0;
  }
}
