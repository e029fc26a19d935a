// Leader election against a real API server: one leader, hand-over on a
// graceful stop, take-over after a crash, and a leader cut off from the API
// server stepping down before anyone else can start.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { ControlPlane, REPO_ROOT, accessFromHandle, accessFromKubeconfig, sleep, startProcess, uniqueName, waitFor, type ManagedProcess } from '../../test/lab/index.ts';
import { createLeaderElector, objectClient, RESOURCES, type ApiAccess, type LeaderElectionOptions, type LeaderElector } from './index.ts';

// Short timings keep the tests quick; the proofs only need lease > deadline > 1.2 × retry.
const TIMING = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 } as const;

interface Candidate {
  readonly id: string;
  readonly elector: LeaderElector;
  /** performance.now() of each callback. */
  readonly log: Array<{ what: 'started' | 'stopped' | 'aborted' | 'work-done' | `leader:${string}`; t: number }>;
  times(what: string): number[];
}

function candidate(access: ApiAccess, namespace: string, name: string, id: string, extra: Partial<LeaderElectionOptions> = {}): Candidate {
  const log: Candidate['log'] = [];
  const elector = createLeaderElector(access, {
    namespace,
    name,
    identity: id,
    ...TIMING,
    onStartedLeading: (signal) => {
      log.push({ what: 'started', t: performance.now() });
      signal.addEventListener('abort', () => log.push({ what: 'aborted', t: performance.now() }));
    },
    onStoppedLeading: () => log.push({ what: 'stopped', t: performance.now() }),
    onNewLeader: (leader) => log.push({ what: `leader:${leader}`, t: performance.now() }),
    ...extra,
  });
  return { id, elector, log, times: (what) => log.filter((e) => e.what === what).map((e) => e.t) };
}

async function holder(access: ApiAccess, namespace: string, name: string): Promise<string | undefined> {
  const r = await objectClient(access, RESOURCES.lease).get({ namespace, name });
  return r.ok ? r.value.spec?.holderIdentity : undefined;
}

describe('leader election on the shared control plane', () => {
  const handle = inject('controlPlane');
  const access = accessFromHandle(handle);
  const ns = uniqueName('leader');
  const electors: LeaderElector[] = [];
  const processes: ManagedProcess[] = [];
  const track = (c: Candidate): Candidate => (electors.push(c.elector), c);

  beforeAll(async () => {
    await objectClient(access, RESOURCES.namespace).create({ metadata: { name: ns } });
  });
  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.stop()));
    await Promise.all(processes.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await objectClient(access, RESOURCES.namespace).delete({ name: ns });
  });

  it('two candidates: exactly one leads, the other sees it as leader', async () => {
    const [a, b] = [track(candidate(access, ns, 'one', 'a')), track(candidate(access, ns, 'one', 'b'))];
    a.elector.start();
    b.elector.start();
    const leader = await waitFor('a leader', () => [a, b].find((c) => c.elector.isLeader()), { timeoutMs: 5_000 });
    const follower = leader === a ? b : a;
    await sleep(4 * TIMING.retryPeriodMs);
    expect([a, b].filter((c) => c.elector.isLeader())).toEqual([leader]);
    expect([...a.times('started'), ...b.times('started')]).toHaveLength(1);
    expect(follower.times(`leader:${leader.id}`)).toHaveLength(1);
    expect(follower.elector.leader).toBe(leader.id);
    expect(await holder(access, ns, 'one')).toBe(leader.id);
  });

  it('a graceful stop waits for the leader to wind down, releases the lease, and the other leads within about a retry period', async () => {
    let workDoneAt = 0;
    const a = track(
      candidate(access, ns, 'handover', 'a', {
        // The leader's work takes 300 ms to wind down after its signal aborts.
        onStartedLeading: (signal) =>
          new Promise<void>((resolve) => signal.addEventListener('abort', () => setTimeout(() => ((workDoneAt = performance.now()), resolve()), 300))),
      }),
    );
    a.elector.start();
    await waitFor('a to lead', () => a.elector.isLeader(), { timeoutMs: 5_000 });
    const b = track(candidate(access, ns, 'handover', 'b'));
    b.elector.start();
    await waitFor('b to see a', () => b.elector.leader === 'a');

    const stopAt = performance.now();
    await a.elector.stop();
    const stoppedAt = performance.now();
    expect(workDoneAt).toBeGreaterThan(stopAt + 250);
    expect(stoppedAt).toBeGreaterThanOrEqual(workDoneAt);
    expect(a.times('stopped')).toHaveLength(1);
    expect(a.elector.isLeader()).toBe(false);

    await waitFor('b to lead', () => b.elector.isLeader(), { timeoutMs: 5_000, intervalMs: 10 });
    const bStarted = b.times('started')[0]!;
    expect(bStarted).toBeGreaterThan(workDoneAt);
    // Released, not expired: b takes over on its next attempt, well before a lease duration.
    expect(bStarted - stoppedAt).toBeLessThan(TIMING.retryPeriodMs * 1.2 + 200);
  });

  it('a SIGKILLed leader is replaced once its lease expires, not before', async () => {
    const child = startProcess('elector', [process.execPath, join(REPO_ROOT, 'shared', 'k8s', 'fixtures', 'elector.ts')], {
      logFile: join(handle.dir, `${uniqueName('elector')}.log`),
      env: { ...process.env, ELECTOR: JSON.stringify({ kubeconfig: handle.kubeconfig, namespace: ns, name: 'crash', identity: 'child', ...TIMING }) },
    });
    processes.push(child);
    await waitFor('the child to lead', async () => (await holder(access, ns, 'crash')) === 'child', { timeoutMs: 10_000 });
    await waitFor('the child to report it leads', () => readFileSync(child.logFile, 'utf8').includes('"event":"started"'));
    const b = track(candidate(access, ns, 'crash', 'b'));
    b.elector.start();
    await waitFor('b to see the child', () => b.elector.leader === 'child');
    await sleep(TIMING.retryPeriodMs * 2);

    const killedAt = performance.now();
    child.kill('SIGKILL');
    await waitFor('b to lead', () => b.elector.isLeader(), { timeoutMs: 10_000, intervalMs: 10 });
    const tookOver = b.times('started')[0]! - killedAt;
    // The child's last renewal was at most a retry period before the kill; b waits a full lease after it saw it,
    // and sees it and then retries up to 1.2 retry periods late each.
    expect(tookOver).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - TIMING.retryPeriodMs - 100);
    expect(tookOver).toBeLessThanOrEqual(TIMING.leaseDurationMs + 2.4 * TIMING.retryPeriodMs + 300);
    expect(await holder(access, ns, 'crash')).toBe('b');
  });

  it('a leader cut off from the API server (requests hang) stops leading before the other can start', async () => {
    const proxy = await blackholeProxy(new URL(handle.server).port);
    try {
      const cutOff = accessVia(handle.kubeconfig, proxy.port);
      const a = track(candidate(cutOff, ns, 'partition', 'a'));
      a.elector.start();
      await waitFor('a to lead', () => a.elector.isLeader(), { timeoutMs: 5_000 });
      expect(proxy.connections()).toBeGreaterThan(0);
      const b = track(candidate(access, ns, 'partition', 'b'));
      b.elector.start();
      await waitFor('b to see a', () => b.elector.leader === 'a');
      await sleep(TIMING.retryPeriodMs * 2);

      const cutAt = performance.now();
      proxy.blackhole(true);
      await waitFor('b to lead', () => b.elector.isLeader(), { timeoutMs: 10_000, intervalMs: 10 });
      const aStopped = a.times('stopped')[0]!;
      const bStarted = b.times('started')[0]!;
      expect(a.times('aborted')[0]).toBeLessThanOrEqual(aStopped);
      // a's last successful renewal began before the cut, so it gave up at most renewDeadline after it …
      expect(aStopped - cutAt).toBeLessThanOrEqual(TIMING.renewDeadlineMs + 100);
      // … which is before b could start: never two leaders.
      expect(bStarted).toBeGreaterThan(aStopped);
      expect(bStarted - aStopped).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - TIMING.renewDeadlineMs - TIMING.retryPeriodMs - 100);
      expect(a.elector.isLeader()).toBe(false);

      // Reconnected, a finds b's live lease and follows.
      proxy.blackhole(false);
      await waitFor('a to see b', () => a.elector.leader === 'b', { timeoutMs: 5_000 });
      expect(a.elector.isLeader()).toBe(false);
      expect(a.times('started')).toHaveLength(1);
    } finally {
      proxy.close();
    }
  });
});

