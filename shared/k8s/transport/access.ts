// Ballast's own HTTP transport to the API server: node:https with one
// keep-alive connection pool, JSON in and out, a deadline on every call,
// streaming watches.
//
// Why not @kubernetes/client-node at run time: importing any part of it
// (even only its KubeConfig) loads every generated API client, undici and the
// proxy agents: ~65 MB RSS more (docs/ARCHITECTURE.md), against the speaker's
// 80 MB budget. What Ballast needs from it is small: a kubeconfig, a few JSON
// verbs on a handful of paths, and a watch. Its Watch also needs 30–60 s to
// notice a dead API server; ours notices in seconds (liveness.ts). The CLI,
// which has no memory budget, authenticates through client-node's KubeConfig
// (Connection.authenticate) and still uses this transport.
import * as http from 'node:http';
import * as https from 'node:https';
import { err, ok, type Result } from '../../result.ts';
import { apiErrorFromResponse, toApiError, type ApiError } from '../api-error.ts';
import type { BearerToken } from './credentials.ts';
import { LivenessMonitor, type LivenessOptions } from './liveness.ts';
import { LineSplitter, parseWatchLine, type WatchEvent } from './ndjson.ts';
import type { TlsMaterial, TlsSettings } from './tls-material.ts';

/** The HTTP verbs the API server serves. */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Query parameters; undefined ones are left out. */
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** Query, JSON body, content type and deadline of one request. */
export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Default application/json; the patch content types select the kind of PATCH. */
  contentType?: string;
  /** Overrides the default deadline (30 s) for this call. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A watch: what to watch from where, and what to call as it goes. */
export interface WatchOptions<T> {
  /** resourceVersion, labelSelector, fieldSelector …; watch, allowWatchBookmarks and timeoutSeconds are added. */
  query?: Query;
  /** Ends the watch (the result is then an `Aborted` error). */
  signal?: AbortSignal;
  /** The API server accepted the watch (response headers arrived). */
  onOpen?: () => void;
  /** Each ADDED, MODIFIED, DELETED or BOOKMARK event, in order. */
  onEvent: (event: WatchEvent<T>) => void;
}

/** Everything that talks to one API server as one identity, over one connection pool. */
export interface ApiAccess {
  /** The API server's URL. */
  readonly server: string;
  /** A JSON request; every failure (no answer, non-2xx) is an ApiError value. */
  request<T>(method: Method, path: string, opts?: RequestOptions): Promise<Result<T, ApiError>>;
  /**
   * A streaming watch. ok when the API server ended it (its timeoutSeconds passed: resume from the
   * last resourceVersion seen); an error otherwise, code 410 when that resourceVersion is too old (list again).
   */
  watch<T>(path: string, opts: WatchOptions<T>): Promise<Result<void, ApiError>>;
  /** Closes pooled connections and ends open watches. */
  close(): void;
}

/** Where the API server is and how to prove who we are. */
export interface Connection {
  readonly server: string;
  /** CA and client certificate; re-read as their files change (tls-material.ts). */
  readonly tls: TlsMaterial;
  readonly token?: BearerToken | undefined;
  /**
   * Authentication done elsewhere, per request: it may set headers (Authorization, Impersonate-User), `auth`
   * (basic) and its own `agent` (TLS with an exec plugin's certificate, a proxy). The CLI passes client-node's
   * KubeConfig here so that it accepts every kubeconfig kubectl accepts; the daemons never do.
   */
  readonly authenticate?: (options: https.RequestOptions) => Promise<void>;
}

/** Tunables; the defaults suit the controller and the speaker. */
export interface ApiAccessOptions {
  /** Deadline of a request (default 30 s). */
  timeoutMs?: number;
  /** How long a watch may take to be accepted (default 30 s). */
  watchOpenTimeoutMs?: number;
  /** Asks the API server to end each watch after this long; default a random 5–10 min, like client-go, so clients do not reconnect in step. */
  watchTimeoutSeconds?: () => number;
  liveness?: LivenessOptions;
  /** Path the liveness probe GETs (default /livez?exclude=etcd: exempt from API Priority and Fairness, readable by every user, and not failing because etcd is slow). */
  probePath?: string;
  userAgent?: string;
}

/** An ApiAccess for one connection. */
export function createApiAccess(connection: Connection, opts: ApiAccessOptions = {}): ApiAccess {
  return new HttpApiAccess(connection, opts);
}

