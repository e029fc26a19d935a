// The fault suite: every fault the speaker must survive, observed from the
// client namespace (a request per VIP every 10 ms, and which MACs answered),
// never from the speakers' own reports. The invariant for each: no VIP
// answered by two MACs for more than 1 s in total (when the announcing
// speaker is frozen, only at a hand-over: its peers keep a majority), no VIP left unanswered for
// more than 1 s at a stretch while an eligible node is healthy (2 s when two
// of three speakers are down at once), and one MAC
// per VIP again once the fault is over. On a private control plane, which one
// fault stops.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane, REPO_ROOT } from '../lab/index.ts';
import { E2ECluster } from './cluster.ts';
import { describeFault, runFault, waitSettled } from './fault-run.ts';
import { scenarios, type Scenario } from './fault-scenarios.ts';

let cp: ControlPlane;
let cluster: E2ECluster;
let all: Scenario[] = [];
const vips: string[] = [];

beforeAll(async () => {
  cp = await ControlPlane.start({ manifests: [join(REPO_ROOT, 'deploy', 'crds')], controllerManager: false });
  try {
    cluster = await E2ECluster.create({ controlPlane: cp.handle(), nodes: 3, name: 'e2e-flt', log: (m) => console.log(m) });
    await cluster.startController();
    await cluster.startSpeakers();
    for (let i = 0; i < 6; i++) await cluster.createService({ name: `v4-${i}` });
    for (let i = 0; i < 2; i++) await cluster.createService({ name: `v6-${i}`, families: ['IPv6'] });
    for (let i = 0; i < 6; i++) vips.push(...(await cluster.ingress(`v4-${i}`)));
    for (let i = 0; i < 2; i++) vips.push(...(await cluster.ingress(`v6-${i}`)));
    await waitSettled(cluster, vips);
    all = scenarios(cluster, vips, cp);
  } catch (e) {
    await cluster?.destroy();
    await cp.stop();
    throw e;
  }
}, 240_000);

afterAll(async () => {
  await cp?.startApiServer().catch(() => undefined);
  await cluster?.destroy();
  await cp?.stop();
});

describe('faults, as a client on the LAN sees them', () => {
  // The names are fixed here so that vitest lists them before the cluster exists. Each with its gap bound:
  // 1 s for a single fault. A speaker restarted mid-takeover is two of three speakers down at once: the
  // survivor has no majority, so the dead owner's VIPs stay dark until the restarted speaker is heard,
  // which is its start time (0.7–1.0 s in the lab under load, docs/ARCHITECTURE.md). Its bound is 2 s:
  // a double failure's figure, documented, not the single-fault promise.
  // A frozen speaker is a fault an agreement covers (its peers hear a majority throughout), so no stray
  // answer is allowed there: two MACs only at a hand-over (the old owner's answer to a request in flight
  // as the new one took over). The 1 s of duplicates is for faults that detach speakers. Detached
  // speakers all answer their share of one API view, and at the heal a group the API view gives to a
  // speaker not yet heard is probed before it is answered (agreed-after-probe): no stray there either.
  const faults: Array<[name: string, gapLimitMs: number, noStray?: 'no stray']> = [
    ['all node-to-node traffic dropped except ARP/NDP', 1_000, 'no stray'],
    ['heartbeat frames (EtherType 0x88B5) dropped between nodes', 1_000],
    ["one node's egress to its peers dropped", 1_000],
    ['the wire worker crashed', 1_000],
    ['a speaker restarted mid-takeover', 2_000],
    ['the announcing speaker frozen 3 s (cgroup freezer, as docker pause)', 1_000, 'no stray'],
    ['the announcing speaker frozen 10 times under CPU load', 1_000, 'no stray'],
    ['the announcing speaker stopped 1 s (SIGSTOP)', 1_000, 'no stray'],
    ["the announcing speaker frozen 0.5 s, then its and its successor's main threads stalled 1 s", 1_000, 'no stray'],
    ["a node's clock stepped back an hour", 1_000],
    ['a flood of 100 000 beats/s without the key', 1_000],
    ['a flood of 100 000 beats/s with the key', 1_000],
    ['CPU starvation (4 busy processes on 2 cores)', 1_000],
    ['link flapping every 200 ms', 1_000],
    ['API server down plus a node failure', 1_000],
    ['all speakers rolled one by one', 1_000],
    ['the heartbeat key rotated under traffic', 1_000],
  ];
  for (const [name, gapLimitMs, noStray] of faults) {
    const duplicates = noStray ? 'at most 1 s of duplicate answers, none but at a hand-over' : 'at most 1 s of duplicate answers';
    it(`${name}: ${duplicates}, no gap over ${gapLimitMs / 1000} s, one MAC per VIP after`, async () => {
      const scenario = all.find((s) => s.name === name);
      if (scenario === undefined) throw new Error(`no scenario "${name}"`);
      await waitSettled(cluster, vips, 30_000);
      const figures = await runFault(cluster, vips, await scenario.plan());
      console.log(describeFault(name, figures));
      if (process.env.BALLAST_FAULT_DEBUG) console.log(JSON.stringify({ faultAt: figures.faultAt, healedAt: figures.healedAt, watch: figures.watch }));
      expect(figures.duplicateMs).toBeLessThanOrEqual(1_000);
      if (noStray) expect(figures.strayDuplicateMs, figures.duplicateRuns.join('; ')).toBe(0);
      expect(figures.longestGapMs).toBeLessThanOrEqual(gapLimitMs);
      expect(figures.unsettled).toEqual([]);
      expect(figures.problems).toEqual([]);
    }, 120_000);
  }
});
