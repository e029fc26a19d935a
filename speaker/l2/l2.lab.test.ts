// Real frames between two network namespaces joined by a veth pair: the
// responder runs in "node" as a child process, and the client's own kernel
// resolves VIPs by ARP and NDP. Self-contained fixture (one file) so it can
// move onto the shared lab library later.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeArpFrame } from './arp.ts';
import { BROADCAST_MAC, parseMac } from './ethernet.ts';
import { multicastMacFor, solicitedNodeMulticast } from './ipv6.ts';
import { encodeNdpFrame } from './ndp.ts';
import { ip } from './fixtures.test-util.ts';

const prefix = `bl2-${randomBytes(3).toString('hex')}`;
const NODE_NS = `${prefix}-node`;
const CLIENT_NS = `${prefix}-client`;
const NODE_IF = 'lan0';
const CLIENT_IF = 'lan0';
const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

const run = (...args: string[]): string => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const inClient = (...args: string[]): string => run('ip', 'netns', 'exec', CLIENT_NS, ...args);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function teardown(): void {
  for (const ns of [NODE_NS, CLIENT_NS]) {
    try {
      run('ip', 'netns', 'del', ns);
    } catch {
      // Not created, or already gone.
    }
  }
}

function createNamespaces(): void {
  run('ip', 'netns', 'add', NODE_NS);
  run('ip', 'netns', 'add', CLIENT_NS);
  for (const ns of [NODE_NS, CLIENT_NS]) {
    // No DAD delay on the test addresses, fast NUD so a STALE entry is probed within a second.
    run('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
    run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  }
  run('ip', 'link', 'add', NODE_IF, 'netns', NODE_NS, 'type', 'veth', 'peer', 'name', CLIENT_IF, 'netns', CLIENT_NS);
  run('ip', '-n', NODE_NS, 'addr', 'add', '198.51.100.2/24', 'dev', NODE_IF);
  run('ip', '-n', NODE_NS, 'addr', 'add', '2001:db8:1::2/64', 'dev', NODE_IF, 'nodad');
  run('ip', '-n', CLIENT_NS, 'addr', 'add', '198.51.100.1/24', 'dev', CLIENT_IF);
  run('ip', '-n', CLIENT_NS, 'addr', 'add', '2001:db8:1::1/64', 'dev', CLIENT_IF, 'nodad');
  run('ip', '-n', NODE_NS, 'link', 'set', NODE_IF, 'up');
  run('ip', '-n', CLIENT_NS, 'link', 'set', CLIENT_IF, 'up');
  // The VIP ranges are on-link for the client, as a LoadBalancer pool on the node LAN would be.
  run('ip', '-n', CLIENT_NS, 'route', 'add', '203.0.113.0/24', 'dev', CLIENT_IF);
  run('ip', '-n', CLIENT_NS, 'route', 'add', '2001:db8:100::/64', 'dev', CLIENT_IF);
  inClient('sysctl', '-qw', `net.ipv4.neigh.${CLIENT_IF}.delay_first_probe_time=1`, `net.ipv6.neigh.${CLIENT_IF}.delay_first_probe_time=1`);
}

class Responder {
  readonly process: ChildProcessWithoutNullStreams;
  readonly #waiting: { op: string; resolve: (message: Record<string, unknown>) => void }[] = [];
  readonly events: unknown[] = [];
  stderr = '';

  constructor() {
    this.process = spawn('ip', ['netns', 'exec', NODE_NS, process.execPath, here('./lab/responder-process.ts'), NODE_IF]);
    this.process.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.process.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      if (message.op === 'event') this.events.push(message.event);
      const index = this.#waiting.findIndex((w) => w.op === message.op);
      if (index >= 0) this.#waiting.splice(index, 1)[0]!.resolve(message);
    });
  }

  next(op: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`responder: no "${op}" within ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.#waiting.push({ op, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  async command(message: object): Promise<Record<string, unknown>> {
    const answer = this.next((message as { op: string }).op);
    this.process.stdin.write(`${JSON.stringify(message)}\n`);
    return answer;
  }

  async counts(): Promise<Record<string, number>> {
    return (await this.command({ op: 'stats' })).counts as Record<string, number>;
  }

  stop(): void {
    this.process.stdin.end();
    this.process.kill('SIGTERM');
  }
}

interface Neighbour {
  readonly lladdr?: string;
  readonly state?: readonly string[];
}

function neighbour(address: string): Neighbour | null {
  const entries = JSON.parse(run('ip', '-n', CLIENT_NS, '-j', 'neigh', 'show', address, 'dev', CLIENT_IF)) as Neighbour[];
  return entries[0] ?? null;
}

/** Makes the client's kernel resolve `address` by sending it one UDP datagram. */
function poke(address: string): void {
  inClient('bash', '-c', `echo poke > /dev/udp/${address}/9`);
}

async function waitForNeighbour(address: string, accept: (n: Neighbour | null) => boolean, timeoutMs: number): Promise<Neighbour | null> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const entry = neighbour(address);
    if (accept(entry) || performance.now() > deadline) return entry;
    await sleep(20);
  }
}

const resolvedTo = (mac: string) => (n: Neighbour | null) => n?.lladdr === mac && !n.state?.includes('INCOMPLETE') && !n.state?.includes('FAILED');

let responder: Responder;
let nodeMac: string;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the L2 lab test needs root (network namespaces, AF_PACKET)');
  teardown();
  try {
    createNamespaces();
    responder = new Responder();
    const ready = await responder.next('ready');
    expect(ready.eligible).toEqual([NODE_IF]);
    expect(ready.failures).toEqual([]);
    nodeMac = ready.mac as string;
    await responder.command({ op: 'own', table: [['203.0.113.10', 'all'], ['2001:db8:100::10', 'all']] });
  } catch (e) {
    responder?.stop();
    teardown();
    throw e;
  }
});

afterAll(() => {
  responder?.stop();
  teardown();
});

describe('L2 responder between network namespaces', () => {
  it('answers ARP for an owned IPv4 VIP with the node MAC', async () => {
    poke('203.0.113.10');
    const entry = await waitForNeighbour('203.0.113.10', resolvedTo(nodeMac), 2000);
    expect(entry?.lladdr).toBe(nodeMac);
    expect((await responder.counts())['reply arp 203.0.113.10']).toBeGreaterThanOrEqual(1);
  });

  it('answers NDP for an owned IPv6 VIP with the node MAC', async () => {
    poke('2001:db8:100::10');
    const entry = await waitForNeighbour('2001:db8:100::10', resolvedTo(nodeMac), 2000);
    expect(entry?.lladdr).toBe(nodeMac);
    expect((await responder.counts())['reply ndp 2001:db8:100::10']).toBeGreaterThanOrEqual(1);
  });

  it.each([['2001:db8:100::10'], ['203.0.113.10']])('answers the unicast NUD probe for %s once the entry is STALE', async (vip) => {
    poke(vip);
    await waitForNeighbour(vip, resolvedTo(nodeMac), 2000);
    const family = vip.includes(':') ? 'ndp' : 'arp';
    const before = (await responder.counts())[`reply ${family} ${vip}`] ?? 0;
    run('ip', '-n', CLIENT_NS, 'neigh', 'change', vip, 'dev', CLIENT_IF, 'lladdr', nodeMac, 'nud', 'stale');
    poke(vip);
    // STALE -> DELAY (1 s) -> PROBE: a unicast probe to our MAC. Answered, the
    // entry is REACHABLE at once; unanswered, it would sit in PROBE for 3 s and
    // then fail, and only a new multicast solicitation would resolve it again.
    const entry = await waitForNeighbour(vip, (n) => n?.state?.includes('REACHABLE') === true, 2500);
    expect(entry?.state).toContain('REACHABLE');
    expect(entry?.lladdr).toBe(nodeMac);
    expect((await responder.counts())[`reply ${family} ${vip}`]).toBeGreaterThan(before);
  });

  it.each([['203.0.113.99'], ['2001:db8:100::99']])('leaves %s, which it does not own, unanswered', async (vip) => {
    poke(vip);
    await sleep(1500);
    expect(neighbour(vip)?.lladdr).toBeUndefined();
    const counts = await responder.counts();
    expect(Object.keys(counts).filter((k) => k.endsWith(vip))).toEqual([]);
  });

  it('counts and ignores garbled frames, and keeps answering', async () => {
    const clientMac = parseMac(JSON.parse(run('ip', '-n', CLIENT_NS, '-j', 'link', 'show', CLIENT_IF))[0].address as string);
    if (!clientMac.ok) throw new Error(clientMac.error);
    // An ARP request claiming a 7-byte hardware address: passes the socket filter (opcode 1), fails decoding.
    const arp = encodeArpFrame({
      ethernet: { destination: BROADCAST_MAC, source: clientMac.value, etherType: 0x0806 },
      arp: { operation: 'request', senderMac: clientMac.value, senderIP: ip('198.51.100.1'), targetMac: new Uint8Array(6), targetIP: ip('203.0.113.10') },
    });
    arp[18] = 7;
    // A Neighbor Solicitation for the VIP with its checksum broken.
    const vip6 = ip('2001:db8:100::10');
    const ns = encodeNdpFrame({
      ethernet: { destination: multicastMacFor(solicitedNodeMulticast(vip6)), source: clientMac.value, etherType: 0x86dd },
      source: ip('2001:db8:1::1'),
      destination: solicitedNodeMulticast(vip6),
      hopLimit: 255,
      message: { type: 'solicitation', target: vip6, sourceLinkLayer: clientMac.value },
    });
    ns[56]! ^= 0xff;
    const before = await responder.counts();
    run('ip', 'netns', 'exec', CLIENT_NS, process.execPath, here('./lab/client-tool.ts'), 'send', CLIENT_IF, Buffer.from(arp).toString('hex'), Buffer.from(ns).toString('hex'));
    await sleep(200);
    const after = await responder.counts();
    expect((after['garbled arp unsupported-format'] ?? 0) - (before['garbled arp unsupported-format'] ?? 0)).toBe(1);
    expect((after['garbled ndp bad-checksum'] ?? 0) - (before['garbled ndp bad-checksum'] ?? 0)).toBe(1);
    expect(after['reply arp 203.0.113.10']).toBe(before['reply arp 203.0.113.10']);
    expect(after['reply ndp 2001:db8:100::10']).toBe(before['reply ndp 2001:db8:100::10']);
    run('ip', '-n', CLIENT_NS, 'neigh', 'flush', 'dev', CLIENT_IF);
    poke('203.0.113.10');
    expect((await waitForNeighbour('203.0.113.10', resolvedTo(nodeMac), 2000))?.lladdr).toBe(nodeMac);
  });

  it.each([['203.0.113.20'], ['2001:db8:100::20']])(
    'moves an existing client entry for %s to the node MAC with the takeover announcement',
    async (vip) => {
      const oldOwner = '02:00:5e:00:99:99';
      run('ip', '-n', CLIENT_NS, 'neigh', 'replace', vip, 'dev', CLIENT_IF, 'lladdr', oldOwner, 'nud', 'stale');
      expect(neighbour(vip)?.lladdr).toBe(oldOwner);
      const started = performance.now();
      await responder.command({ op: 'own', table: [['203.0.113.10', 'all'], ['2001:db8:100::10', 'all'], [vip, 'all']] });
      // The update comes from the announcement alone: the client sends nothing.
      const entry = await waitForNeighbour(vip, (n) => n?.lladdr === nodeMac, 1000);
      expect(entry?.lladdr).toBe(nodeMac);
      expect(performance.now() - started).toBeLessThan(1000);
      const family = vip.includes(':') ? 'ndp' : 'arp';
      expect((await responder.counts())[`gratuitous ${family} ${vip}`]).toBeGreaterThanOrEqual(1);
    },
  );

  it('answers ~5 000 ARP requests/s (latency figures printed for docs/benchmarks.md)', async () => {
    const out = run('ip', 'netns', 'exec', CLIENT_NS, process.execPath, here('./lab/client-tool.ts'), 'arp-latency', CLIENT_IF, '203.0.113.10', '5000', '2');
    const result = JSON.parse(out) as { sent: number; answered: number };
    const stats = await responder.command({ op: 'stats' });
    console.log(`ARP at 5000/s for 2 s: ${out.trim()}; responder RSS ${Math.round((stats.rss as number) / 2 ** 20)} MiB`);
    expect(result.sent).toBe(10_000);
    // A shared 2-core machine may drop a few under load; nearly all must be answered.
    expect(result.answered / result.sent).toBeGreaterThan(0.99);
    expect(responder.events).toEqual([]);
  });
});
