// The transport against a local HTTP server on 127.0.0.1 that plays the API
// server: JSON, errors, deadlines, connection reuse, token rotation and
// watches (chunking, bookmarks, 410, a silent server). TLS and real API
// servers are in access.lab.test.ts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createApiAccess, type ApiAccess, type ApiAccessOptions } from './access.ts';
import { staticToken, tokenFile } from './credentials.ts';
import { fixedTls } from './tls-material.ts';
import type { WatchEvent } from './ndjson.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let base: string;
let handler: Handler = (_req, res) => res.end();
const sockets = new Set<Socket>();
let connections = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

const accesses: ApiAccess[] = [];
afterEach(() => {
  for (const a of accesses.splice(0)) a.close();
  for (const s of sockets) s.destroy();
});

function access(opts: ApiAccessOptions = {}, token = staticToken('secret')): ApiAccess {
  const a = createApiAccess({ server: base, tls: fixedTls({ insecureSkipTlsVerify: false }), token }, { watchTimeoutSeconds: () => 300, ...opts });
  accesses.push(a);
  return a;
}

const json = (res: ServerResponse, code: number, body: unknown): void => {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('requests', () => {
  it('sends JSON with the token, the query and the content type; answers are parsed JSON', async () => {
    let seen: { method?: string; url?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    handler = (req, res, body) => {
      seen = { method: req.method, url: req.url, headers: req.headers, body };
      json(res, 200, { kind: 'ConfigMap', data: { ü: 'ö' } });
    };
    const r = await access().request('PATCH', '/api/v1/namespaces/a/configmaps/b', {
      query: { fieldManager: 'ballast', force: true, skip: undefined },
      body: { data: { v: '1' } },
      contentType: 'application/merge-patch+json',
    });
    expect(r).toEqual({ ok: true, value: { kind: 'ConfigMap', data: { ü: 'ö' } } });
    expect(seen).toMatchObject({
      method: 'PATCH',
      url: '/api/v1/namespaces/a/configmaps/b?fieldManager=ballast&force=true',
      body: '{"data":{"v":"1"}}',
      headers: { authorization: 'Bearer secret', accept: 'application/json', 'content-type': 'application/merge-patch+json', 'content-length': '18' },
    });
  });

  it('an answer that is not 2xx is an ApiError in the API server’s words', async () => {
    handler = (_req, res) => json(res, 404, { kind: 'Status', reason: 'NotFound', message: 'configmaps "b" not found', code: 404 });
    expect(await access().request('GET', '/api/v1/namespaces/a/configmaps/b')).toEqual({ ok: false, error: { code: 404, reason: 'NotFound', message: 'configmaps "b" not found' } });
    handler = (_req, res) => {
      res.writeHead(200);
      res.end('{"half":');
    };
    expect(await access().request('GET', '/x')).toMatchObject({ ok: false, error: { code: 200, reason: 'BadResponse' } });
  });

  it('reuses one connection for sequential requests', async () => {
    handler = (_req, res) => json(res, 200, {});
    const a = access();
    const before = connections;
    for (let i = 0; i < 30; i++) expect((await a.request('GET', '/x')).ok).toBe(true);
    expect(connections - before).toBe(1);
  });

  it('gives up at the deadline, or when the caller aborts, and says which', async () => {
    handler = () => {}; // never answers
    const started = performance.now();
    expect(await access().request('GET', '/slow', { timeoutMs: 150 })).toEqual({ ok: false, error: { code: undefined, reason: 'Timeout', message: 'no answer within 150 ms' } });
    expect(performance.now() - started).toBeLessThan(1_000);
    const caller = new AbortController();
    setTimeout(() => caller.abort(new Error('shutting down')), 50);
    expect(await access().request('GET', '/slow', { signal: caller.signal })).toMatchObject({ ok: false, error: { reason: 'Aborted', message: 'Error: shutting down' } });
  });

  it('429: waits as long as Retry-After asks and tries again, any verb (the request was never processed), within the deadline', async () => {
    let calls = 0;
    const at: number[] = [];
    handler = (_req, res) => {
      at.push(performance.now());
      if (calls++ === 0) {
        res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '1' });
        return void res.end(JSON.stringify({ kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'too many requests, please try again later' }));
      }
      json(res, 201, { made: true });
    };
    expect(await access().request('POST', '/things', { body: {} })).toEqual({ ok: true, value: { made: true } });
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950);
    calls = 0;
    // A deadline shorter than the wait: the 429 is the answer, with how long the server asked for.
    expect(await access().request('GET', '/things', { timeoutMs: 300 })).toMatchObject({ ok: false, error: { code: 429, reason: 'TooManyRequests', retryAfterMs: 1_000 } });
  });

  it('retries a GET once when a kept-alive connection turns out closed, but never a POST', async () => {
    const answered = new WeakSet<Socket>();
    // The first request on a connection is answered, the next one on it is cut: what a server that closed an idle connection does.
    handler = (req, res) => {
      if (answered.has(req.socket)) return void req.socket.destroy();
      answered.add(req.socket);
      json(res, 200, { n: 1 });
    };
    const a = access();
    expect((await a.request('GET', '/x')).ok).toBe(true);
    expect(await a.request('GET', '/x')).toEqual({ ok: true, value: { n: 1 } });
    const post = await a.request('POST', '/x', { body: {} });
    expect(post).toMatchObject({ ok: false, error: { code: undefined, reason: 'ECONNRESET' } });
  });

  it('after a 401 a token file is read again and the request retried once with the new token', async () => {
    let onDisk = 'old';
    const tokens: string[] = [];
    handler = (req, res) => {
      tokens.push(req.headers.authorization ?? '');
      if (req.headers.authorization === 'Bearer new') json(res, 200, { ok: 1 });
      else json(res, 401, { kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized', code: 401 });
    };
    const a = access({}, tokenFile('/token', { readFile: () => onDisk, now: () => 0, maxAgeMs: 3_600_000 }));
    expect(await a.request('GET', '/x')).toMatchObject({ ok: false, error: { code: 401 } });
    expect(tokens).toEqual(['Bearer old']); // unchanged file: no pointless retry
    onDisk = 'new';
    expect(await a.request('DELETE', '/x')).toEqual({ ok: true, value: { ok: 1 } });
    expect(tokens).toEqual(['Bearer old', 'Bearer old', 'Bearer new']);
  });
});

describe('watch', () => {
  type Obj = { metadata: { name?: string; resourceVersion: string } };
  const line = (type: string, object: unknown): string => `${JSON.stringify({ type, object })}\n`;

  it('delivers events however the stream is chunked (a character split across chunks too), bookmarks included; ok when the server ends it', async () => {
    let url = '';
    handler = (req, res) => {
      url = req.url ?? '';
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const bytes = Buffer.from(line('ADDED', { metadata: { name: 'grüße', resourceVersion: '2' } }) + line('BOOKMARK', { metadata: { resourceVersion: '3' } }) + line('DELETED', { metadata: { name: 'b', resourceVersion: '4' } }));
      const split = bytes.indexOf(Buffer.from('ü')) + 1; // inside the two bytes of ü
      const pieces = [bytes.subarray(0, 5), bytes.subarray(5, split), bytes.subarray(split, split + 40), bytes.subarray(split + 40)];
      let i = 0;
      const next = (): void => {
        if (i < pieces.length) res.write(pieces[i++], () => setTimeout(next, 5));
        else res.end();
      };
      next();
    };
    const events: Array<WatchEvent<Obj>> = [];
    let opened = 0;
    const r = await access().watch<Obj>('/api/v1/configmaps', {
      query: { resourceVersion: '1', labelSelector: 'app=x' },
      onOpen: () => opened++,
      onEvent: (e) => events.push(e),
    });
    expect(r).toEqual({ ok: true, value: undefined });
    expect(opened).toBe(1);
    expect(events.map((e) => [e.type, e.object.metadata.name, e.object.metadata.resourceVersion])).toEqual([
      ['ADDED', 'grüße', '2'],
      ['BOOKMARK', undefined, '3'],
      ['DELETED', 'b', '4'],
    ]);
    expect(new URL(url, base).searchParams.toString()).toBe('resourceVersion=1&labelSelector=app%3Dx&watch=true&allowWatchBookmarks=true&timeoutSeconds=300');
  });

  it('an ERROR event ends the watch with the API server’s Status: 410 means list again', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write(line('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (50)' })); // and the stream stays open
    };
    expect(await access().watch('/x', { onEvent: () => {} })).toEqual({ ok: false, error: { code: 410, reason: 'Expired', message: 'too old resource version: 1 (50)' } });
  });

  it('a refused watch is its error; a stream cut off mid-way is an error, not an end', async () => {
    handler = (_req, res) => json(res, 403, { kind: 'Status', reason: 'Forbidden', message: 'configmaps is forbidden', code: 403 });
    let opened = false;
    expect(await access().watch('/x', { onOpen: () => (opened = true), onEvent: () => {} })).toEqual({ ok: false, error: { code: 403, reason: 'Forbidden', message: 'configmaps is forbidden' } });
    expect(opened).toBe(false);
    handler = (req, res) => {
      res.writeHead(200);
      res.write(line('ADDED', { metadata: { resourceVersion: '2' } }), () => setTimeout(() => req.socket.destroy(), 20));
    };
    const events: unknown[] = [];
    expect(await access().watch('/x', { onEvent: (e) => events.push(e) })).toMatchObject({ ok: false, error: { code: undefined, reason: 'ECONNRESET' } });
    expect(events).toHaveLength(1);
  });

  it('the caller ends it with its signal', async () => {
    handler = (_req, res) => void res.writeHead(200).flushHeaders();
    const stop = new AbortController();
    const watching = access().watch('/x', { signal: stop.signal, onOpen: () => stop.abort(), onEvent: () => {} });
    expect(await watching).toEqual({ ok: false, error: { code: undefined, reason: 'Aborted', message: 'watch stopped' } });
  });

  it('a silent server that does not answer the probe either ends the watch within idle + probe timeout', async () => {
    const probes: string[] = [];
    handler = (req, res) => {
      if (req.url?.startsWith('/livez')) return void probes.push(req.url); // hangs, like a frozen API server
      res.writeHead(200).flushHeaders();
    };
    const started = performance.now();
    const r = await access({ liveness: { idleMs: 200, probeTimeoutMs: 200 } }).watch('/x', { onEvent: () => {} });
    const took = performance.now() - started;
    expect(r).toMatchObject({ ok: false, error: { code: undefined, reason: 'Unresponsive', message: expect.stringMatching(/^the API server sent nothing for \d+ ms, and a probe got no response \(Timeout\): no answer within 200 ms$/) } });
    expect(probes).toEqual(['/livez?exclude=etcd']);
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(1_500);
  });

  it('a quiet watch stays open while the server answers probes (any answer, even a 403)', async () => {
    let probes = 0;
    handler = (req, res) => {
      if (req.url?.startsWith('/livez')) {
        probes++;
        return json(res, 403, { kind: 'Status', code: 403, reason: 'Forbidden', message: 'forbidden' });
      }
      res.writeHead(200).flushHeaders();
    };
    const stop = new AbortController();
    const watching = access({ liveness: { idleMs: 100, probeTimeoutMs: 100 } }).watch('/x', { signal: stop.signal, onEvent: () => {} });
    await new Promise((r) => setTimeout(r, 700));
    stop.abort();
    expect(await watching).toMatchObject({ ok: false, error: { reason: 'Aborted' } });
    expect(probes).toBeGreaterThanOrEqual(3);
  });
});
