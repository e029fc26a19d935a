// The bearer token sent with each request. A token file is re-read as it
// rotates: kubelet replaces a projected service-account token well before it
// expires (at 80 % of its lifetime, by default after ~48 of 60 minutes), and
// client-go re-reads the file every minute (transport.NewCachedFileTokenSource);
// so do we, and at once after a 401, which is what a rotated-away token gets.
import { err, ok, type Result } from '../../result.ts';

/** Where a request's Authorization header comes from. */
export interface BearerToken {
  /** The token to send now, or why there is none. */
  current(): Result<string, string>;
  /** After a 401: re-read the source now; true if the token changed (a retry may succeed). */
  refresh(): boolean;
}

/** A token written in the kubeconfig: never changes. */
export function staticToken(token: string): BearerToken {
  return { current: () => ok(token), refresh: () => false };
}

/** How a token file is read (tests pass their own clock and reader). */
export interface TokenFileOptions {
  readFile: (path: string) => string;
  now: () => number;
  /** Re-read after this long (default 60 s, like client-go). */
  maxAgeMs?: number;
  /** Sent while the file cannot be read (a kubeconfig's `token` next to its `tokenFile`, as client-go does). */
  fallback?: string;
}

/** A token read from a file, cached for maxAgeMs; a read failure keeps the last good token. */
export function tokenFile(path: string, opts: TokenFileOptions): BearerToken {
  const maxAgeMs = opts.maxAgeMs ?? 60_000;
  let token = opts.fallback;
  let readAt = -Infinity;
  let lastError = '';
  const read = (): void => {
    readAt = opts.now();
    try {
      const text = opts.readFile(path).trim();
      if (text) {
        token = text;
        lastError = '';
      } else lastError = `token file ${path} is empty`;
    } catch (e) {
      lastError = `token file ${path}: ${(e as Error).message}`;
    }
  };
  return {
    current() {
      if (opts.now() - readAt >= maxAgeMs) read();
      return token ? ok(token) : err(lastError);
    },
    refresh() {
      const before = token;
      read();
      return token !== before;
    },
  };
}
