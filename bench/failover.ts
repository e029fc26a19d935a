// Failover as a client sees it, in the lab: a real API server (private), the
// real controller, three real speakers in node namespaces, and a client that
// requests the Service every 10 ms. Plus the speaker's ARP reply latency at
// 5 000 requests/s and its memory.
//
//   node bench/failover.ts    (root; BENCH_TRIALS=20, BENCH_PARTS=sigkill,link,sigterm,arp,memory by default)
//
// Definitions (test/e2e/probe-analysis.ts):
// - takeover: from the event to the first successful answer (its completion)
//   from another node; every request has a 150 ms timeout, so a connect
//   during the outage does not wait out TCP's 1 s SYN retransmit;
// - outage: the longest stretch after the event without a successful answer.
// Events:
// - SIGKILL of the announcing speaker: the node itself stays up and still
//   forwards, so clients see no outage; the takeover is the failover time;
// - link down of the announcing node (the bridge port, as a pulled cable):
//   nothing answers until another node takes over, so outage = failover time;
// - SIGTERM of the announcing speaker, and its node's link down as soon as the
//   process has exited (a node drained and gone): the graceful hand-over.
// p99 over 20 trials is the worst trial (nearest rank).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane, REPO_ROOT, sleep, waitFor, type LabNode } from '../test/lab/index.ts';
import { E2ECluster, wallClockMs } from '../test/e2e/cluster.ts';
import { measureFailover, percentile, type FailoverMeasure } from '../test/e2e/probe-analysis.ts';
import { formatBenchTable, type BenchResult } from './result.ts';

export interface FailoverBenchOptions {
  /** Trials per event (default BENCH_TRIALS or 20). */
  readonly trials?: number;
  /** Which parts to run (default BENCH_PARTS or all): sigkill, link, sigterm, arp, memory. */
  readonly parts?: readonly string[];
  readonly log?: (msg: string) => void;
}

const CLIENT_TOOL = join(REPO_ROOT, 'speaker', 'l2', 'lab', 'client-tool.ts');
/** A heap cap that shows the live set (V8 otherwise grows the heap long before it collects). */
const HEAP_CAP = '--max-semi-space-size=1 --max-old-space-size=64';

export async function runFailoverBench(opts: FailoverBenchOptions = {}): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error('the failover bench needs root (network namespaces, AF_PACKET, iptables)');
  const trials = opts.trials ?? Number(process.env.BENCH_TRIALS ?? 20);
  const log = opts.log ?? ((msg: string) => console.error(`[failover] ${msg}`));
  const cp = await ControlPlane.start({ manifests: [join(REPO_ROOT, 'deploy', 'crds')], controllerManager: false });
  let cluster: E2ECluster | undefined;
  try {
    cluster = await E2ECluster.create({ controlPlane: cp.handle(), nodes: 3, name: 'bench-fo' });
    await cluster.startController();
    await cluster.startSpeakers();
    await cluster.createService({ name: 'fo' });
    const [vip] = (await cluster.ingress('fo', 1)) as [string];
    const bench = new Bench(cluster, vip, log);
    const rows: BenchResult[] = [];
    const parts = new Set(opts.parts ?? (process.env.BENCH_PARTS ?? 'sigkill,link,sigterm,arp,memory').split(','));
    if (parts.has('sigkill')) rows.push(...(await bench.trials('SIGKILL of the announcing speaker', trials, (node) => bench.sigkill(node))));
    if (parts.has('link')) rows.push(...(await bench.trials('link down of the announcing node', trials, (node) => bench.linkDown(node))));
    if (parts.has('sigterm')) rows.push(...(await bench.trials('SIGTERM of the announcing speaker, node gone after it exits', trials, (node) => bench.graceful(node))));
    if (parts.has('arp')) rows.push(...(await bench.arpLatency()));
    if (parts.has('memory')) rows.push(...(await bench.memory()));
    return rows;
  } finally {
    await cluster?.destroy().catch((e: unknown) => log(`teardown: ${String(e)}`));
    await cp.stop();
  }
}

class Bench {
  readonly #cluster: E2ECluster;
  readonly #vip: string;
  readonly #log: (msg: string) => void;

  constructor(cluster: E2ECluster, vip: string, log: (msg: string) => void) {
    this.#cluster = cluster;
    this.#vip = vip;
    this.#log = log;
  }