const DEFAULT_TIMEOUT_MS = 30_000;
// A watch that outlives its timeoutSeconds by this much never got its end: the stream is dead.
const WATCH_END_GRACE_MS = 30_000;
const IDEMPOTENT: ReadonlySet<Method> = new Set(['GET', 'PUT', 'DELETE']);
// client-go retries a 429 up to 10 times; a rejected request was never processed, so any verb may be retried.
const MAX_TOO_MANY_REQUESTS_RETRIES = 10;
// Without a Retry-After (or with 0), client-go waits 1 s.
const DEFAULT_RETRY_AFTER_MS = 1_000;

/** What a changed CA or client certificate gets: verification or the handshake failed. */
export function isTlsFailure(e: ApiError): boolean {
  return e.code === undefined && (/^ERR_(SSL|TLS)_/.test(e.reason) || e.reason === 'EPROTO' || /CERT|SIGNATURE|ISSUER/.test(e.reason));
}

class HttpApiAccess implements ApiAccess {
  readonly server: string;
  private readonly transport: typeof https | typeof http;
  private readonly secure: boolean;
  private agent: http.Agent;
  private readonly tls: TlsMaterial;
  private readonly token: BearerToken | undefined;
  private readonly authenticate: Connection['authenticate'];
  private readonly timeoutMs: number;
  private readonly watchOpenTimeoutMs: number;
  private readonly watchTimeoutSeconds: () => number;
  private readonly probePath: string;
  private readonly userAgent: string;
  private readonly liveness: LivenessMonitor;
  private readonly openWatches = new Set<AbortController>();

  constructor(connection: Connection, opts: ApiAccessOptions) {
    this.server = connection.server;
    this.secure = new URL(connection.server).protocol === 'https:';
    this.transport = this.secure ? https : http;
    this.tls = connection.tls;
    this.agent = this.makeAgent(connection.tls.current());
    this.token = connection.token;
    this.authenticate = connection.authenticate;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.watchOpenTimeoutMs = opts.watchOpenTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.watchTimeoutSeconds = opts.watchTimeoutSeconds ?? (() => Math.floor(300 * (1 + Math.random())));
    this.probePath = opts.probePath ?? '/livez?exclude=etcd';
    this.userAgent = opts.userAgent ?? `ballast (node ${process.version})`;
    this.liveness = new LivenessMonitor(opts.liveness ?? {}, { now: () => performance.now(), probe: (ms) => this.probe(ms) });
  }

  async request<T>(method: Method, path: string, opts: RequestOptions = {}): Promise<Result<T, ApiError>> {
    const deadline = performance.now() + (opts.timeoutMs ?? this.timeoutMs);
    const attempt = (): Promise<Exchanged> => this.exchange(method, path, { ...opts, timeoutMs: Math.max(1, deadline - performance.now()) });
    let first = await attempt();
    // A keep-alive connection the server closed just as we sent on it: the request never reached it.
    if (!first.ok && first.staleConnection && IDEMPOTENT.has(method)) first = await attempt();
    // A rotated CA or client certificate: read the files again and retry once (the request was not processed).
    if (!first.ok && (isTlsFailure(first.error) || first.error.code === 401) && this.refreshTls(true)) first = await attempt();
    // A rotated token: read it again and retry once (a 401 means the request was not processed).
    if (!first.ok && first.error.code === 401 && this.token?.refresh()) first = await attempt();
    // Too many requests (API Priority and Fairness): wait as asked and try again while the deadline allows.
    for (let n = 0; !first.ok && first.error.code === 429 && n < MAX_TOO_MANY_REQUESTS_RETRIES; n++) {
      const waitMs = first.error.retryAfterMs || DEFAULT_RETRY_AFTER_MS;
      if (performance.now() + waitMs >= deadline || !(await sleep(waitMs, opts.signal))) break;
      first = await attempt();
    }
    if (!first.ok) return err(first.error);
    const { text, status } = first.value;
    if (!text) return ok(undefined as T);
    try {
      return ok(JSON.parse(text) as T);
    } catch (e) {
      return err({ code: status, reason: 'BadResponse', message: `not JSON: ${(e as Error).message}` });
    }
  }

  async watch<T>(path: string, opts: WatchOptions<T>): Promise<Result<void, ApiError>> {
    const timeoutSeconds = this.watchTimeoutSeconds();
    const query = { ...opts.query, watch: true, allowWatchBookmarks: true, timeoutSeconds };
    const prepared = await this.requestOptions('GET');
    if (!prepared.ok) return prepared;
    const watched = await this.openWatch<T>(path, query, timeoutSeconds, prepared.value, opts);
    // A rotated CA or client certificate: new connections with the new material; the caller resumes as after any failure.
    if (!watched.ok && (isTlsFailure(watched.error) || watched.error.code === 401)) this.refreshTls(true);
    return watched;
  }

