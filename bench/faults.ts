// The fault suite's figures, as a client sees them (test/e2e/fault-run.ts):
// for each fault of test/e2e/fault-scenarios.ts, the total time two or more
// MACs answered a VIP and the longest time nobody did (worst of 8 VIPs: 6 IPv4,
// 2 IPv6, on 3 nodes). Then the bounds the protocol documents rather than
// promises: a two-node cluster losing a node (the tie-break Lease), and two of
// three nodes failing at once (no majority until one returns).
//
//   node bench/faults.ts    (root; BENCH_FAULT_TRIALS=5 for the bounds)
import { join } from 'node:path';
import { ControlPlane, REPO_ROOT, sleep, type LabNode } from '../test/lab/index.ts';
import { E2ECluster } from '../test/e2e/cluster.ts';
import { describeFault, runFault, waitSettled, type FaultPlan } from '../test/e2e/fault-run.ts';
import { ownerOf, scenarios } from '../test/e2e/fault-scenarios.ts';
import { percentile } from '../test/e2e/probe-analysis.ts';
import { formatBenchTable, type BenchResult } from './result.ts';

async function withCluster<T>(nodes: number, name: string, body: (cluster: E2ECluster, vips: string[], cp: ControlPlane) => Promise<T>): Promise<T> {
  const cp = await ControlPlane.start({ manifests: [join(REPO_ROOT, 'deploy', 'crds')], controllerManager: false });
  let cluster: E2ECluster | undefined;
  try {
    cluster = await E2ECluster.create({ controlPlane: cp.handle(), nodes, name });
    await cluster.startController();
    await cluster.startSpeakers();
    const vips: string[] = [];
    for (let i = 0; i < 6; i++) await cluster.createService({ name: `v4-${i}` });
    for (let i = 0; i < 2; i++) await cluster.createService({ name: `v6-${i}`, families: ['IPv6'] });
    for (let i = 0; i < 6; i++) vips.push(...(await cluster.ingress(`v4-${i}`)));
    for (let i = 0; i < 2; i++) vips.push(...(await cluster.ingress(`v6-${i}`)));
    await waitSettled(cluster, vips);
    return await body(cluster, vips, cp);
  } finally {
    await cp.startApiServer().catch(() => undefined);
    await cluster?.destroy();
    await cp.stop();
  }
}

/** One fault, planned afresh and run `trials` times on a settled cluster: each trial's longest gap, the worst duplicates. */
async function repeat(what: string, trials: number, cluster: E2ECluster, vips: string[], plan: () => Promise<FaultPlan>): Promise<{ gaps: number[]; dup: number }> {
  const gaps: number[] = [];
  let dup = 0;
  for (let t = 0; t < trials; t++) {
    await waitSettled(cluster, vips, 30_000);
    const f = await runFault(cluster, vips, await plan());
    gaps.push(f.longestGapMs);
    dup = Math.max(dup, f.duplicateMs);
    console.error(`[faults] ${describeFault(`${what}, trial ${t + 1}`, f)}`);
  }
  return { gaps, dup };
}

export async function runFaultBench(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error('the fault bench needs root (network namespaces, AF_PACKET, nftables)');
  const log = (msg: string): void => console.error(`[faults] ${msg}`);
  const rows: BenchResult[] = [];
  await withCluster(3, 'bench-flt', async (cluster, vips, cp) => {
    for (const scenario of scenarios(cluster, vips, cp)) {
      await waitSettled(cluster, vips, 30_000);
      const f = await runFault(cluster, vips, await scenario.plan());
      log(describeFault(scenario.name, f));
      const settled = f.unsettled.length === 0 ? 'one MAC per VIP after' : `not settled after: ${f.unsettled.join(' ')}`;
      rows.push({ name: `${scenario.name}: duplicate answers`, value: f.duplicateMs, unit: 'ms', note: `total, worst VIP; ${settled}` });
      rows.push({ name: `${scenario.name}: longest gap`, value: f.longestGapMs, unit: 'ms', note: 'worst VIP' });
    }
  });
  const trials = Number(process.env.BENCH_FAULT_TRIALS ?? 5);
  // Two nodes: the owner's speaker dies; the survivor has half the cluster and takes the tie-break Lease.
  await withCluster(2, 'bench-two', async (cluster, vips) => {
    const { gaps, dup } = await repeat('two nodes', trials, cluster, vips, async () => {
      const owner = await ownerOf(cluster, vips[0]!);
      return {
        inject: async () => void cluster.speakers.get(owner.name)!.kill('SIGKILL'),
        heal: async () => void (await cluster.startSpeaker(owner)),
      };
    });
    rows.push({ name: 'two-node cluster, a speaker killed: longest gap p50', value: percentile(gaps, 50), unit: 'ms', note: `${trials} trials; the survivor takes the tie-break Lease` });
    rows.push({ name: 'two-node cluster, a speaker killed: longest gap, worst', value: Math.max(...gaps), unit: 'ms', note: `duplicates ${dup} ms at most` });
  });
  // Three nodes, two speakers killed at once (not the one that owns the first VIP's successor): no majority is left.
  await withCluster(3, 'bench-two-down', async (cluster, vips) => {
    const { gaps, dup } = await repeat('two of three down', trials, cluster, vips, async () => {
      const owner = await ownerOf(cluster, vips[0]!);
      const other = cluster.lan.nodes.find((n) => n.name !== owner.name)!;
      const down: LabNode[] = [owner, other];
      return {
        faultMs: 3_000,
        inject: async () => {
          for (const n of down) cluster.speakers.get(n.name)!.kill('SIGKILL');
        },
        heal: async () => {
          for (const n of down) await cluster.startSpeaker(n, { ready: false });
          for (const n of down) await cluster.waitSpeakerReady(n);
          await sleep(500);
        },
      };
    });
    rows.push({ name: 'two of three speakers killed at once, back after 3 s: longest gap, worst', value: Math.max(...gaps), unit: 'ms', note: `${trials} trials; the survivor keeps its own share and waits for a majority (their groups are dark until a speaker returns, or the API marks the Pods NotReady); duplicates ${dup} ms at most` });
  });
  return rows;
}

if (import.meta.main) console.log(formatBenchTable(await runFaultBench()));