  /**
   * The owner with every speaker up: the rendezvous winner among all nodes.
   * Waits until it is the only node answering and the client's requests reach
   * it, so a trial never starts in the middle of the previous one's hand-back.
   */
  async owner(): Promise<LabNode> {
    const c = this.#cluster;
    const expected = c.lan.node(c.hashWinner(this.#vip));
    await waitFor(`${expected.name} alone to answer for ${this.#vip}`, async () => {
      const macs = await c.whoHas(this.#vip, 150);
      return macs.length === 1 && macs[0] === expected.mac;
    }, { timeoutMs: 15_000, intervalMs: 100 });
    await c.waitAnsweredBy(this.#vip, expected.name);
    return expected;
  }

  async trials(what: string, n: number, trial: (owner: LabNode) => Promise<FailoverMeasure>): Promise<BenchResult[]> {
    const takeover: number[] = [];
    const outage: number[] = [];
    let failedRequests = 0;
    let failedAfterTakeover = 0;
    let missing = 0;
    for (let i = 0; i < n; i++) {
      const owner = await this.owner();
      // Past the hand-back's announcement burst, so each trial starts from a settled LAN.
      await sleep(500);
      const m = await trial(owner);
      if (m.takeoverMs === undefined) missing++;
      else takeover.push(m.takeoverMs);
      outage.push(m.outageMs);
      failedRequests += m.failed;
      failedAfterTakeover += m.failedAfterTakeover;
      this.#log(`${what} #${i + 1}: takeover ${m.takeoverMs?.toFixed(0) ?? 'none'} ms, outage ${m.outageMs.toFixed(0)} ms, ${m.failed} failed requests${m.failures.length ? ` (${m.failures.join('; ')})` : ''}`);
    }
    // Requests open when the client's neighbour entry moved are reset by the new node (any L2 failover);
    // the ones that failed after the new node answered are the ones that count against us.
    const note = `${n} trials${missing ? `, ${missing} without takeover` : ''}; ${failedRequests} failed requests in all, ${failedAfterTakeover} of them after the takeover`;
    return [
      { name: `${what}: takeover p50`, value: percentile(takeover, 50), unit: 'ms', note },
      { name: `${what}: takeover p99`, value: percentile(takeover, 99), unit: 'ms', note: 'worst trial' },
      { name: `${what}: outage p50`, value: percentile(outage, 50), unit: 'ms', note: 'longest stretch without a successful answer' },
      { name: `${what}: outage p99`, value: percentile(outage, 99), unit: 'ms', note: 'worst trial' },
    ];
  }

  async sigkill(owner: LabNode): Promise<FailoverMeasure> {
    const c = this.#cluster;
    const probe = c.probe(this.#vip, 2_000);
    await sleep(300);
    const at = wallClockMs();
    c.speakers.get(owner.name)!.kill('SIGKILL');
    const m = measureFailover(await probe, at, owner.name);
    await c.speakers.get(owner.name)!.exited;
    await c.startSpeaker(owner);
    return m;
  }

  async linkDown(owner: LabNode): Promise<FailoverMeasure> {
    const c = this.#cluster;
    const probe = c.probe(this.#vip, 2_000);
    await sleep(300);
    const at = wallClockMs();
    await c.lan.setLink(owner, false);
    const m = measureFailover(await probe, at, owner.name);
    await c.lan.setLink(owner, true);
    return m;
  }

  async graceful(owner: LabNode): Promise<FailoverMeasure> {
    const c = this.#cluster;
    const proc = c.speakers.get(owner.name)!;
    const probe = c.probe(this.#vip, 1_500);
    await sleep(300);
    const at = wallClockMs();
    proc.kill('SIGTERM');
    await proc.exited;
    await c.lan.setLink(owner, false);
    const m = measureFailover(await probe, at, owner.name);
    await c.lan.setLink(owner, true);
    await c.startSpeaker(owner);
    return m;
  }

  /** speaker/l2/lab/client-tool.ts arp-latency against the announcing speaker: kernel receive timestamps. */
  async arpLatency(): Promise<BenchResult[]> {
    const c = this.#cluster;
    await this.owner();
    // One second first, unmeasured: the responder's code is compiled by then, as in a speaker that has run a while.
    await c.lan.exec(c.lan.client, [process.execPath, CLIENT_TOOL, 'arp-latency', 'eth0', this.#vip, '5000', '1']);
    const out = await c.lan.exec(c.lan.client, [process.execPath, CLIENT_TOOL, 'arp-latency', 'eth0', this.#vip, '5000', '3']);
    const r = JSON.parse(out) as { sent: number; answered: number; ratePerS: number; kernelP50Us: number; kernelP99Us: number; kernelMaxUs: number; jsP99Us: number };
    this.#log(`ARP latency: ${out.trim()}`);
    const note = `${r.ratePerS}/s for 3 s, ${r.answered} of ${r.sent} answered; request sent → reply's kernel receive timestamp in the client`;
    return [
      { name: 'ARP reply latency at 5 000 requests/s: p50', value: r.kernelP50Us, unit: 'µs', note },
      { name: 'ARP reply latency at 5 000 requests/s: p99', value: r.kernelP99Us, unit: 'µs', note: `max ${r.kernelMaxUs} µs; p99 seen by the client tool's own event loop ${r.jsP99Us} µs` },
    ];
  }

  /**
   * RSS of the announcing speaker idle (1 IP) and announcing 1 001 IPs (the
   * other speakers stopped, so it owns everything): as the image runs it
   * (built JS, when scripts/build-js.ts exists), as the lab runs it (.ts, type
   * stripping), and built JS with a capped V8 heap. V8 reserves heap far
   * beyond the live set until it must collect; the cap shows the live set.
   */
  async memory(): Promise<BenchResult[]> {
    const c = this.#cluster;
    const owner = await this.owner();
    const rows: BenchResult[] = [];
    const rss = async (): Promise<number> => {
      await sleep(5_000);
      const pid = c.speakers.get(owner.name)!.pid;
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return Number(kb) / 1024;
    };
    const built = await buildJs(this.#log);
    const ts = join(REPO_ROOT, 'speaker', 'main.ts');
    const variants: Array<{ label: string; program: string; env?: NodeJS.ProcessEnv; note: string }> = [
      ...(built === undefined ? [] : [{ label: 'built JS', program: join(built, 'speaker', 'main.js'), note: 'as the image runs it (scripts/build-js.ts), default V8 heap sizing' }]),
      { label: '.ts', program: ts, note: 'as the lab runs it: Node strips types at run time, in the main thread and the wire worker' },
      ...(built === undefined
        ? []
        : [{ label: 'built JS, heap capped', program: join(built, 'speaker', 'main.js'), env: { NODE_OPTIONS: HEAP_CAP }, note: `NODE_OPTIONS="${HEAP_CAP}"` }]),
    ];
    const measure = async (load: string, ips: number): Promise<void> => {
      for (const v of variants) {
        await this.#restart(owner, v.program, v.env);
        await waitFor(`${owner.name} to announce ${ips} IPs`, async () => (await c.speakerMetric(owner, 'ballast_speaker_announced_ips')) === ips, { timeoutMs: 60_000, intervalMs: 500 });
        rows.push({ name: `speaker RSS, ${load}, ${v.label}`, value: await rss(), unit: 'MiB', note: v.note });
      }
    };
    try {
      await measure('idle (1 IP)', 1);
      // The others go, Pods and all (as when their nodes are drained): with their Pods still Ready
      // a lone speaker would be a minority and answer only its own share.
      for (const n of c.lan.nodes) {
        if (n.name === owner.name) continue;
        await c.speakers.get(n.name)!.stop();
        await c.core.deleteNamespacedPod({ namespace: c.namespace, name: `ballast-speaker-${n.name}`, gracePeriodSeconds: 0 });
      }
      await this.#manyServices(1_000);
      await measure('announcing 1 001 IPs', 1_001);
      if (built === undefined) rows.push({ name: 'speaker RSS, built JS', value: Number.NaN, unit: 'MiB', note: 'scripts/build-js.ts is not on this branch yet' });
    } finally {
      if (built !== undefined) await rm(built, { recursive: true, force: true });
    }
    return rows;
  }

  async #restart(node: LabNode, program: string, env?: NodeJS.ProcessEnv): Promise<void> {
    const c = this.#cluster;
    await c.speakers.get(node.name)!.stop();
    await c.startSpeaker(node, { program, ...(env ? { env } : {}), ready: false });
  }

  async #manyServices(n: number): Promise<void> {
    const c = this.#cluster;
    const started = Date.now();
    for (let i = 0; i < n; i += 25) {
      await Promise.all(Array.from({ length: Math.min(25, n - i) }, (_, j) => c.createService({ name: `many-${i + j}`, families: ['IPv6'] })));
    }
    this.#log(`created ${n} Services in ${Date.now() - started} ms`);
  }
}

/** The image's JavaScript (scripts/build-js.ts, from another branch), or undefined where it does not exist yet. */
async function buildJs(log: (msg: string) => void): Promise<string | undefined> {
  const script = join(REPO_ROOT, 'scripts', 'build-js.ts');
  let mod: { buildJs(opts: { outDir: string; entries?: readonly string[] }): unknown };
  try {
    mod = (await import(script)) as typeof mod;
  } catch {
    log('scripts/build-js.ts not found: measuring the .ts speaker only');
    return undefined;
  }
  const outDir = await mkdtemp(join(tmpdir(), 'ballast-bench-js-'));
  mod.buildJs({ outDir, entries: ['speaker/main.ts'] });
  // The image brings its own pruned node_modules; here the checkout's will do.
  await symlink(join(REPO_ROOT, 'node_modules'), join(outDir, 'node_modules'));
  return outDir;
}

if (import.meta.main) {
  console.log(formatBenchTable(await runFailoverBench()));
}