  private openWatch<T>(path: string, query: Query, timeoutSeconds: number, options: https.RequestOptions, opts: WatchOptions<T>): Promise<Result<void, ApiError>> {
    return new Promise((resolve) => {
      const controller = new AbortController();
      let abortedBecause: ApiError | undefined;
      const abort = (why: ApiError): void => {
        abortedBecause ??= why;
        controller.abort();
      };
      const onCallerAbort = (): void => abort({ code: undefined, reason: 'Aborted', message: 'watch stopped' });
      if (opts.signal?.aborted) return resolve(err({ code: undefined, reason: 'Aborted', message: 'watch stopped' }));
      opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
      this.openWatches.add(controller);
      const unwatch = this.liveness.watch({ abort });
      const openTimer = setTimeout(
        () => abort({ code: undefined, reason: 'Timeout', message: `watch not accepted within ${this.watchOpenTimeoutMs} ms` }),
        this.watchOpenTimeoutMs,
      );
      const endTimer = setTimeout(
        () => abort({ code: undefined, reason: 'Timeout', message: `watch still open ${WATCH_END_GRACE_MS} ms after its timeoutSeconds (${timeoutSeconds} s)` }),
        timeoutSeconds * 1000 + WATCH_END_GRACE_MS,
      );
      let settled = false;
      const finish = (r: Result<void, ApiError>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(openTimer);
        clearTimeout(endTimer);
        unwatch();
        this.openWatches.delete(controller);
        opts.signal?.removeEventListener('abort', onCallerAbort);
        // Ending early (an ERROR event, a broken line): the stream is still open.
        if (!r.ok) req.destroy();
        resolve(r);
      };
      const failed = (e: unknown): void => finish(err(abortedBecause ?? toApiError(e)));

      const req = this.transport.request(
        this.url(path, query),
        { ...options, signal: controller.signal },
        (res) => {
          clearTimeout(openTimer);
          this.liveness.heard();
          res.on('error', failed);
          if (res.statusCode !== 200) {
            void readText(res).then((text) => {
              if (res.statusCode === 401) this.token?.refresh();
              finish(err(apiErrorFromResponse(res.statusCode ?? 0, text, retryAfterHeader(res))));
            }, failed);
            return;
          }
          opts.onOpen?.();
          res.setEncoding('utf8'); // decodes characters split across chunks
          const lines = new LineSplitter();
          const deliver = (line: string): void => {
            if (settled) return;
            const parsed = parseWatchLine<T>(line);
            if (!parsed.ok) finish(err({ code: 200, reason: 'BadResponse', message: parsed.error }));
            else if (parsed.value.kind === 'error') finish(err(parsed.value.error));
            else opts.onEvent(parsed.value.event);
          };
          res.on('data', (chunk: string) => {
            this.liveness.heard();
            for (const line of lines.push(chunk)) deliver(line);
          });
          res.on('end', () => {
            for (const line of lines.end()) deliver(line);
            finish(ok(undefined));
          });
          res.on('close', () => {
            if (!res.complete) finish(err(abortedBecause ?? { code: undefined, reason: 'ECONNRESET', message: 'watch stream cut off before its end' }));
          });
        },
      );
      req.on('error', failed);
      req.end();
    });
  }

  close(): void {
    for (const c of this.openWatches) c.abort();
    this.agent.destroy();
  }

  // keepAlive: one pool of connections reused by every request and watch (client-node's fetch path made a TLS
  // handshake per request). lifo: reuse the most recently used connection, the least likely to be closed by the
  // server's idle timeout. keepAliveMsecs: TCP keepalive on every connection, so a vanished host is noticed by the kernel too.
  private makeAgent(tls: TlsSettings): http.Agent {
    const common = { keepAlive: true, keepAliveMsecs: 10_000, scheduling: 'lifo' as const };
    if (!this.secure) return new http.Agent(common);
    return new https.Agent({ ...common, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecureSkipTlsVerify, servername: tls.serverName });
  }

  /** Re-reads the TLS files when due (or now); when they changed, a new pool, and the old one's connections closed (open watches end and resume on new ones, as client-go does). */
  private refreshTls(force = false): boolean {
    if (!this.tls.refresh(force)) return false;
    const old = this.agent;
    this.agent = this.makeAgent(this.tls.current());
    old.destroy();
    return true;
  }

