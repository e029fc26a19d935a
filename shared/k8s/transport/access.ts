// Ballast's own HTTP transport to the API server: node:https with one
// keep-alive connection pool, JSON in and out, a deadline on every call,
// streaming watches.
//
// Why not @kubernetes/client-node at run time: importing any part of it
// (even only its KubeConfig) loads every generated API client, undici and the
// proxy agents: ~125 MB RSS before the program does anything, against the
// speaker's 80 MB budget (DESIGN §5). What Ballast needs from it is small: a
// kubeconfig, a few JSON verbs on a handful of paths, and a watch. Its Watch
// also needs 30–60 s to notice a dead API server; ours notices in seconds
// (liveness.ts). Tests may still use client-node to arrange the cluster.
import * as http from 'node:http';
import * as https from 'node:https';
import { err, ok, type Result } from '../../result.ts';
import { apiErrorFromResponse, toApiError, type ApiError } from '../api-error.ts';
import type { BearerToken } from './credentials.ts';
import { LivenessMonitor, type LivenessOptions } from './liveness.ts';
import { LineSplitter, parseWatchLine, type WatchEvent } from './ndjson.ts';

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

/** TLS material as the connection needs it (PEM text). */
export interface TlsSettings {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly insecureSkipTlsVerify: boolean;
  readonly serverName?: string | undefined;
}

/** Where the API server is and how to prove who we are. */
export interface Connection {
  readonly server: string;
  readonly tls: TlsSettings;
  readonly token?: BearerToken | undefined;
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

class HttpApiAccess implements ApiAccess {
  readonly server: string;
  private readonly transport: typeof https | typeof http;
  private readonly agent: http.Agent;
  private readonly token: BearerToken | undefined;
  private readonly timeoutMs: number;
  private readonly watchOpenTimeoutMs: number;
  private readonly watchTimeoutSeconds: () => number;
  private readonly probePath: string;
  private readonly userAgent: string;
  private readonly liveness: LivenessMonitor;
  private readonly openWatches = new Set<AbortController>();

  constructor(connection: Connection, opts: ApiAccessOptions) {
    this.server = connection.server;
    const secure = new URL(connection.server).protocol === 'https:';
    this.transport = secure ? https : http;
    // keepAlive: one pool of connections reused by every request and watch (client-node's fetch path made a TLS
    // handshake per request). lifo: reuse the most recently used connection, the least likely to be closed by the
    // server's idle timeout. keepAliveMsecs: TCP keepalive on every connection, so a vanished host is noticed by the kernel too.
    const common = { keepAlive: true, keepAliveMsecs: 10_000, scheduling: 'lifo' as const };
    this.agent = secure
      ? new https.Agent({
          ...common,
          ca: connection.tls.ca,
          cert: connection.tls.cert,
          key: connection.tls.key,
          rejectUnauthorized: !connection.tls.insecureSkipTlsVerify,
          servername: connection.tls.serverName,
        })
      : new http.Agent(common);
    this.token = connection.token;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.watchOpenTimeoutMs = opts.watchOpenTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.watchTimeoutSeconds = opts.watchTimeoutSeconds ?? (() => Math.floor(300 * (1 + Math.random())));
    this.probePath = opts.probePath ?? '/livez?exclude=etcd';
    this.userAgent = opts.userAgent ?? `ballast (node ${process.version})`;
    this.liveness = new LivenessMonitor(opts.liveness ?? {}, { now: () => performance.now(), probe: (ms) => this.probe(ms) });
  }

  async request<T>(method: Method, path: string, opts: RequestOptions = {}): Promise<Result<T, ApiError>> {
    let first = await this.exchange(method, path, opts);
    // A keep-alive connection the server closed just as we sent on it: the request never reached it.
    if (!first.ok && first.staleConnection && IDEMPOTENT.has(method)) first = await this.exchange(method, path, opts);
    // A rotated token: read it again and retry once (a 401 means the request was not processed).
    if (!first.ok && first.error.code === 401 && this.token?.refresh()) first = await this.exchange(method, path, opts);
    if (!first.ok) return err(first.error);
    const { text, status } = first.value;
    if (!text) return ok(undefined as T);
    try {
      return ok(JSON.parse(text) as T);
    } catch (e) {
      return err({ code: status, reason: 'BadResponse', message: `not JSON: ${(e as Error).message}` });
    }
  }

  watch<T>(path: string, opts: WatchOptions<T>): Promise<Result<void, ApiError>> {
    const timeoutSeconds = this.watchTimeoutSeconds();
    const query = { ...opts.query, watch: true, allowWatchBookmarks: true, timeoutSeconds };
    return new Promise((resolve) => {
      const auth = this.authorization();
      if (!auth.ok) return resolve(auth);
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
        { method: 'GET', agent: this.agent, headers: this.headers(auth.value), signal: controller.signal },
        (res) => {
          clearTimeout(openTimer);
          this.liveness.heard();
          res.on('error', failed);
          if (res.statusCode !== 200) {
            void readText(res).then((text) => {
              if (res.statusCode === 401) this.token?.refresh();
              finish(err(apiErrorFromResponse(res.statusCode ?? 0, text)));
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
  private exchange(
    method: Method,
    path: string,
    opts: RequestOptions,
  ): Promise<Result<{ status: number; text: string }, ApiError> & { staleConnection?: boolean }> {
    return new Promise((resolve) => {
      const auth = this.authorization();
      if (!auth.ok) return resolve(auth);
      const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
      const timeoutMs = Math.max(1, Math.ceil(opts.timeoutMs ?? this.timeoutMs));
      const controller = new AbortController();
      let abortedBecause: ApiError | undefined;
      const timer = setTimeout(() => {
        abortedBecause = { code: undefined, reason: 'Timeout', message: `no answer within ${timeoutMs} ms` };
        controller.abort();
      }, timeoutMs);
      const signal = opts.signal ? AbortSignal.any([controller.signal, opts.signal]) : controller.signal;
      let responded = false;
      const req = this.transport.request(
        this.url(path, opts.query),
        {
          method,
          agent: this.agent,
          signal,
          headers: this.headers(auth.value, body === undefined ? undefined : (opts.contentType ?? 'application/json'), body === undefined ? undefined : Buffer.byteLength(body)),
        },
        (res) => {
          responded = true;
          this.liveness.heard();
          readText(res, () => this.liveness.heard()).then(
            (text) => {
              clearTimeout(timer);
              const status = res.statusCode ?? 0;
              resolve(status >= 200 && status <= 299 ? ok({ status, text }) : err(apiErrorFromResponse(status, text)));
            },
            (e: unknown) => {
              clearTimeout(timer);
              resolve(err(abortedBecause ?? this.abortError(e, opts.signal)));
            },
          );
        },
      );
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