describe('leader election while the API server goes away', () => {
  let cp: ControlPlane;
  let elector: LeaderElector | undefined;

  beforeAll(async () => {
    cp = await ControlPlane.start({ controllerManager: false });
  });
  afterAll(async () => {
    await elector?.stop();
    await cp?.stop();
  });

  it('the leader steps down by the renew deadline, and leads again once the API server is back', async () => {
    const a = candidate(cp.access(), 'default', 'outage', 'a');
    elector = a.elector;
    a.elector.start();
    await waitFor('a to lead', () => a.elector.isLeader(), { timeoutMs: 5_000 });
    await sleep(TIMING.retryPeriodMs * 2);

    const stopping = performance.now();
    await cp.stopApiServer();
    const stopped = performance.now();
    await waitFor('a to step down', () => a.times('stopped').length === 1, { timeoutMs: 10_000, intervalMs: 10 });
    const steppedDown = a.times('stopped')[0]!;
    expect(a.elector.isLeader()).toBe(false);
    // Its last successful renewal started before the API server was gone, and at most a retry period before it began stopping.
    expect(steppedDown - stopped).toBeLessThanOrEqual(TIMING.renewDeadlineMs + 100);
    expect(steppedDown - stopping).toBeGreaterThanOrEqual(TIMING.renewDeadlineMs - TIMING.retryPeriodMs - 100);

    await cp.startApiServer();
    await waitFor('a to lead again', () => a.elector.isLeader(), { timeoutMs: 10_000 });
    expect(a.times('started')).toHaveLength(2);
  });
});

/** The same client configuration with its server moved to 127.0.0.1:port (TLS passes through the proxy untouched). */
function accessVia(kubeconfig: string, port: number): ApiAccess {
  const config = JSON.parse(readFileSync(kubeconfig, 'utf8')) as { clusters: Array<{ cluster: { server: string } }> };
  for (const c of config.clusters) c.cluster.server = `https://127.0.0.1:${port}`;
  const moved = `${kubeconfig}.via-${port}`;
  writeFileSync(moved, JSON.stringify(config));
  return accessFromKubeconfig(moved);
}

/** A TCP proxy to 127.0.0.1:upstreamPort that can silently drop all traffic, like a network partition. */
async function blackholeProxy(upstreamPort: string): Promise<{ port: number; connections(): number; blackhole(on: boolean): void; close(): void }> {
  let dropping = false;
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = connect(Number(upstreamPort), '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.on('data', (d) => void (dropping || upstream.write(d)));
    upstream.on('data', (d) => void (dropping || client.write(d)));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    connections: () => accepted,
    blackhole: (on) => {
      dropping = on;
      // Connections that lost bytes are broken for TLS; a healed network starts with fresh ones.
      if (!on) for (const s of sockets) s.destroy();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