  /** Method, pool and headers of one request; with an `authenticate` hook, what it adds (it may fail: an exec plugin that exits non-zero). */
  private async requestOptions(method: Method, body?: { contentType: string; length: number }): Promise<Result<https.RequestOptions, ApiError>> {
    this.refreshTls();
    const auth = this.authorization();
    if (!auth.ok) return auth;
    const options: https.RequestOptions = { method, agent: this.agent, headers: this.headers(auth.value, body?.contentType, body?.length) };
    if (this.authenticate) {
      try {
        await this.authenticate(options);
      } catch (e) {
        return err({ code: undefined, reason: 'CredentialError', message: (e as Error).message?.trim() || String(e) });
      }
    }
    return ok(options);
  }

  private authorization(): Result<string | undefined, ApiError> {
    if (!this.token) return ok(undefined);
    const t = this.token.current();
    return t.ok ? ok(`Bearer ${t.value}`) : err({ code: undefined, reason: 'NoCredentials', message: t.error });
  }

  private headers(authorization: string | undefined, contentType?: string, length?: number): http.OutgoingHttpHeaders {
    return {
      Accept: 'application/json',
      'User-Agent': this.userAgent,
      ...(authorization ? { Authorization: authorization } : {}),
      ...(contentType ? { 'Content-Type': contentType, 'Content-Length': length } : {}),
    };
  }

  private url(path: string, query: Query | undefined): URL {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  // One request/response; staleConnection marks the keep-alive race worth one retry.
  private async exchange(method: Method, path: string, opts: RequestOptions): Promise<Exchanged> {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const prepared = await this.requestOptions(method, body === undefined ? undefined : { contentType: opts.contentType ?? 'application/json', length: Buffer.byteLength(body) });
    if (!prepared.ok) return prepared;
    return new Promise((resolve) => {
      const timeoutMs = Math.max(1, Math.ceil(opts.timeoutMs ?? this.timeoutMs));
      const controller = new AbortController();
      let abortedBecause: ApiError | undefined;
      const timer = setTimeout(() => {
        abortedBecause = { code: undefined, reason: 'Timeout', message: `no answer within ${timeoutMs} ms` };
        controller.abort();
      }, timeoutMs);
      const signal = opts.signal ? AbortSignal.any([controller.signal, opts.signal]) : controller.signal;
      let responded = false;
      const req = this.transport.request(this.url(path, opts.query), { ...prepared.value, signal }, (res) => {
        responded = true;
        this.liveness.heard();
        readText(res, () => this.liveness.heard()).then(
          (text) => {
            clearTimeout(timer);
            const status = res.statusCode ?? 0;
            resolve(status >= 200 && status <= 299 ? ok({ status, text }) : err(apiErrorFromResponse(status, text, retryAfterHeader(res))));
          },
          (e: unknown) => {
            clearTimeout(timer);
            resolve(err(abortedBecause ?? this.abortError(e, opts.signal)));
          },
        );
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (responded) return; // reported by the response's reader
        clearTimeout(timer);
        const stale = req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE');
        resolve(Object.assign(err(abortedBecause ?? this.abortError(e, opts.signal)), stale ? { staleConnection: true } : {}));
      });
      req.end(body);
    });
  }

  private abortError(e: unknown, callerSignal: AbortSignal | undefined): ApiError {
    if (callerSignal?.aborted) return { code: undefined, reason: 'Aborted', message: String(callerSignal.reason ?? 'aborted') };
    return toApiError(e);
  }

  // Any HTTP answer at all proves the server alive; only silence or a transport failure does not.
  private async probe(timeoutMs: number): Promise<ApiError | undefined> {
    const r = await this.exchange('GET', this.probePath, { timeoutMs });
    return r.ok || r.error.code !== undefined ? undefined : r.error;
  }
}

type Exchanged = Result<{ status: number; text: string }, ApiError> & { staleConnection?: boolean };

function retryAfterHeader(res: http.IncomingMessage): string | undefined {
  const h = res.headers['retry-after'];
  return Array.isArray(h) ? h[0] : h;
}

/** Waits ms unless the signal aborts first; true if it waited the whole time. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (full: boolean): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      resolve(full);
    };
    const onAbort = (): void => done(false);
    const t = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function readText(res: http.IncomingMessage, onData?: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
      onData?.();
    });
    res.on('end', () => resolve(text));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(Object.assign(new Error('connection closed before the response was complete'), { code: 'ECONNRESET' }));
    });
  });
}
