// Leader election against a real API server: one leader, hand-over on a
// graceful stop, take-over after a crash, and a leader cut off from the API
// server stepping down before anyone else can start.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { ControlPlane, FaultProxy, REPO_ROOT, accessFromHandle, accessFromKubeconfig, sleep, startProcess, uniqueName, waitFor, type ManagedProcess } from '../../test/lab/index.ts';
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
    const proxy = await FaultProxy.forControlPlane(handle);
    try {
      const cutOff = accessFromKubeconfig(proxy.writeKubeconfig(join(handle.dir, `${ns}-partition.kubeconfig`)));
      const a = track(candidate(cutOff, ns, 'partition', 'a'));
      a.elector.start();
      await waitFor('a to lead', () => a.elector.isLeader(), { timeoutMs: 5_000 });
      expect(proxy.requests({ path: '/leases' }).length).toBeGreaterThan(0);
      const b = track(candidate(access, ns, 'partition', 'b'));
      b.elector.start();
      await waitFor('b to see a', () => b.elector.leader === 'a');
      await sleep(TIMING.retryPeriodMs * 2);

      const cutAt = performance.now();
      const partition = proxy.add({ match: {}, action: { kind: 'hold' } });
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
      partition.remove();
      partition.release();
      await waitFor('a to see b', () => a.elector.leader === 'b', { timeoutMs: 5_000 });
      expect(a.elector.isLeader()).toBe(false);
      expect(a.times('started')).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('after losing the lease, a candidate campaigns again only once the last term’s work has ended: its terms never overlap', async () => {
    const proxy = await FaultProxy.forControlPlane(handle);
    try {
      const via = accessFromKubeconfig(proxy.writeKubeconfig(join(handle.dir, `${ns}-overlap.kubeconfig`)));
      const WIND_DOWN_MS = 2_500;
      const a = track(
        candidate(via, ns, 'overlap', 'a', {
          // The work ends 2.5 s after its signal aborts (writes draining): longer than it takes to win the lease back.
          onStartedLeading: (signal) => {
            a.log.push({ what: 'started', t: performance.now() });
            return new Promise<void>((resolve) =>
              signal.addEventListener('abort', () => setTimeout(() => (a.log.push({ what: 'work-done', t: performance.now() }), resolve()), WIND_DOWN_MS)),
            );
          },
        }),
      );
      a.elector.start();
      await waitFor('a to lead', () => a.elector.isLeader(), { timeoutMs: 5_000 });
      // An API blip for the lease only: renewals fail until the term ends, then they work again.
      const blip = proxy.add({ match: { path: '/leases/' }, action: { kind: 'fail', status: 503, reason: 'ServiceUnavailable', message: 'injected blip' } });
      await waitFor('a to stop leading', () => a.times('stopped').length === 1, { timeoutMs: 5_000, intervalMs: 10 });
      blip.remove();
      await waitFor('a to lead again', () => a.times('started').length === 2, { timeoutMs: 10_000, intervalMs: 10 });
      const [firstDone] = a.times('work-done');
      const secondStarted = a.times('started')[1]!;
      expect(firstDone).toBeDefined();
      expect(secondStarted).toBeGreaterThanOrEqual(firstDone!);
    } finally {
      await proxy.close();
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
