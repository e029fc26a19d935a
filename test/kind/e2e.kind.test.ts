// Ballast as a user installs it, on a real kind cluster (run-e2e.sh installs
// it, then runs this file), observed from the host: a client on the nodes'
// LAN that is not a node; the whole file runs once per install (kustomize,
// then Helm). Figures go to $KIND_E2E_RESULTS.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentile } from '../e2e/probe-analysis.ts';
import { figures as wireFigures, type WireWatch } from '../e2e/wire-analysis.ts';
import { INSTALL_NS, KindCluster, measure, rangeContains, sleep, waitFor, wallClockMs } from './harness.ts';
import { run, REPO_ROOT } from '../lab/index.ts';
import { join } from 'node:path';

const workloadImage = process.env.KIND_E2E_WORKLOAD_IMAGE ?? 'registry.k8s.io/e2e-test-images/agnhost:2.63';
const trials = Number(process.env.KIND_E2E_FAILOVER_TRIALS ?? 3);
const APPS = 'ballast-e2e';
const figures: Record<string, unknown> = { install: process.env.KIND_E2E_INSTALL ?? 'unknown' };

let k: KindCluster;
let v4 = '';
let v6 = '';

const ms = (x: number): number => Math.round(x);

/** agnhost netexec, answering /hostname with the Pod's name. */
function echoDeployment(name: string, replicas: number, placement: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: APPS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...placement,
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'echo', image: workloadImage, args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } }],
        },
      },
    },
  };
}

function service(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: APPS }, spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080 }], ...spec } };
}

const apply = (...objects: Array<Record<string, unknown>>): Promise<string> =>
  k.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: objects.map((o) => JSON.stringify(o)).join('\n') });

/** Every LoadBalancer IP in the cluster, with the Service holding it. */
async function allIngress(): Promise<Array<[ip: string, service: string]>> {
  const list = await k.core.listServiceForAllNamespaces();
  return list.items.flatMap((s) => (s.status?.loadBalancer?.ingress ?? []).map((i): [string, string] => [i.ip ?? '', `${s.metadata?.namespace}/${s.metadata?.name}`]));
}

beforeAll(async () => {
  k = await KindCluster.connect();
  const a = k.addresses;
  await k.kubectl(['create', 'namespace', APPS]).catch(() => undefined);
  // The webhook answers once the controller has put its CA in: retried.
  const pool = { apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'e2e', namespace: INSTALL_NS }, spec: { addresses: [a.POOL4, a.POOL6] } };
  const adv = { apiVersion: 'ballast.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'e2e', namespace: INSTALL_NS }, spec: { ipAddressPools: ['e2e'] } };
  await waitFor('the pool and advertisement to be accepted', () => apply(adv, pool).then(() => true), { timeoutMs: 90_000, intervalMs: 2_000 });
  // The workload runs on the control plane (which never announces: kubeadm
  // labels it exclude-from-external-load-balancers), so breaking a worker
  // breaks only the path Ballast is responsible for.
  await apply(
    echoDeployment('echo', 2, {
      nodeSelector: { 'node-role.kubernetes.io/control-plane': '' },
      tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
    }),
  );
  await k.kubectl(['-n', APPS, 'rollout', 'status', 'deployment/echo', '--timeout=180s'], { timeoutMs: 200_000 });
}, 300_000);

afterAll(async () => {
  if (k) {
    k.close();
    figures.speakerRssBytes = Object.fromEntries(await Promise.all(k.nodes.map(async (n) => [n.name, await k.speakerRssBytes(n.name).catch(() => null)])));
    await k.kubectl(['delete', 'namespace', APPS, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 }).catch(() => undefined);
    await k.kubectl(['-n', INSTALL_NS, 'delete', 'ipaddresspools,l2advertisements', '--all', '--wait=true', '--timeout=60s'], { timeoutMs: 90_000 }).catch(() => undefined);
  }
  if (process.env.KIND_E2E_RESULTS) writeFileSync(process.env.KIND_E2E_RESULTS, `${JSON.stringify(figures, null, 2)}\n`);
}, 300_000);

