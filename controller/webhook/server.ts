// The webhook's HTTPS server: AdmissionReview v1 in and out on
// /validate-ipaddresspool and /validate-l2advertisement. It never crashes on a
// bad request (400 with the reason), and it picks up a new certificate when the
// files change (a mounted Secret is swapped by symlink, so the directory is
// watched and polled, and a half-written pair is ignored until it is whole).
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureContext } from 'node:tls';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { IPAddressPool, L2Advertisement } from '../../shared/api/index.ts';
import { admissionResponse, decide, isRoute, parseAdmissionReview, type AdmissionRequest, type NamespaceObjects, type Route } from './admission.ts';
import type { Verdict } from '../../shared/config/index.ts';

/** Where the webhook reads the objects a decision depends on (live, so that `kubectl apply` of two pools in a row sees the first). */
export interface WebhookObjects {
  pools(namespace: string): Promise<IPAddressPool[]>;
  l2Advertisements(namespace: string): Promise<L2Advertisement[]>;
}

/** pino's Logger fits this. */
export interface WebhookLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export interface WebhookServerOptions {
  /** "host:port"; ":9443" listens on every address. Port 0 picks a free one. */
  bindAddress: string;
  certFile: string;
  keyFile: string;
  objects: WebhookObjects;
  /** Ballast's install namespace: new objects elsewhere are refused. Undefined: any namespace. */
  namespace?: string;
  log?: WebhookLogger;
  /** How often the certificate files are re-read, also without a change notification (default 10 s). */
  reloadIntervalMs?: number;
  /** Largest body accepted (default 8 MiB: an UPDATE review carries two objects of up to 1.5 MiB each). */
  maxBodyBytes?: number;
}

export interface WebhookServer {
  readonly port: number;
  /** How many times a certificate pair was loaded (1 at start): for tests and logs. */
  readonly certificateLoads: number;
  close(): Promise<void>;
}

export const silentLogger: WebhookLogger = { info: () => {}, warn: () => {}, error: () => {} };

export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const log = opts.log ?? silentLogger;
  const maxBody = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  const { host, port } = parseBindAddress(opts.bindAddress);
  let current = await readPair(opts.certFile, opts.keyFile);
  createSecureContext(current); // a broken pair at start is the caller's error, not something to serve with
  let loads = 1;

  const server: Server = createServer({ ...current, minVersion: 'TLSv1.2' }, (req, res) => {
    void handle(req, res).catch((e: unknown) => {
      // Only reachable through a bug in handle itself; answer if still possible.
      log.error({ err: e }, 'webhook request failed');
      if (!res.headersSent) text(res, 500, 'internal error');
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.on('tlsClientError', (e) => log.warn({ err: e.message }, 'webhook TLS handshake failed'));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://webhook').pathname;
    if (!isRoute(path)) return text(res, 404, `no webhook at ${path}; use /validate-ipaddresspool or /validate-l2advertisement`);
    if (req.method !== 'POST') return text(res, 405, 'use POST');
    const body = await readBody(req, maxBody);
    if (!body.ok) return text(res, body.status, body.reason);
    let json: unknown;
    try {
      json = JSON.parse(body.text);
    } catch (e) {
      return text(res, 400, `body is not JSON: ${(e as Error).message}`);
    }
    const review = parseAdmissionReview(json);
    if (!review.ok) return text(res, 400, `malformed AdmissionReview: ${review.error}`);
    const verdict = await decideWithObjects(path, review.value);
    log.info(
      { uid: review.value.uid, kind: review.value.kind, operation: review.value.operation, namespace: review.value.namespace, allowed: verdict.allowed, reasons: verdict.reasons, warnings: verdict.warnings },
      'admission review',
    );
    const out = JSON.stringify(admissionResponse(review.value.uid, verdict));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  }

  async function decideWithObjects(route: Route, request: AdmissionRequest): Promise<Verdict> {
    let objects: NamespaceObjects;
    try {
      // Advertisements matter only to a pool (for a warning); an advertisement is checked against pools alone.
      const [pools, advertisements] = await Promise.all([
        opts.objects.pools(request.namespace),
        route !== '/validate-ipaddresspool'
          ? undefined
          : opts.objects.l2Advertisements(request.namespace).catch((e: unknown) => {
              log.warn({ err: String(e) }, 'cannot list L2Advertisements; validating without them');
              return undefined;
            }),
      ]);
      objects = { pools, advertisements };
    } catch (e) {
      // Without the other pools an overlap cannot be ruled out: refuse, and say why.
      return { allowed: false, reasons: [`cannot check this object against the other IPAddressPools: listing them failed: ${String(e)}`], warnings: [] };
    }
    return decide(route, request, objects, opts.namespace);
  }

  const reload = async (): Promise<void> => {
    try {
      const next = await readPair(opts.certFile, opts.keyFile);
      if (next.cert.equals(current.cert) && next.key.equals(current.key)) return;
      server.setSecureContext({ ...next, minVersion: 'TLSv1.2' }); // throws on a mismatched or half-written pair
      current = next;
      loads++;
      log.info({ certFile: opts.certFile }, 'webhook certificate reloaded');
    } catch (e) {
      log.warn({ err: String(e) }, 'webhook certificate files unreadable or mismatched; keeping the current one');
    }
  };
  const timer = setInterval(() => void reload(), opts.reloadIntervalMs ?? 10_000);
  timer.unref();
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(opts.certFile), () => void reload());
    watcher.on('error', () => watcher?.close());
  } catch {
    // The poll above still reloads.
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => log.error({ err: e }, 'webhook server error'));
  log.info({ address: server.address() }, 'webhook listening');

  return {
    port: (server.address() as AddressInfo).port,
    get certificateLoads() {
      return loads;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        watcher?.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** ":9443" → every address; "127.0.0.1:0", "[::1]:9443". */
export function parseBindAddress(address: string): { host: string | undefined; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new Error(`bind address "${address}" is not host:port (e.g. ":9443", "127.0.0.1:9443", "[::1]:9443")`);
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
}

async function readPair(certFile: string, keyFile: string): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  return { cert, key };
}

type Body = { ok: true; text: string } | { ok: false; status: number; reason: string };

function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (b: Body): void => {
      if (done) return;
      done = true;
      resolve(b);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        finish({ ok: false, status: 413, reason: `body larger than ${limit} bytes` });
        req.resume();
        return;
      }
      if (!done) chunks.push(chunk);
    });
    req.on('end', () => finish({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', (e) => finish({ ok: false, status: 400, reason: `reading the body failed: ${e.message}` }));
  });
}

function text(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(message) + 1 });
  res.end(`${message}\n`);
}
