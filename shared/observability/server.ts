// The process's HTTP endpoints for Kubernetes and Prometheus: /healthz (the
// process is alive and its event loop turns), /readyz (named checks, in
// kube-apiserver's [+]/[-] format), /metrics. Plain node:http: three fixed
// routes do not need a framework.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from './prom.ts';
import { err, ok, type Result } from '../result.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { ReadinessChecks } from './readiness.ts';

/** Where to listen and what to serve. */
export interface ObservabilityServerOptions {
  /** Bind address: 0.0.0.0 / :: so the kubelet can probe, 127.0.0.1 for local only. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  registry: Registry;
  readiness: ReadinessChecks;
  /** Longest a readiness check may take before it counts as failed (default 1 s). */
  checkTimeoutMs?: number;
  logger?: Logger;
}

/** A listening server; close() drains it. */
export interface ObservabilityServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** /readyz fails from now on (so the endpoint is drained), requests in flight finish, connections close after graceMs (default 2 s). */
  close(graceMs?: number): Promise<void>;
}

/** Starts listening; an error value if the address cannot be bound (in use, not local …). */
export async function startObservabilityServer(opts: ObservabilityServerOptions): Promise<Result<ObservabilityServer, string>> {
  const log = (opts.logger ?? silentLogger).child({ component: 'http' });
  const checkTimeoutMs = opts.checkTimeoutMs ?? 1_000;
  let closing = false;
  const reply = (res: ServerResponse, status: number, contentType: string, body: string): void => {
    // While draining, every answer closes its connection, so close() need not wait out keep-alive.
    if (closing) res.shouldKeepAlive = false;
    writeReply(res, status, contentType, body);
  };

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    '/healthz': async (_req, res) => reply(res, 200, 'text/plain; charset=utf-8', 'ok\n'),
    '/readyz': async (req, res) => {
      const outcomes = await opts.readiness.run(checkTimeoutMs);
      const lines = outcomes.map((o) => (o.result.ok ? `[+]${o.name} ok` : `[-]${o.name} failed: ${o.result.error}`));
      if (closing) lines.push('[-]shutdown failed: the process is shutting down');
      const ready = !closing && outcomes.every((o) => o.result.ok);
      const verbose = new URL(req.url ?? '/', 'http://x').searchParams.has('verbose');
      const body = ready && !verbose ? 'ok\n' : `${lines.join('\n')}\n${ready ? 'readyz check passed' : 'readyz check failed'}\n`;
      reply(res, ready ? 200 : 503, 'text/plain; charset=utf-8', body);
    },
    '/metrics': async (_req, res) => reply(res, 200, opts.registry.contentType, await opts.registry.metrics()),
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes[path];
    if (!route) return reply(res, 404, 'text/plain; charset=utf-8', `no such endpoint: ${path} (try /healthz, /readyz, /metrics)\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return reply(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    route(req, res).catch((e: unknown) => {
      log.error({ err: e, path }, 'endpoint failed');
      if (!res.headersSent) reply(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
    });
  });

  const listening = await new Promise<Result<AddressInfo, string>>((resolve) => {
    server.once('error', (e) => resolve(err(`listen on ${opts.host}:${opts.port}: ${e.message}`)));
    server.listen(opts.port, opts.host, () => resolve(ok(server.address() as AddressInfo)));
  });
  if (!listening.ok) return listening;
  const { port } = listening.value;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  log.info({ url }, 'serving /healthz, /readyz, /metrics');

  let closed: Promise<void> | undefined;
  return ok({
    host: opts.host,
    port,
    url,
    close: (graceMs = 2_000) =>
      (closed ??= new Promise<void>((resolve) => {
        closing = true;
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      })),
  });
}

function writeReply(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
