// Is the API server still answering? A watch on a quiet resource carries
// nothing for minutes (a bookmark at best every minute or two), and over
// HTTP/1.1 there is no ping, so silence alone cannot tell a quiet API server
// from a dead one. client-go relies on HTTP/2 pings (ReadIdleTimeout 30 s +
// PingTimeout 15 s); client-node's Watch on TCP keepalive, which a hung
// apiserver process still answers (the kernel does). So: when nothing at all
// has come from the API server for idleMs while watches are open, one cheap
// request (the probe) asks it; no answer within probeTimeoutMs ends every
// open watch with an error, and their owners (informers) report unhealthy and
// reconnect. Any answer, even a 403, proves the server alive; so does every
// byte of every response on this connection pool, so a busy client never probes.
import { formatApiError, type ApiError } from '../api-error.ts';

/** When to probe and how long to wait for the answer. */
export interface LivenessOptions {
  /** Probe after this long without a byte from the API server (default 5 s). */
  idleMs?: number;
  /** A probe not answered within this long means the API server is gone (default 3 s). */
  probeTimeoutMs?: number;
}

/** What the monitor can end: an open watch. */
export interface Watcher {
  abort(why: ApiError): void;
}

export interface LivenessDeps {
  /** Monotonic milliseconds. */
  now: () => number;
  /** Resolves undefined if the API server answered anything within timeoutMs, else why not (no answer, refused …). */
  probe: (timeoutMs: number) => Promise<ApiError | undefined>;
}

/** Tracks when the API server was last heard from and probes it while watches wait in silence. */
export class LivenessMonitor {
  private readonly idleMs: number;
  private readonly probeTimeoutMs: number;
  private readonly deps: LivenessDeps;
  private readonly watchers = new Set<Watcher>();
  private lastHeard: number;
  /** When the first of the open watches opened: silence before it counts for nothing. */
  private watchingSince = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;

  constructor(opts: LivenessOptions, deps: LivenessDeps) {
    this.idleMs = opts.idleMs ?? 5_000;
    this.probeTimeoutMs = opts.probeTimeoutMs ?? 3_000;
    if (!(this.idleMs > 0 && this.probeTimeoutMs > 0)) throw new Error(`invalid liveness options ${JSON.stringify(opts)}`);
    this.deps = deps;
    this.lastHeard = deps.now();
  }

  /** Something arrived from the API server. */
  heard(): void {
    this.lastHeard = this.deps.now();
  }

  /** Watches w until the returned function is called. */
  watch(w: Watcher): () => void {
    if (this.watchers.size === 0) this.watchingSince = this.deps.now();
    this.watchers.add(w);
    this.schedule();
    return () => {
      this.watchers.delete(w);
      if (this.watchers.size === 0) this.cancel();
    };
  }

  private schedule(): void {
    if (this.timer !== undefined || this.probing || this.watchers.size === 0) return;
    const wait = Math.max(0, this.quietSince() + this.idleMs - this.deps.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, wait);
    this.timer.unref();
  }

  private quietSince(): number {
    return Math.max(this.lastHeard, this.watchingSince);
  }

  private cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.watchers.size === 0) return;
    if (this.deps.now() - this.quietSince() < this.idleMs) return this.schedule();
    this.probing = true;
    const started = this.deps.now();
    void this.deps.probe(this.probeTimeoutMs).then((failure) => {
      this.probing = false;
      if (!failure) this.heard();
      // Anything heard while the probe waited proves the server alive too.
      else if (this.lastHeard < started) {
        const why: ApiError = {
          code: undefined,
          reason: 'Unresponsive',
          message: `the API server sent nothing for ${Math.round(this.deps.now() - this.quietSince())} ms, and a probe got ${formatApiError(failure)}`,
        };
        for (const w of [...this.watchers]) w.abort(why);
      }
      this.schedule();
    });
  }
}
