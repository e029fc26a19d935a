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
    name: 'memory',
    title: 'Memory with a cluster’s worth of objects',
    about: 'The controller and a speaker (as the image runs them, scripts/build-js.ts) against a private etcd + kube-apiserver holding 5 000 Services (all LoadBalancer, 1 000 of them announced), 5 000 EndpointSlices and 100 Nodes shaped like real ones (managedFields, kubectl’s last-applied annotation, Node images); MetalLB’s controller (bench/metallb.ts, built from the Go module proxy) on the same objects. Targets: speaker ≤ 80 MiB idle, ≤ 100 MiB at 1 000 IPs; controller no more than MetalLB’s. Before the informer transform and streamed state (commit 23c922c, this bench, same machine): controller 281 MiB built JS / 290 MiB .ts, speaker 310 MiB with nothing advertised / 325 MiB at 1 000 IPs, MetalLB’s controller 161 MiB.',
    module: './memory.ts',
    run: 'runMemoryBench',
    root: true,
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
    name: 'faults',
    title: 'Speaker faults, as a client sees them',
    about:
      'test/e2e/fault-scenarios.ts on a private control plane, three real speakers and 8 VIPs (6 IPv4, 2 IPv6); the client sends one ARP request / NS per VIP every 10 ms (client-tool.ts watch, kernel receive timestamps) and records which MACs answered each round. Duplicate answers: total time two or more MACs answered, from the fault to 4 s after it healed; longest gap: the longest time nobody answered. Invariant (test/e2e/faults.lab.test.ts): ≤ 1 000 ms each, except a gap of ≤ 2 000 ms for a speaker restarted mid-takeover (two of three speakers down at once: the gap lasts until the restarted one is heard), and for a frozen speaker (its peers keep a majority) two MACs only at a hand-over, where the old owner answered a request in flight as the new one took over. Then two bounds the protocol documents: a two-node cluster losing a speaker, and two of three speakers down at once.',
    module: './faults.ts',
    run: 'runFaultBench',
    root: true,
  },
  {
    name: 'kind',
    title: 'On a real kind cluster',
    about:
      'What a user installs (the image built here on a Node.js 24 base from debootstrap, `kubectl apply --server-side -k deploy/`, then the Helm chart) on a kind cluster of 1 control plane and 2 workers built offline (test/kind/offline/run.sh), observed from the host, a client on the nodes\' docker network: test/kind/e2e.kind.test.ts. TCP gaps are counted beyond the stalls a control series shows (the same prober, every few ms, asking an HTTP server of its own on the host: what it also missed was the prober\'s stall, not the network\'s); raw gaps are in the notes, since a 2-core machine running three nodes stalls its own client. Targets: failover ≤ 1 s, rolling update gap ≤ 0.1 s.',
    module: './kind.ts',
    run: 'runKindBench',
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
// Sections not run this time are kept from the previous file, marked once with the run they came
// from (the header names only this one).
const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
const earlier = /on\n(\d{4}-\d\d-\d\d \d\d:\d\d) UTC, commit (\w+)/.exec(previous);
const keep = BENCHES.filter((b) => !chosen.includes(b)).flatMap((b) => {
  const m = new RegExp(`## ${b.title}\\n[\\s\\S]*?(?=\\n## |$)`).exec(previous);
  if (!m) return [];
  const body = m[0].trimEnd();
  if (/\n_\(from an earlier run[^\n]*\)_$/.test(body)) return [`${body}\n`];
  return [`${body}\n\n_(from an earlier run${earlier ? `: ${earlier[1]} UTC, commit ${earlier[2]}` : ''})_\n`];
});
writeFileSync(out, `${header}\n${[...sections, ...keep].join('\n')}`);
console.error(`bench: wrote ${out}`);
process.exit(failed ? 1 : 0);
