// The kind stage's figures (test/kind/e2e.kind.test.ts, what a user installs on
// a real cluster) as a docs/benchmarks.md section beside the lab's. Runs
// `scripts/dev kind test` (minutes: a cluster is built and torn down), or
// reads the figures of a run already made: BENCH_KIND_FIGURES=<kind-e2e.json>
// (run.sh prints where it wrote them).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/lab/index.ts';
import type { BenchResult } from './result.ts';

interface Outage { outageMs: number; beyondStallsMs: number; failed: number }
interface Trials { trials: number; takeoverMs: number[]; gapsMs: number[]; rawGapsMs: number[]; gapP50Ms: number; gapMaxMs: number; takeoverMaxMs: number }
interface Install {
  install: string;
  speakerRssBytes?: Record<string, number | null>;
  rollingUpdate?: { durationMs: number; ipv4: Outage; ipv6: Outage; mostMacsAtOnce: number };
  speakerPodDeleted?: Outage & { takeoverMs: number; mostMacsAtOnce: number };
  disconnect?: Trials;
  pause?: Trials;
  localPolicy?: { moveMs: number; afterRolloutMs: number };
  controllerLeaderDeleted?: { newServicesAllocatedMs: number };
}
interface Figures { image: string; imageBytes: number; kustomize?: Install; helm?: Install }

const MiB = 2 ** 20;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;

export async function runKindBench(): Promise<BenchResult[]> {
  let file = process.env.BENCH_KIND_FIGURES;
  let stageNote = `figures of an earlier run (${file})`;
  let stageSeconds: number | undefined;
  if (!file) {
    file = join(mkdtempSync(join(tmpdir(), 'ballast-bench-kind-')), 'kind-e2e.json');
    const t0 = performance.now();
    const run = spawnSync(join(REPO_ROOT, 'scripts', 'dev'), ['kind', 'test'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, RESULTS: file } });
    if (run.status !== 0) throw new Error(`scripts/dev kind test failed (exit ${run.status ?? run.signal})`);
    stageSeconds = (performance.now() - t0) / 1000;
    stageNote = 'scripts/dev kind test: dockerd, images and binaries from the cache, a new cluster, both installs, teardown';
  }
  const figures = JSON.parse(readFileSync(file, 'utf8')) as Figures;
  const k = figures.kustomize ?? ({} as Install);
  const rows: BenchResult[] = [];
  const add = (name: string, value: number, unit: string, note: string): void => void rows.push({ name, value, unit, note });
  if (stageSeconds !== undefined) add('kind stage, warm cache', stageSeconds, 's', stageNote);
  add('image size', figures.imageBytes / MiB, 'MiB', `${figures.image}, both programs, on the Node.js 24 base built here`);
  for (const [install, f] of [['kustomize', k], ['Helm', figures.helm]] as const) {
    const rss = Object.values(f?.speakerRssBytes ?? {}).filter((v): v is number => typeof v === 'number');
    if (rss.length) add(`speaker RSS in the cluster (${install} install), highest node`, Math.max(...rss) / MiB, 'MiB', `${rss.length} nodes, lowest ${(Math.min(...rss) / MiB).toFixed(0)} MiB; the speaker's process_resident_memory_bytes after the install suite`);
  }
  for (const [what, t] of [['docker network disconnect of the announcing node', k.disconnect], ['docker pause of the announcing node', k.pause]] as const) {
    if (!t) continue;
    add(`${what}: takeover p50`, median(t.takeoverMs), 'ms', `${t.trials} trials: ${t.takeoverMs.join(', ')} ms; another node's MAC answers the host`);
    add(`${what}: TCP gap, worst`, t.gapMaxMs, 'ms', `beyond the prober's own stalls; raw ${t.rawGapsMs.join(', ')} ms`);
  }
  if (k.speakerPodDeleted) {
    const d = k.speakerPodDeleted;
    add('announcing speaker Pod deleted: takeover', d.takeoverMs, 'ms', `graceful (SIGTERM); TCP outage ${d.outageMs} ms raw, ${d.beyondStallsMs} ms beyond stalls, ${d.failed} failed; most MACs at once ${d.mostMacsAtOnce}`);
  }
  if (k.rollingUpdate) {
    const r = k.rollingUpdate;
    add('rolling update of the speakers: TCP gap beyond stalls', Math.max(r.ipv4.beyondStallsMs, r.ipv6.beyondStallsMs), 'ms', `IPv4 and IPv6 under traffic for ${(r.durationMs / 1000).toFixed(0)} s; raw ${r.ipv4.outageMs} / ${r.ipv6.outageMs} ms; ${r.ipv4.failed + r.ipv6.failed} failed; most MACs at once ${r.mostMacsAtOnce}`);
  }
  if (k.localPolicy) add('externalTrafficPolicy: Local, endpoint moved: announced by its new node', k.localPolicy.moveMs, 'ms', `from the Deployment's change to the new node's MAC alone answering; ${k.localPolicy.afterRolloutMs} ms after the rollout finished`);
  if (k.controllerLeaderDeleted) add("controller's leader Pod deleted: 5 Services created meanwhile all have IPs", k.controllerLeaderDeleted.newServicesAllocatedMs, 'ms', 'from the delete; 3 Services deleted at once too; no other IP changed, none twice');
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatBenchTable } = await import('./result.ts');
  console.log(formatBenchTable(await runKindBench()));
}
