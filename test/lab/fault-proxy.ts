// A fault-injecting HTTPS proxy in front of the lab's API server: the
// component under test talks to the proxy (its own kubeconfig), the proxy to
// the API server, and a test decides per request what happens on the way:
// pass, delay, hold until released, fail with a Status the API server could
// have sent, drop the connection, or lag a watch stream. Every request is
// logged (method, path, query, what was done), so a test can also check what
// a client asked for.
//
// It terminates TLS (a serving certificate from the lab CA, swappable to test
// CA rotation) and forwards over a new connection: a request with an
// Authorization header goes on with that header (the caller's identity, e.g. a
// ServiceAccount token); one without goes on as the proxy's upstream client
// certificate (the lab admin by default), since a client certificate cannot
// be forwarded.
//
// What "hold" models: a request stuck between client and server. When it is
// released it reaches the API server only if its client is still waiting;
// a client that gave up (aborted, timed out) closed its connection, and the
// proxy drops what it held for it.
import { readFileSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createServingCert, type CertificateAuthority, type ClientCert } from './pki.ts';

/** Which requests a rule applies to; every given field must match. */
export interface RequestMatch {
  method?: string | readonly string[];
  /** The path without the query: a substring or a pattern. */
  path?: string | RegExp;
  /** true: only watches (`watch=true|1`); false: only non-watches. */
  watch?: boolean;
  /** Any other test on the request. */
  where?: (req: ProxiedRequest) => boolean;
}

/** A request as the rules and the log see it. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly watch: boolean;
  /** performance.now() when it arrived. */
  readonly at: number;
}

/** What the API server would answer: a metav1.Status with this code and reason, causes in details. */
export interface FailWith {
  status: number;
  reason?: string;
  message?: string;
  causes?: ReadonlyArray<{ reason?: string; message?: string; field?: string }>;
  /** Seconds, sent as the Retry-After header (the API server sends it with 429). */
  retryAfterSeconds?: number;
  /** For a watch: a 200 response carrying one ERROR event with the Status, as the watch cache sends 410. */
  asWatchEvent?: boolean;
}

export type FaultAction =
  | { kind: 'pass' }
  /** Forward after ms. */
  | { kind: 'delay'; ms: number }
  /** Keep it until the rule (or the proxy) releases it; forwarded then if its client still waits. */
  | { kind: 'hold' }
  | ({ kind: 'fail' } & FailWith)
  /** Close the client's connection without an answer (a reset). */
  | { kind: 'drop' }
  /** Forward, and pass every chunk of the answer on ms late: a watch that lags behind the API server. */
  | { kind: 'lag'; ms: number };

export interface FaultRule {
  readonly match: RequestMatch;
  readonly action: FaultAction;
  /** The first n matching requests only; afterwards the rule is spent (default: all). */
  readonly times?: number;
}

/** A rule in force: how often it matched; release what it holds; remove it. */
export interface ActiveRule {
  readonly matched: number;
  /** Held requests waiting for release. */
  readonly holding: number;
  /** Releases what this rule holds (forwarding each whose client still waits) and keeps the rule. */
  release(): void;
  /** Stops applying the rule; what it holds stays held until released. */
  remove(): void;
}

export interface LoggedRequest extends ProxiedRequest {
  /** What the proxy did with it. */
  readonly action: FaultAction['kind'];
}

export interface FaultProxyOptions {
  /** The API server, e.g. https://127.0.0.1:6443. */
  upstream: string;
  /** PEM file of the CA that signed the API server's certificate. */
  upstreamCa: string;
  /** Presented to the API server for requests without an Authorization header. */
  upstreamClient: ClientCert;
  /** Signs the proxy's serving certificate (SAN 127.0.0.1). */
  ca: CertificateAuthority;
}

interface Held {
  readonly rule: Rule;
  forward(): void;
  drop(): void;
}

interface Rule extends FaultRule {
  matched: number;
  removed: boolean;
  readonly held: Set<Held>;
}

interface Exchange {
  readonly req: ProxiedRequest;
  readonly close: () => void;
}