describe('install', () => {
  it('gives a dual-stack Service one IP per family from the pool, each answered by one worker and reachable from the LAN', async () => {
    await apply(service('echo', { ipFamilyPolicy: 'RequireDualStack', selector: { app: 'echo' } }));
    const ips = await k.ingress(APPS, 'echo', 2);
    v4 = ips.find((ip) => !ip.includes(':'))!;
    v6 = ips.find((ip) => ip.includes(':'))!;
    expect(rangeContains(k.addresses.POOL4!, v4), v4).toBe(true);
    expect(rangeContains(k.addresses.POOL6!, v6), v6).toBe(true);
    const node = await waitFor('a ServiceL2Status for echo', () => k.announcer(APPS, 'echo'));
    expect(k.node(node).controlPlane).toBe(false);
    // Both families on the same node, and only that node's MAC answers.
    expect(await k.settledOwner(v4)).toBe(node);
    expect(await k.settledOwner(v6)).toBe(node);
    expect(await k.whoHas(v4, 500)).toEqual([k.node(node).mac]);
    expect(await k.whoHas(v6, 500)).toEqual([k.node(node).mac]);
    for (const ip of [v4, v6]) {
      const r = await waitFor(`http://${ip} to answer`, async () => ((x) => (x.ok && x.status === 200 ? x : undefined))(await k.get(ip)), { timeoutMs: 20_000, intervalMs: 200 });
      expect(r.body).toMatch(/^echo-/);
    }
  });

  it('has the webhook refuse a pool that overlaps another', async () => {
    const overlapping = { apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'overlap', namespace: INSTALL_NS }, spec: { addresses: ['198.51.100.240-198.51.100.245'] } };
    const refused = await apply(overlapping).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/denied the request/);
    expect(refused).toMatch(/overlap/i);
    expect(refused).toContain('e2e');
    expect((await k.kubectl(['-n', INSTALL_NS, 'get', 'ipaddresspools', '-o', 'name'])).trim()).toBe('ipaddresspool.ballast.io/e2e');
  });

  it('ballast status reports the pool, the Service with its IPs and announcing node, and no problems', async () => {
    const r = await run([process.execPath, join(REPO_ROOT, 'cli', 'ballast.ts'), 'status', '--context', `kind-${k.cluster}`, '--output', 'json']);
    const status = JSON.parse(r) as { pools: Array<{ name: string }>; services: Array<{ namespace: string; name: string; ips: string[]; nodes: string[] }>; problems: unknown[]; speakers: { ready: number } };
    expect(status.pools.map((p) => p.name)).toEqual(['e2e']);
    const echo = status.services.find((s) => s.namespace === APPS && s.name === 'echo');
    expect(echo?.ips.sort()).toEqual([v4, v6].sort());
    expect(echo?.nodes).toEqual([await k.announcer(APPS, 'echo')]);
    expect(status.problems).toEqual([]);
    expect(status.speakers.ready).toBe(k.workers.length);
    const text = await run([process.execPath, join(REPO_ROOT, 'cli', 'ballast.ts'), 'status', '--context', `kind-${k.cluster}`, '--no-color']);
    expect(text).toContain(`${APPS}/echo`);
  });
});

