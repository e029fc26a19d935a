// The speaker's memory as the image runs it (the JavaScript of
// scripts/build-js.ts, log level info), to size the DaemonSet's requests and
// limits: steady RSS and peak (VmHWM) announcing 1 and 1 000 IPs, and the
// peak of a speaker that starts on a node where 1 000 IPs already exist (its
// first list of everything is the largest moment of its life).
//
//   node bench/speaker-resources.ts     (root; BENCH_SAMPLES=30 one-second samples per phase)
//
// One node, so the speaker owns every IP; the real controller and a private
// API server. deploy/speaker/daemonset.yaml's figures come from this
// (docs/benchmarks.md, "Speaker requests and limits").
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildJs } from '../scripts/build-js.ts';
import { ControlPlane, REPO_ROOT, sleep, waitFor } from '../test/lab/index.ts';
import { E2ECluster } from '../test/e2e/cluster.ts';
import { formatBenchTable, type BenchResult } from './result.ts';

function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

export async function runSpeakerResourcesBench(log: (msg: string) => void = (m) => console.error(`[speaker-resources] ${m}`)): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error('the speaker bench needs root (network namespaces, AF_PACKET)');
  const samples = Number(process.env.BENCH_SAMPLES ?? 30);
  const cp = await ControlPlane.start({ manifests: [join(REPO_ROOT, 'deploy', 'crds')], controllerManager: false });
  const built = await mkdtemp(join(tmpdir(), 'ballast-bench-js-'));
  let cluster: E2ECluster | undefined;
  try {
    buildJs({ outDir: built, entries: ['speaker/main.ts'] });
    await symlink(join(REPO_ROOT, 'node_modules'), join(built, 'node_modules'));
    cluster = await E2ECluster.create({ controlPlane: cp.handle(), nodes: 1, name: 'bench-mem' });
    const c = cluster;
    const node = c.node(1);
    await c.startController();
    const start = async (): Promise<number> => (await c.startSpeaker(node, { program: join(built, 'speaker', 'main.js'), args: ['--log-level=info'] })).pid;
    const announcing = (n: number): Promise<unknown> =>
      waitFor(`${n} IPs announced`, async () => (await c.speakerMetric(node, 'ballast_speaker_announced_ips')) === n, { timeoutMs: 120_000, intervalMs: 500 });
    const rows: BenchResult[] = [];
    const phase = async (what: string, pid: number, notes: { median: string; max?: string; peak?: string }): Promise<void> => {
      const rss: number[] = [];
      for (let i = 0; i < samples; i++) {
        await sleep(1_000);
        rss.push(memoryMiB(pid).rss);
      }
      rss.sort((a, b) => a - b);
      const sampled = `${samples} samples 1 s apart after the count was reached`;
      rows.push({ name: `${what}: RSS median`, value: rss[Math.floor(rss.length / 2)]!, unit: 'MiB', note: notes.median });
      rows.push({ name: `${what}: RSS max`, value: rss.at(-1)!, unit: 'MiB', note: notes.max ?? sampled });
      rows.push({ name: `${what}: peak (VmHWM) since start`, value: memoryMiB(pid).peak, unit: 'MiB', note: notes.peak ?? 'the most the process ever had resident' });
      log(`${what}: median ${rss[Math.floor(rss.length / 2)]!.toFixed(1)} MiB, max ${rss.at(-1)!.toFixed(1)} MiB, peak ${memoryMiB(pid).peak.toFixed(1)} MiB`);
    };

    await c.createService({ name: 'one', families: ['IPv6'] });
    let pid = await start();
    await announcing(1);
    await phase('1 IP', pid, { median: `${samples} samples 1 s apart after the count was reached` });
    for (let i = 1; i < 1_000; i += 25) {
      await Promise.all(Array.from({ length: Math.min(25, 1_000 - i) }, (_, j) => c.createService({ name: `many-${i + j}`, families: ['IPv6'] })));
    }
    await announcing(1_000);
    await phase('1 000 IPs, grown from 1', pid, { median: 'the same speaker, after 999 Services were created, 25 at a time', max: 'the heap it grew during the burst is not given back' });
    await c.speakers.get(node.name)!.stop();
    pid = await start();
    await announcing(1_000);
    await phase('1 000 IPs, started with them', pid, { median: 'a new speaker on the node, the 1 000 Services already there', peak: 'its first list of everything included' });
    return rows;
  } finally {
    await cluster?.destroy();
    await cp.stop();
    await rm(built, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  console.log(formatBenchTable(await runSpeakerResourcesBench()));
}