export class FaultProxy {
  /** https://127.0.0.1:port */
  readonly url: string;
  readonly log: LoggedRequest[] = [];
  readonly #server: https.Server;
  readonly #opts: FaultProxyOptions;
  readonly #asCaller: https.Agent;
  readonly #asAdmin: https.Agent;
  readonly #rules: Rule[] = [];
  readonly #open = new Set<Exchange>();

  private constructor(server: https.Server, url: string, opts: FaultProxyOptions) {
    this.#server = server;
    this.url = url;
    this.#opts = opts;
    const ca = readFileSync(opts.upstreamCa);
    this.#asCaller = new https.Agent({ keepAlive: true, ca });
    this.#asAdmin = new https.Agent({ keepAlive: true, ca, cert: readFileSync(opts.upstreamClient.cert), key: readFileSync(opts.upstreamClient.key) });
  }

  /** Starts a proxy on 127.0.0.1 (a free port) with a serving certificate from opts.ca. */
  static async start(opts: FaultProxyOptions): Promise<FaultProxy> {
    const serving = await createServingCert(opts.ca, `fault-proxy-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, ['IP:127.0.0.1']);
    const server = https.createServer({ cert: readFileSync(serving.cert), key: readFileSync(serving.key) });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const port = (server.address() as { port: number }).port;
    const proxy = new FaultProxy(server, `https://127.0.0.1:${port}`, opts);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => proxy.#onRequest(req, res));
    return proxy;
  }

  /** A proxy in front of a lab control plane, as its admin unless the caller sends a token. */
  static forControlPlane(cp: { server: string; caCert: string; pkiDir: string }): Promise<FaultProxy> {
    return FaultProxy.start({
      upstream: cp.server,
      upstreamCa: cp.caCert,
      upstreamClient: { cert: join(cp.pkiDir, 'admin.crt'), key: join(cp.pkiDir, 'admin.key') },
      ca: { dir: cp.pkiDir, caCert: cp.caCert, caKey: join(cp.pkiDir, 'ca.key') },
    });
  }

  /**
   * A kubeconfig that reaches the API server through this proxy: with a token, the caller's identity;
   * without, no credentials (the proxy forwards as its upstream client).
   */
  writeKubeconfig(path: string, opts: { token?: string; caCert?: string } = {}): string {
    const ca = readFileSync(opts.caCert ?? this.#opts.ca.caCert).toString('base64');
    writeFileSync(
      path,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fault-proxy', cluster: { server: this.url, 'certificate-authority-data': ca } }],
        users: [{ name: 'fault-proxy', user: opts.token ? { token: opts.token } : {} }],
        contexts: [{ name: 'fault-proxy', context: { cluster: 'fault-proxy', user: 'fault-proxy' } }],
        'current-context': 'fault-proxy',
      }),
      { mode: 0o600 },
    );
    return path;
  }

  /** Serves a new certificate from now on (new connections); e.g. one from another CA, to test CA rotation in clients. */
  setServingCert(cert: ClientCert): void {
    this.#server.setSecureContext({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) });
  }

  /** Closes every client connection (kept-alive ones too), as a restarted API server or load balancer does. */
  dropConnections(): void {
    this.#server.closeAllConnections();
  }

  /** Adds a rule; rules are tried in the order they were added, the first that matches decides. */
  add(rule: FaultRule): ActiveRule {
    const r: Rule = { ...rule, matched: 0, removed: false, held: new Set() };
    this.#rules.push(r);
    return {
      get matched() {
        return r.matched;
      },
      get holding() {
        return r.held.size;
      },
      release: () => {
        for (const h of [...r.held]) h.forward();
      },
      remove: () => {
        r.removed = true;
        this.#rules.splice(this.#rules.indexOf(r), 1);
      },
    };
  }

