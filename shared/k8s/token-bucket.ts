// A token bucket on a clock the caller passes in: `capacity` writes at once,
// then `perSecond` on average.

/** Allows `capacity` actions at once, then `perSecond` on average. */
export class TokenBucket {
  private readonly capacity: number;
  private readonly perMs: number;
  private tokens: number;
  private lastMs: number;

  constructor(capacity: number, perSecond: number, nowMs: number) {
    if (!(capacity >= 1 && perSecond > 0)) throw new Error(`invalid token bucket: capacity ${capacity}, ${perSecond}/s`);
    this.capacity = capacity;
    this.perMs = perSecond / 1000;
    this.tokens = capacity;
    this.lastMs = nowMs;
  }

  /** Takes a token if one is there. */
  take(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** How long until take() can succeed (0 if now). */
  msUntilToken(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.perMs);
  }

  private refill(nowMs: number): void {
    // A clock that goes backwards (wall-clock step) must not mint or burn tokens.
    const elapsed = Math.max(0, nowMs - this.lastMs);
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.perMs);
    this.lastMs = Math.max(this.lastMs, nowMs);
  }
}
