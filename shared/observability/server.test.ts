import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { Counter } from './prom.ts';
import { err, ok } from '../result.ts';
import { createMetricsRegistry, ReadinessChecks, startObservabilityServer, type ObservabilityServer } from './index.ts';

const servers: ObservabilityServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
});

async function start(readiness = new ReadinessChecks(), registry = createMetricsRegistry()): Promise<ObservabilityServer> {
  const r = await startObservabilityServer({ host: '127.0.0.1', port: 0, registry, readiness, checkTimeoutMs: 100 });
  if (!r.ok) throw new Error(r.error);
  servers.push(r.value);
  return r.value;
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

describe('observability server', () => {
  it('/healthz answers ok while the process runs', async () => {
    const s = await start();
    expect(await get(`${s.url}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });
    expect(s.port).toBeGreaterThan(0);
  });

  it('/metrics serves the process metrics and the component’s own, in the Prometheus text format', async () => {
    const registry = createMetricsRegistry({ labels: { component: 'ballast-test' } });
    const allocations = new Counter({ name: 'ballast_allocations_total', help: 'IPs allocated', registers: [registry] });
    allocations.inc(3);
    const s = await start(new ReadinessChecks(), registry);
    const res = await get(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds', 'process_max_fds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(res.body).toMatch(new RegExp(`^${name}\\{component="ballast-test"\\} [0-9.e+-]+$`, 'm'));
    }
    expect(res.body).toContain('ballast_allocations_total{component="ballast-test"} 3');
  });

  it('/readyz is ok when every check passes, and lists them with ?verbose', async () => {
    const checks = new ReadinessChecks();
    checks.add('informer:services', () => ok(undefined));
    checks.add('leader-election', async () => ok(undefined));
    const s = await start(checks);
    expect(await get(`${s.url}/readyz`)).toMatchObject({ status: 200, body: 'ok\n' });
    expect((await get(`${s.url}/readyz?verbose`)).body).toBe('[+]informer:services ok\n[+]leader-election ok\nreadyz check passed\n');
  });

  it('/readyz fails with 503 and says why for each failing check: an error value, a throw, a check that hangs', async () => {
    const checks = new ReadinessChecks();
    checks.add('informer:services', () => ok(undefined));
    checks.add('informer:nodes', () => err('not synced yet'));
    checks.add('arp', () => {
      throw new Error('socket closed');
    });
    checks.add('slow', () => new Promise(() => {}));
    const s = await start(checks);
    const res = await get(`${s.url}/readyz`);
    expect(res.status).toBe(503);
    expect(res.body).toBe(
      [
        '[+]informer:services ok',
        '[-]informer:nodes failed: not synced yet',
        '[-]arp failed: check threw: socket closed',
        '[-]slow failed: timed out after 100 ms',
        'readyz check failed',
        '',
      ].join('\n'),
    );
    checks.remove('arp');
    checks.remove('slow');
    checks.remove('informer:nodes');
    expect((await get(`${s.url}/readyz`)).status).toBe(200);
  });

  it('rejects duplicate and malformed check names (bugs)', () => {
    const checks = new ReadinessChecks();
    checks.add('a', () => ok(undefined));
    expect(() => checks.add('a', () => ok(undefined))).toThrow(/twice/);
    expect(() => checks.add('Has Space', () => ok(undefined))).toThrow(/lower-case/);
  });

  it('answers 404 for other paths and 405 for other methods; HEAD has no body', async () => {
    const s = await start();
    expect(await get(`${s.url}/debug`)).toMatchObject({ status: 404 });
    const post = await fetch(`${s.url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await get(`${s.url}/healthz`, { method: 'HEAD' })).toMatchObject({ status: 200, body: '' });
  });

  it('close(): /readyz fails while draining, a request in flight finishes, then the port is closed', async () => {
    const checks = new ReadinessChecks();
    let release: (() => void) | undefined;
    checks.add('gate', () => new Promise((r) => (release = () => r(ok(undefined)))));
    const r = await startObservabilityServer({ host: '127.0.0.1', port: 0, registry: createMetricsRegistry(), readiness: checks, checkTimeoutMs: 5_000 });
    if (!r.ok) throw new Error(r.error);
    const s = r.value;
    const inFlight = get(`${s.url}/readyz`);
    while (!release) await new Promise((res) => setTimeout(res, 5)); // the request is being served
    const closeStarted = performance.now();
    const closed = s.close(2_000);
    release();
    const answered = await inFlight;
    expect(answered.status).toBe(503);
    expect(answered.body).toContain('[-]shutdown failed: the process is shutting down');
    await closed;
    // The drained answer closed its keep-alive connection, so close() did not wait out the 2 s grace.
    expect(performance.now() - closeStarted).toBeLessThan(1_000);
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });

  it('reports an address it cannot bind as an error value', async () => {
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await startObservabilityServer({ host: '127.0.0.1', port, registry: createMetricsRegistry(), readiness: new ReadinessChecks() });
      expect(r).toEqual({ ok: false, error: expect.stringMatching(new RegExp(`^listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`)) });
    } finally {
      blocker.close();
    }
  });
});