  /** Removes every rule and releases everything held. */
  clear(): void {
    const held = this.#rules.flatMap((r) => [...r.held]);
    for (const r of this.#rules) r.removed = true;
    this.#rules.length = 0;
    for (const h of held) h.forward();
  }

  /** Closes the connections of requests in progress that match (e.g. open watches, so that clients reconnect into new rules); returns how many. */
  cut(match: RequestMatch): number {
    let n = 0;
    for (const x of [...this.#open]) {
      if (!matches(match, x.req)) continue;
      x.close();
      n++;
    }
    return n;
  }

  /** Requests logged so far that match. */
  requests(match: RequestMatch = {}): LoggedRequest[] {
    return this.log.filter((r) => matches(match, r));
  }

  async close(): Promise<void> {
    for (const r of this.#rules) for (const h of [...r.held]) h.drop();
    for (const x of [...this.#open]) x.close();
    this.#asCaller.destroy();
    this.#asAdmin.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://proxy');
    const query = url.searchParams;
    const proxied: ProxiedRequest = { method: req.method ?? 'GET', path: url.pathname, query, watch: query.get('watch') === 'true' || query.get('watch') === '1', at: performance.now() };
    const rule = this.#rules.find((r) => !r.removed && (r.times === undefined || r.matched < r.times) && matches(r.match, proxied));
    if (rule) rule.matched++;
    const action = rule?.action ?? { kind: 'pass' };
    this.log.push({ ...proxied, action: action.kind });

    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const exchange: Exchange = { req: proxied, close: () => res.socket?.destroy() };
      this.#open.add(exchange);
      res.on('close', () => this.#open.delete(exchange));
      const forward = (lagMs = 0): void => this.#forward(req, res, body, lagMs);
      switch (action.kind) {
        case 'pass':
          return forward();
        case 'lag':
          return forward(action.ms);
        case 'delay': {
          const t = setTimeout(forward, action.ms);
          res.on('close', () => clearTimeout(t));
          return;
        }
        case 'drop':
          return void res.socket?.destroy();
        case 'fail':
          return failWith(res, proxied, action);
        case 'hold': {
          const r = rule!;
          const held: Held = {
            rule: r,
            forward: () => {
              r.held.delete(held);
              if (!res.destroyed && !res.socket?.destroyed) forward();
            },
            drop: () => {
              r.held.delete(held);
              res.socket?.destroy();
            },
          };
          r.held.add(held);
          res.on('close', () => r.held.delete(held));
          return;
        }
      }
    });
  }

  #forward(req: IncomingMessage, res: ServerResponse, body: Buffer, lagMs: number): void {
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    const upstream = https.request(this.#opts.upstream + (req.url ?? '/'), {
      method: req.method,
      headers,
      agent: headers.authorization ? this.#asCaller : this.#asAdmin,
    });
    upstream.on('response', (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      // A watch's headers come long before its first event: the client counts the watch as open from them.
      res.flushHeaders();
      if (lagMs <= 0) {
        up.pipe(res);
        return;
      }
      // Every chunk the same delay later: the order stays, the stream lags.
      up.on('data', (c: Buffer) => setTimeout(() => res.destroyed || res.write(c), lagMs));
      up.on('end', () => setTimeout(() => res.destroyed || res.end(), lagMs));
    });
    upstream.on('error', () => res.socket?.destroy());
    res.on('close', () => upstream.destroy());
    upstream.end(body);
  }
}

function matches(m: RequestMatch, r: ProxiedRequest): boolean {
  if (m.method !== undefined && !(typeof m.method === 'string' ? [m.method] : m.method).includes(r.method)) return false;
  if (m.path !== undefined && !(typeof m.path === 'string' ? r.path.includes(m.path) : m.path.test(r.path))) return false;
  if (m.watch !== undefined && m.watch !== r.watch) return false;
  return m.where === undefined || m.where(r);
}

function failWith(res: ServerResponse, req: ProxiedRequest, f: FailWith): void {
  const status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: f.message ?? `injected ${f.status}`,
    reason: f.reason ?? '',
    ...(f.causes ? { details: { causes: f.causes } } : {}),
    code: f.status,
  };
  if (f.asWatchEvent && req.watch) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
    return;
  }
  res.writeHead(f.status, { 'Content-Type': 'application/json', ...(f.retryAfterSeconds !== undefined ? { 'Retry-After': String(f.retryAfterSeconds) } : {}) });
  res.end(JSON.stringify(status));
}
