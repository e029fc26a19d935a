// `npm run bench`: every benchmark in one run (ratios are only comparable
// within a run: the machine is shared and noisy), written to
// docs/benchmarks.md with how and where it was produced.
//
//   npm run bench                 all of them
//   npm run bench -- allocator    only the named ones
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/lab/index.ts';
import { formatBenchTable, type BenchResult } from './result.ts';

interface Bench {
  name: string;
  title: string;
  /** What it measures and against which target (DESIGN.md §5). */
  about: string;
  module: string;
  run: string;
  /** Needs root (network namespaces). */
  root?: boolean;
}

const BENCHES: Bench[] = [
  {
    name: 'allocator',
    title: 'Allocation in memory',
    about: 'controller/allocator against a MetalLB-style linear first-fit written in the bench. Targets: 100 000 Services into one pool < 1 s, O(log n) per allocation, memory independent of pool size.',
    module: './allocator.ts',
    run: 'runAllocatorBench',
  },
  {
    name: 'controller-api',
    title: 'Allocation against the lab API server',
    about: 'The real controller process against a private etcd + kube-apiserver (no kube-controller-manager). Target: 5 000 Services with IPs in status ≤ 15 s.',
    module: './controller-api.ts',
    run: 'runControllerApiBench',
  },
  {
    name: 'k8s-requests',
    title: 'API request latency',
    about: 'Sequential GETs of one object through shared/k8s (node:https, one kept-alive connection) and through client-node’s generated client, against a private etcd + kube-apiserver.',
    module: './k8s-requests.ts',
    run: 'runK8sRequestBench',
  },
  {
    name: 'failover',
    title: 'Speaker failover, ARP latency and memory',
    about: 'Real speakers in the lab LAN, requests from the client namespace. Targets: failover p50 ≤ 0.5 s, p99 ≤ 1 s; graceful handover ≤ 0.1 s; ARP p99 ≤ 1 ms at 5 000/s; speaker idle RSS ≤ 80 MB.',
    module: './failover.ts',
    run: 'runFailoverBench',
    root: true,
  },
  {
    name: 'speaker-resources',
    title: 'Speaker requests and limits',
    about:
      'The speaker as the image runs it (scripts/build-js.ts, --log-level=info, default V8 heap sizing) in a one-node lab LAN, so it owns every IP, with the real controller and a private API server; one IPv6 address per Service. RSS is the process’s VmRSS (main thread and wire worker) sampled once a second after its ballast_speaker_announced_ips reached the count; the peak is VmHWM since it started. The DaemonSet (deploy/speaker/daemonset.yaml and the chart’s default) requests the steady RSS at 1 000 IPs rounded up and limits at 1.5 × the highest peak, so a speaker is never killed for a burst of new Services; test/deploy/speaker-resources.test.ts holds the manifests to this table.',
    module: './speaker-resources.ts',
    run: 'runSpeakerResourcesBench',
    root: true,
  },
];

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const wanted = process.argv.slice(2);
const chosen = BENCHES.filter((b) => wanted.length === 0 || wanted.includes(b.name));
if (chosen.length === 0) {
  console.error(`unknown bench; choose from: ${BENCHES.map((b) => b.name).join(', ')}`);
  process.exit(2);
}

const started = new Date();
const loadAtStart = loadavg();
const sections: string[] = [];
let failed = false;
for (const b of chosen) {
  const path = join(import.meta.dirname, b.module);
  if (!existsSync(path)) {
    sections.push(`## ${b.title}\n\nNot measured: ${b.module} does not exist yet.\n`);
    continue;
  }
  if (b.root && process.getuid?.() !== 0) {
    sections.push(`## ${b.title}\n\nNot measured: needs root (network namespaces).\n`);
    continue;
  }
  console.error(`bench: ${b.name} …`);
  const t0 = performance.now();
  try {
    const mod = (await import(path)) as Record<string, () => Promise<BenchResult[]>>;
    const rows = await mod[b.run]!();
    const seconds = ((performance.now() - t0) / 1000).toFixed(0);
    sections.push(`## ${b.title}\n\n${b.about}\n\n${formatBenchTable(rows)}\n\n_\`node bench/${b.module.slice(2)}\` alone gives the same table; this section took ${seconds} s._\n`);
    console.error(formatBenchTable(rows));
  } catch (e) {
    failed = true;
    sections.push(`## ${b.title}\n\nFailed: ${(e as Error).message}\n`);
    console.error(`bench: ${b.name} failed: ${(e as Error).stack}`);
  }
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const header = `# Benchmarks

Produced by \`npm run bench${wanted.length ? ` -- ${wanted.join(' ')}` : ''}\` (after \`eval "$(scripts/dev env)"\`; as root for the lab ones) on
${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain']) ? ' (with uncommitted changes)' : ''},
Node.js ${process.version}, ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} at the start. The machine is shared: compare numbers within one run, not across runs.
`;
const out = join(REPO_ROOT, 'docs', 'benchmarks.md');
// Sections not run this time are kept from the previous file.
const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
const keep = BENCHES.filter((b) => !chosen.includes(b)).flatMap((b) => {
  const m = new RegExp(`## ${b.title}\\n[\\s\\S]*?(?=\\n## |$)`).exec(previous);
  return m ? [`${m[0].trimEnd()}\n\n_(from an earlier run)_\n`] : [];
});
writeFileSync(out, `${header}\n${[...sections, ...keep].join('\n')}`);
console.error(`bench: wrote ${out}`);
process.exit(failed ? 1 : 0);