describe('speakers', () => {
  it('rolls the speaker DaemonSet under traffic with graceful handovers: no gap over 0.1 s', async () => {
    const owner = await k.settledOwner(v4);
    const claims = k.watchClaims(v4);
    const probes = [k.startProbe(v4), k.startProbe(v6)];
    await sleep(500);
    const at = wallClockMs();
    await k.kubectl(['-n', INSTALL_NS, 'rollout', 'restart', 'daemonset/ballast-speaker']);
    await k.kubectl(['-n', INSTALL_NS, 'rollout', 'status', 'daemonset/ballast-speaker', '--timeout=300s'], { timeoutMs: 320_000 });
    await k.settledOwner(v4, (n) => n === owner);
    await sleep(1_000);
    const [m4, m6] = (await Promise.all(probes.map((p) => p.stop()))).map((r) => measure(r, at)) as [ReturnType<typeof measure>, ReturnType<typeof measure>];
    const seen = await claims.stop();
    figures.rollingUpdate = { durationMs: ms(wallClockMs() - at), ipv4: m4, ipv6: m6, mostMacsAtOnce: seen.most };
    // The owner's speaker left and came back: the IP visited the other worker meanwhile.
    // (Both may answer for a moment: a leaving speaker answers 150 ms more while its
    // peers take over, make-before-break; docs/ARCHITECTURE.md.)
    expect(seen.seen.length).toBeGreaterThan(1);
    expect(await k.whoHas(v4, 500)).toEqual([k.node(owner).mac]);
    expect(m4.beyondStallsMs).toBeLessThanOrEqual(100);
    expect(m6.beyondStallsMs).toBeLessThanOrEqual(100);
  }, 360_000);

  it('when the announcing speaker Pod is deleted, another worker answers and the DaemonSet brings the speaker back', async () => {
    const owner = await k.settledOwner(v4);
    const pod = (await k.speakerPodOn(owner))!;
    const claims = k.watchClaims(v4);
    const probe = k.startProbe(v4);
    await sleep(500);
    const at = wallClockMs();
    await k.kubectl(['-n', INSTALL_NS, 'delete', 'pod', pod.metadata!.name!, '--wait=false']);
    const takeoverMs = await k.takeover(v4, at, owner);
    const successor = await k.settledOwner(v4, (n) => n !== owner);
    const replacement = await waitFor(`a new speaker Pod on ${owner}`, async () => {
      const p = await k.speakerPodOn(owner);
      return p && p.metadata?.uid !== pod.metadata?.uid && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    const back = await k.settledOwner(v4, (n) => n === owner, 30_000);
    const m = measure(await probe.stop(), at);
    const seen = await claims.stop();
    figures.speakerPodDeleted = { takeoverMs: ms(takeoverMs), ...m, mostMacsAtOnce: seen.most };
    expect(successor).not.toBe(owner);
    expect(replacement.spec?.nodeName).toBe(owner);
    expect(back).toBe(owner);
    expect(await k.whoHas(v4, 500)).toEqual([k.node(owner).mac]);
    expect(m.beyondStallsMs).toBeLessThanOrEqual(100);
  }, 240_000);
});

describe('node failures', () => {
  /**
   * Breaks the node announcing v4 under a probe, waits for another worker to
   * answer, mends the node, and waits for it to take the IP back (rendezvous
   * hashing) while checking that never two MACs answer. Returns the takeover
   * (event to a single other MAC answering ARP) and the longest HTTP gap.
   */
  async function breakOwner(breakIt: (node: string) => Promise<void>, mend: (node: string) => Promise<void>): Promise<{ takeoverMs: number; gapMs: number; rawGapMs: number }> {
    const owner = await k.settledOwner(v4);
    const probe = k.startProbe(v4);
    await sleep(500);
    const at = wallClockMs();
    await breakIt(owner);
    let takeoverMs: number;
    let successor: string;
    let result;
    try {
      takeoverMs = await k.takeover(v4, at, owner);
      successor = await k.settledOwner(v4, (n) => n !== owner, 10_000);
      await sleep(1_000);
    } finally {
      result = await probe.stop();
      await mend(owner);
    }
    const mendedAt = wallClockMs();
    const claims = k.watchClaims(v4);
    await k.waitNodeReady(owner);
    expect(await k.settledOwner(v4, (n) => n === owner, 60_000)).toBe(owner);
    const claimed = await claims.stop();
    // Judged as the lab judges its faults (test/e2e/wire-analysis.ts): two MACs for one question are a
    // hand-over only between the successor alone and the owner alone, at most twice (the successor's answer
    // and the owner's, sent as it took the IP back, to the same question); anything else is a stray answer.
    const back = byQuestion(v4, [[k.node(successor).mac], ...claimed.questions]);
    if (back.duplicateMs > 0) console.log(`two answers after ${owner} came back (mended at ${new Date(mendedAt).toISOString()}): ${back.duplicateRuns.join('; ')}; the speakers' logs:\n${await k.speakerLogsSince(at)}`);
    expect(back.strayDuplicateMs, `two nodes answered after ${owner} came back, not as a hand-over: ${back.duplicateRuns.join('; ')} (${claimed.several.join('; ')})`).toBe(0);
    const m = measure(result, at);
    return { takeoverMs, gapMs: m.beyondStallsMs, rawGapMs: m.outageMs };
  }

  /** The lab's figures over a series of questions (one "round" each, 100 ms nominal), MACs named by node. */
  const byQuestion = (ip: string, questions: string[][]) => {
    const named = questions.map((macs) => macs.map((m) => k.nodeWithMac(m)?.name ?? m).sort().join(','));
    const runs: Array<[number, string]> = [];
    for (const key of named) {
      const last = runs.at(-1);
      if (last && last[1] === key) last[0]++;
      else runs.push([1, key]);
    }
    const watch: WireWatch = { intervalMs: 100, rounds: named.length, startedAt: 0, sendFailures: 0, vips: { [ip]: runs } };
    return wireFigures(watch, ip);
  };

  const summary = (runs: Array<{ takeoverMs: number; gapMs: number; rawGapMs: number }>) => {
    const take = runs.map((r) => r.takeoverMs);
    const gaps = runs.map((r) => r.gapMs);
    return {
      trials: runs.length,
      takeoverMs: take.map(ms),
      gapsMs: gaps.map(ms),
      rawGapsMs: runs.map((r) => ms(r.rawGapMs)),
      gapP50Ms: ms(percentile(gaps, 50)),
      gapMaxMs: ms(Math.max(...gaps)),
      takeoverMaxMs: ms(Math.max(...take)),
    };
  };

  it('moves the IP when the announcing node leaves the LAN (docker network disconnect), and takes it back without two answers', async () => {
    const runs = [];
    for (let i = 0; i < trials; i++) runs.push(await breakOwner((n) => k.disconnect(n), (n) => k.reconnect(n)));
    figures.disconnect = summary(runs);
    // Design target: a client sees traffic again within 1 s of the node dying.
    expect(Math.max(...runs.map((r) => r.gapMs))).toBeLessThan(1_000);
  }, 600_000);

  it('moves the IP when the announcing node freezes (docker pause), and takes it back without two answers', async () => {
    // A paused node's kernel still forwards (kube-proxy's rules live in it), so
    // traffic need not stop; what must happen is the takeover: another worker
    // answers ARP within a second, and the host's neighbour entry follows.
    const runs = [];
    for (let i = 0; i < trials; i++) runs.push(await breakOwner((n) => k.pause(n), (n) => k.unpause(n)));
    figures.pause = summary(runs);
    expect(Math.max(...runs.map((r) => r.takeoverMs))).toBeLessThan(1_000);
    expect(Math.max(...runs.map((r) => r.gapMs))).toBeLessThan(1_000);
  }, 600_000);
});

describe('externalTrafficPolicy: Local', () => {
  it('is announced by the node of the only ready endpoint, and follows it when the Pod moves', async () => {
    const [a, b] = k.workers as [typeof k.workers[0], typeof k.workers[0]];
    const on = (node: string) => ({ nodeSelector: { 'kubernetes.io/hostname': node } });
    await apply(echoDeployment('local', 1, on(a.name)), service('local', { externalTrafficPolicy: 'Local', selector: { app: 'local' } }));
    await k.kubectl(['-n', APPS, 'rollout', 'status', 'deployment/local', '--timeout=120s'], { timeoutMs: 150_000 });
    const [ip] = (await k.ingress(APPS, 'local', 1)) as [string];
    expect(await k.settledOwner(ip, (n) => n === a.name)).toBe(a.name);
    expect(await k.announcer(APPS, 'local')).toBe(a.name);
    expect((await waitFor('local to answer', async () => ((r) => (r.ok ? r : undefined))(await k.get(ip)), { timeoutMs: 20_000 })).body).toMatch(/^local-/);

    const movedAt = wallClockMs();
    await apply(echoDeployment('local', 1, on(b.name)));
    await k.kubectl(['-n', APPS, 'rollout', 'status', 'deployment/local', '--timeout=120s'], { timeoutMs: 150_000 });
    const readyAt = wallClockMs();
    expect(await k.settledOwner(ip, (n) => n === b.name)).toBe(b.name);
    const followedAt = wallClockMs();
    const pods = await k.core.listNamespacedPod({ namespace: APPS, labelSelector: 'app=local' });
    const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(live.map((p) => p.spec?.nodeName)).toEqual([b.name]);
    const answer = await waitFor('the moved Pod to answer', async () => ((r) => (r.ok && r.body === live[0]!.metadata!.name ? r : undefined))(await k.get(ip)), { timeoutMs: 20_000, intervalMs: 100 });
    expect(answer.body).toBe(live[0]!.metadata!.name);
    expect(await k.announcer(APPS, 'local')).toBe(b.name);
    expect(await k.whoHas(ip, 500)).toEqual([b.mac]);
    figures.localPolicy = { moveMs: ms(followedAt - movedAt), afterRolloutMs: ms(followedAt - readyAt) };
  }, 300_000);
});

describe('controller', () => {
  it('loses its leader Pod while Services come and go: no IP changes, no IP twice', async () => {
    const names = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `churn-${from + i}`);
    await apply(...names(0, 10).map((n) => service(n, {})));
    const before = new Map<string, string>();
    for (const n of names(0, 10)) before.set(n, (await k.ingress(APPS, n, 1))[0]!);
    const lease = await k.coordination.readNamespacedLease({ namespace: INSTALL_NS, name: 'ballast-controller' });
    const leader = lease.spec?.holderIdentity ?? '';
    const leaderPod = (await k.core.listNamespacedPod({ namespace: INSTALL_NS, labelSelector: 'app.kubernetes.io/component=controller' })).items.find((p) => leader.startsWith(p.metadata!.name!));
    expect(leaderPod, `the Lease holder ${leader} is a controller Pod`).toBeDefined();

    const at = wallClockMs();
    await k.kubectl(['-n', INSTALL_NS, 'delete', 'pod', leaderPod!.metadata!.name!, '--wait=false']);
    await k.kubectl(['-n', APPS, 'delete', 'service', ...names(0, 3), '--wait=false']);
    await apply(...names(10, 15).map((n) => service(n, {})));
    for (const n of names(10, 15)) await k.ingress(APPS, n, 1);
    const allocatedAt = wallClockMs();
    const newLeader = await waitFor('a new leader', async () => {
      const l = await k.coordination.readNamespacedLease({ namespace: INSTALL_NS, name: 'ballast-controller' });
      const h = l.spec?.holderIdentity;
      return h && !h.startsWith(leaderPod!.metadata!.name!) ? h : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    // A few seconds for a late mistake to show.
    await sleep(3_000);
    for (const n of names(3, 10)) expect((await k.ingress(APPS, n, 1))[0], n).toBe(before.get(n));
    const owners = new Map<string, string[]>();
    for (const [ip, svc] of await allIngress()) owners.set(ip, [...(owners.get(ip) ?? []), svc]);
    expect([...owners].filter(([, svcs]) => svcs.length > 1)).toEqual([]);
    figures.controllerLeaderDeleted = { newServicesAllocatedMs: ms(allocatedAt - at), newLeader };
    await k.kubectl(['-n', APPS, 'delete', 'service', ...names(3, 15)]);
  }, 300_000);
});
