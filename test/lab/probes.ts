// Requests that never throw (an HTTP GET, a bare TCP connect), and a probing
// series: one every few ms, each sample timed on the wall clock so another
// process can line it up with an event. Used by the lab's agent (inside a
// namespace) and by the kind e2e (on the host). Dependency-free, so the agent
// starts fast.
import { request } from 'node:http';
import { connect } from 'node:net';

export interface HttpResult {
  ok: boolean;
  status?: number;
  body?: string;
  error?: string;
  ms: number;
}

export interface ProbeSampleOf<R> {
  /** ms since the probe began. */
  t: number;
  /** Wall-clock ms when the request started: performance.timeOrigin + performance.now(), comparable across processes. */
  at: number;
  r: R;
}

export function httpGet(url: string, timeoutMs: number): Promise<HttpResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(url, { timeout: timeoutMs, agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ ok: true, status: res.statusCode ?? 0, body, ms: performance.now() - started }));
      res.on('error', (e) => resolve({ ok: false, error: e.message, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ ok: false, error: e.message, ms: performance.now() - started }));
    req.end();
  });
}

/**
 * A TCP handshake and nothing more: the answer (SYN-ACK) comes from the
 * server's kernel, so a busy machine delaying the server process does not
 * show up as an outage of the path to it.
 */
export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<HttpResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (r: Omit<HttpResult, 'ms'>): void => {
      socket.destroy();
      resolve({ ...r, ms: performance.now() - started });
    };
    socket.on('connect', () => done({ ok: true }));
    socket.on('timeout', () => done({ ok: false, error: `timeout after ${timeoutMs} ms` }));
    socket.on('error', (e) => done({ ok: false, error: e.message }));
  });
}

/**
 * Calls `send` every intervalMs (on a fixed schedule: a slow answer does not
 * delay the next request) until `until` (a duration in ms, or a signal), and
 * resolves with every sample once the last request has finished.
 */
export async function probe<R>(send: () => Promise<R>, opts: { intervalMs: number; until: number | AbortSignal }): Promise<Array<ProbeSampleOf<R>>> {
  const samples: Array<Promise<ProbeSampleOf<R>>> = [];
  const t0 = performance.now();
  const done = typeof opts.until === 'number' ? ((ms: number) => () => performance.now() - t0 >= ms)(opts.until) : ((s: AbortSignal) => () => s.aborted)(opts.until);
  for (let i = 0; !done(); i++) {
    const now = performance.now();
    const t = now - t0;
    const at = performance.timeOrigin + now;
    samples.push(send().then((r) => ({ t, at, r })));
    const next = t0 + (i + 1) * opts.intervalMs;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  return Promise.all(samples);
}
