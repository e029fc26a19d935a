// The wire worker: everything this speaker puts on or takes off the LAN, in a
// thread of its own — ARP/NDP answers, takeover announcements and duplicate
// probes (the L2 announcer), its own heartbeats and its peers', and who is
// alive (Membership).
//
// Why a thread: the main thread watches the API and elects, and it can stall
// for hundreds of milliseconds (an informer relisting thousands of objects, a
// major GC of a large heap, a busy 2-core node). A peer is dropped 250–350 ms
// after its last beat, and ARP replies should take well under a millisecond.
// Here, beats keep flowing through such stalls, received beats are judged
// when they arrive, answers come from a small heap whose collections are
// short — and the fence holds without the main thread: when fewer than a
// majority vouch for this speaker, it stops answering its agreed IPs before
// any peer can take them over (membership.ts says why that order holds).
//
// Heartbeats go out two ways on every announce interface, and either counts:
// as raw Ethernet frames (EtherType 0x88B5, broadcast), and as UDP datagrams
// to each peer's addresses (passing networks that drop unknown EtherTypes but
// let IP through: port security, hypervisor firewalls). A datagram counts only
// if it arrived on an announce interface: liveness is proven where ARP is
// answered.
//
// Loaded by wire.ts as a worker; importing it elsewhere runs nothing.
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { parseIP, type IPAddress } from '../../shared/net/index.ts';
import {
  BROADCAST_MAC,
  ETHERNET_HEADER_LENGTH,
  formatMac,
  L2Announcer,
  openDatagramSocket,
  openPacketSocket,
  PacketType,
  payloadPrefixFilter,
  writeEthernetHeader,
  type DatagramSocket,
  type L2Counters,
  type L2Protocol,
  type PacketSocket,
} from '../l2/index.ts';
import {
  BeatSource,
  decodeHeartbeat,
  encodeHeartbeat,
  HEARTBEAT_ETHERTYPE,
  HEARTBEAT_VERSION,
  Membership,
  parseHeartbeatKey,
  peerCapacity,
  type Heartbeat,
  type HeartbeatKey,
  type PeerState,
} from '../liveness/index.ts';
import { fromEntries, monotonicMs, type FenceRule, type FromWorker, type HeartbeatStats, type L2Count, type LivenessSnapshot, type ToWorker, type WireWorkerData } from './wire-protocol.ts';

/** The module to start as the worker (its .ts or built .js, whichever is running). */
export const WIRE_WORKER_URL = import.meta.url;

/** Extra beats in answer to a peer's change go out at most this often. */
const QUICK_BEAT_MS = 20;
/** A beat socket that failed is reopened at most this often. */
const REOPEN_AFTER_MS = 1_000;
const STATS_EVERY_MS = 1_000;
/** Enough queue for a second of beats from a few hundred peers on both paths, or a flood's worth while the loop is busy. */
const BEAT_RECEIVE_BUFFER = 1 << 20;
/**
 * Beats verified per source (a MAC on the raw path, an address on UDP) per
 * window: a peer sends one per interval per path, a few more when its view
 * changes. A flood from one source costs a counter per frame beyond this, not
 * an HMAC, so it cannot starve the beats of real peers on the same socket.
 */
const PER_SOURCE_PER_WINDOW = 30;
const SOURCE_WINDOW_MS = 100;
/** What every heartbeat starts with: the BPF filter and the UDP socket drop anything else before it reaches JavaScript. */
const BEAT_PREFIX = Uint8Array.of(0x42, 0x4c, 0x48, 0x42, HEARTBEAT_VERSION);

interface BeatLink {
  readonly name: string;
  socket: PacketSocket | null;
  failedAt: number;
  carrier: boolean | undefined;
}

class WireWorker {
  readonly #data: WireWorkerData;
  readonly #port: MessagePort;
  readonly #incarnation = randomBytes(8).toString('hex');
  readonly #source: BeatSource;
  readonly #membership: Membership;
  readonly #links = new Map<string, BeatLink>();
  readonly #announcer: L2Announcer;
  /** MAC → the speaker it belongs to, learned from beats (kept for the worker's life: conflicts with a speaker heard once are still speakers). */
  readonly #macs = new Map<string, string>();
  #udp: DatagramSocket | null = null;
  #udpFailedAt = -Infinity;
  #targets: Array<{ name: string; addresses: IPAddress[] }> = [];
  /** Every node there is; undefined until the main thread knows (then nothing is dropped for its name). */
  #nodes: ReadonlySet<string> | undefined;
  #keys: HeartbeatKey[] = [];
  #view: ReadonlySet<string> = new Set();
  #fence: FenceRule | undefined;
  #fenced = false;
  #mode: 'agreed' | 'detached' | 'waiting' = 'waiting';
  #awaitingAcksSince: number | null = null;
  #lastQuickBeat = -Infinity;
  #quickBeatTimer: NodeJS.Timeout | undefined;
  #leaving = false;
  #stopped = false;
  #muted = false;
  /** Raised on every mute and whenever the fence goes up: ownership computed before the main thread heard of it is stale. */
  #epoch = 0;
  /** The fence dropped our agreed IPs: we beat JOINING until a table of the new epoch comes. */
  #awaitingTable = false;
  /** Unset until the main thread's first message: started early (wire-spawn.ts), this worker may wait for it while it loads. */
  #lastTick: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #snapshotQueued = false;
  #lastSnapshot = '';
  #stats = { sent: 0, received: 0, rejected: {} as Record<string, number> };
  /** Kernel drop totals as last reported (sockets count since they opened; the main thread gets the increase). */
  #reportedDrops = { raw: 0, udp: 0 };
  /** Beats verified per source in the current window. */
  #perSource = new Map<string, number>();
  #sourceWindow = 0;
  readonly #l2Counts = new Map<string, number>();
  #lastStats = monotonicMs();

  constructor(data: WireWorkerData, port: MessagePort) {
    this.#data = data;
    this.#port = port;
    const now = monotonicMs();
    this.#source = new BeatSource({ node: data.node, incarnation: this.#incarnation, firstSequence: randomInt(0, 2 ** 32 - 1), intervalMs: data.intervalMs });
    this.#membership = new Membership({ self: data.node, incarnation: this.#incarnation, startedAt: now, intervalMs: data.intervalMs });
    const count =
      (kind: keyof L2Counters) =>
      (protocol: L2Protocol, label: string): void => {
        const key = `${kind}\t${protocol}\t${label}`;
        this.#l2Counts.set(key, (this.#l2Counts.get(key) ?? 0) + 1);
      };
    this.#announcer = new L2Announcer({
      counters: {
        requestReceived: count('requestReceived'),
        replySent: count('replySent'),
        gratuitousSent: count('gratuitousSent'),
        garbled: count('garbled'),
        sendFailed: count('sendFailed'),
        foreignAnnouncement: count('foreignAnnouncement'),
      },
      onEvent: (event) => this.#post({ type: 'l2-event', event }),
      peerOfMac: (mac) => this.#macs.get(mac),
      // The fence's validity is on this clock.
      now: monotonicMs,
      // Past the verdict's validity (a late timer, a process that was frozen): beats that did arrive
      // count first, then the main thread's watchdog and the fence are judged at this instant.
      onFenceDue: () => {
        this.#drainAll();
        const now = monotonicMs();
        this.#watchMainThread(now);
        this.#evaluateFence(now);
      },
    });
  }

  start(): void {
    this.#port.on('message', (message: ToWorker) => this.#onMessage(message));
    this.#round(monotonicMs());
    this.#queueSnapshot();
  }

  #post(message: FromWorker): void {
    this.#port.postMessage(message);
  }

  #onMessage(message: ToWorker): void {
    this.#lastTick ??= monotonicMs();
    switch (message.type) {
      case 'keys': {
        const keys: HeartbeatKey[] = [];
        for (const bytes of message.keys) {
          const key = parseHeartbeatKey(bytes);
          if (key.ok) keys.push(key.value);
        }
        this.#keys = keys;
        return;
      }
      case 'interfaces': {
        this.#setBeatLinks(message.beat);
        const failures = this.#announcer.setInterfaces(message.answer);
        if (failures.length > 0) this.#post({ type: 'open-failures', failures });
        return;
      }
      case 'peers':
        this.#nodes = message.nodes.length > 0 ? new Set(message.nodes) : undefined;
        this.#targets = message.targets.map((t) => ({ name: t.name, addresses: t.addresses.flatMap((a) => { const ip = parseIP(a); return ip.ok ? [ip.value] : []; }) }));
        return;
      case 'ownership': {
        // Queued before a freeze, this may come from a main thread that has been silent past the limit: mute first.
        this.#watchMainThread(monotonicMs());
        if (message.epoch !== this.#epoch || this.#muted) return;
        const changedView = message.view.length !== this.#view.size || message.view.some((n) => !this.#view.has(n));
        this.#view = new Set(message.view);
        this.#fence = message.fence;
        const changedState = message.mode !== this.#mode;
        this.#mode = message.mode;
        this.#awaitingAcksSince = message.awaitingAcksSince;
        // The verdict under the new rule first: the new table's takeover announcements go out on it.
        this.#evaluateFence(monotonicMs());
        // The fence went up just now: this table was elected before, and a new one will follow.
        if (message.epoch !== this.#epoch) return;
        this.#awaitingTable = false;
        this.#announcer.setOwnership(fromEntries(message.entries));
        // Peers agree with the view our ownership is elected over: tell them at once.
        if ((changedView || changedState) && !this.#leaving) this.#beat();
        return;
      }
      case 'tick':
        this.#lastTick = monotonicMs();
        if (this.#muted) {
          this.#muted = false;
          // What we heard before the stall says nothing now: listen a full window before claiming again.
          this.#membership.relisten(monotonicMs());
          this.#post({ type: 'unmuted' });
          this.#queueSnapshot();
        }
        return;
      case 'sync': {
        this.#drainAll();
        this.#flushStats();
        this.#postSnapshot(true);
        this.#post({ type: 'synced', id: message.id });
        return;
      }
      case 'leave':
        void this.#leave(message.repeats, message.spacingMs);
        return;
      case 'stop':
        this.#stop();
        return;
    }
  }

  #setBeatLinks(names: readonly string[]): void {
    const wanted = new Set(names);
    for (const [name, link] of this.#links) {
      if (wanted.has(name)) continue;
      link.socket?.close();
      this.#links.delete(name);
    }
    for (const name of names) if (!this.#links.has(name)) this.#links.set(name, { name, socket: null, failedAt: -Infinity, carrier: undefined });
    this.#openMissing(monotonicMs());
  }

  #openMissing(now: number): void {
    for (const link of this.#links.values()) {
      if (link.socket !== null || now - link.failedAt < REOPEN_AFTER_MS) continue;
      const opened = openPacketSocket({
        interfaceName: link.name,
        etherType: HEARTBEAT_ETHERTYPE,
        filter: payloadPrefixFilter(HEARTBEAT_ETHERTYPE, BEAT_PREFIX),
        receiveBufferBytes: BEAT_RECEIVE_BUFFER,
        onFrame: (frame, packetType) => {
          if (packetType === PacketType.outgoing || !this.#admit(frame.subarray(6, 12))) return;
          this.#onBeat(frame.subarray(ETHERNET_HEADER_LENGTH));
        },
        onError: (error) => {
          this.#post({ type: 'beat-socket-error', interfaceName: link.name, code: error.code, message: error.message, fatal: error.fatal });
          if (error.fatal) this.#drop(link, monotonicMs());
        },
      });
      if (opened.ok) link.socket = opened.value;
      else {
        link.failedAt = now;
        this.#post({ type: 'beat-socket-error', interfaceName: link.name, code: opened.error.code, message: opened.error.message, fatal: true });
      }
    }
    if (this.#udp === null && now - this.#udpFailedAt >= REOPEN_AFTER_MS) {
      const opened = openDatagramSocket({
        port: this.#data.port,
        prefix: BEAT_PREFIX,
        receiveBufferBytes: BEAT_RECEIVE_BUFFER,
        onDatagram: (data, ifindex, from) => {
          // Liveness is proven on the announce interfaces: a datagram that came in elsewhere does not count.
          if (![...this.#links.values()].some((l) => l.socket?.ifindex === ifindex)) return this.#reject('wrong-interface');
          if (this.#admit(from)) this.#onBeat(data);
        },
        onError: (error) => {
          this.#post({ type: 'beat-socket-error', interfaceName: `udp/${this.#data.port}`, code: error.code, message: error.message, fatal: error.fatal });
          if (error.fatal) {
            this.#udp?.close();
            this.#udp = null;
            this.#udpFailedAt = monotonicMs();
          }
        },
      });
      if (opened.ok) this.#udp = opened.value;
      else {
        this.#udpFailedAt = now;
        this.#post({ type: 'beat-socket-error', interfaceName: `udp/${this.#data.port}`, code: opened.error.code, message: opened.error.message, fatal: true });
      }
    }
  }

  #drop(link: BeatLink, now: number): void {
    link.socket?.close();
    link.socket = null;
    link.failedAt = now;
  }

  /** Whether a beat from this source may be verified now (see PER_SOURCE_PER_WINDOW). */
  #admit(source: Uint8Array): boolean {
    const window = Math.floor(monotonicMs() / SOURCE_WINDOW_MS);
    if (window !== this.#sourceWindow) {
      this.#sourceWindow = window;
      this.#perSource.clear();
    }
    const key = Buffer.from(source).toString('hex');
    const n = (this.#perSource.get(key) ?? 0) + 1;
    this.#perSource.set(key, n);
    if (n <= PER_SOURCE_PER_WINDOW) return true;
    this.#reject('rate-limited');
    return false;
  }

  #onBeat(payload: Uint8Array): void {
    const now = monotonicMs();
    if (this.#muted) return;
    const decoded = decodeHeartbeat(payload, this.#keys);
    if (!decoded.ok) return this.#reject(decoded.error);
    const beat = decoded.value;
    if (this.#nodes !== undefined && !this.#nodes.has(beat.node)) return this.#reject('unknown-node');
    const outcome = this.#membership.receive(beat, now);
    if (outcome.accepted === false) return this.#reject(outcome.reason);
    this.#stats.received++;
    if (outcome.accepted === 'fresh') for (const mac of beat.macs) this.#macs.set(mac, beat.node);
    else this.#reject('not-fresh');
    if (outcome.changed) {
      this.#evaluateFence(now);
      this.#queueSnapshot();
      // A peer's view or state changed: answer at once, so it hears our acknowledgement
      // (and our view) within a round trip rather than at our next beat.
      this.#quickBeat();
    } else if (this.#awaitingAcksSince !== null && outcome.accepted === 'fresh') {
      this.#queueSnapshot();
    }
  }

  /** An extra beat soon, at most one per QUICK_BEAT_MS: acknowledgements travel fast without a storm. */
  #quickBeat(): void {
    if (this.#quickBeatTimer !== undefined || this.#leaving || this.#muted) return;
    const wait = Math.max(0, this.#lastQuickBeat + QUICK_BEAT_MS - monotonicMs());
    this.#quickBeatTimer = setTimeout(() => {
      this.#quickBeatTimer = undefined;
      this.#lastQuickBeat = monotonicMs();
      if (!this.#leaving && !this.#muted && !this.#stopped) this.#beat();
    }, wait);
  }

  #reject(reason: string): void {
    this.#stats.rejected[reason] = (this.#stats.rejected[reason] ?? 0) + 1;
  }

  /**
   * The fence: agreed IPs are answered only while a majority of the cluster
   * vouches for us (or, in an even split, our half holds the tie-break Lease).
   */
  #evaluateFence(now: number): void {
    const rule = this.#fence;
    if (rule === undefined) return;
    const supporters = this.#membership.supporters(now);
    const vouched = supporters.size + 1;
    let lease = rule.leaseUntil !== null && rule.leaseUntil > now;
    if (!lease) for (const name of supporters) if ((this.#membership.peer(name)?.leaseUntil ?? -Infinity) > now) lease = true;
    const ok = vouched >= rule.majority || (rule.tieAt !== null && vouched === rule.tieAt && lease);
    const fenced = !ok || this.#membership.listening(now);
    // The verdict stands until anything it rests on can change without a beat: a peer's support or
    // hearing lapsing, a Lease running out (ours, or a supporter's, which nextDeadline covers).
    let validUntil = this.#membership.nextDeadline(now) ?? Infinity;
    if (rule.leaseUntil !== null && rule.leaseUntil > now) validUntil = Math.min(validUntil, rule.leaseUntil);
    this.#announcer.setFenced(fenced, validUntil);
    if (fenced === this.#fenced) return;
    this.#fenced = fenced;
    if (fenced) {
      // Support lapsed, so peers may be failing our agreed IPs over. When it returns, the table we hold
      // was elected over views that may be gone: keep only probe-first IPs until the main thread elects
      // again (a new epoch, so a table it sent before hearing of this is not applied).
      this.#epoch++;
      const held = this.#announcer.claims;
      const kept = new Map([...held].filter(([, entry]) => entry.mode === 'probe-first'));
      if (kept.size !== held.size) this.#announcer.setOwnership(kept);
      // The view our beats carry was elected with that table: while it stands, a peer's agreement
      // would hand us groups only our main thread can claim (it may be stalled). JOINING leaves us
      // out of it until the main thread, having heard of this, sends the next table.
      this.#awaitingTable = true;
      if (!this.#muted && !this.#leaving && !this.#stopped) this.#sendBeat(this.#state(now));
      // The main thread elects again on this: with the liveness the verdict came from, not an older one.
      this.#postSnapshot(true);
    }
    this.#post({ type: 'fence', fenced, vouched, epoch: this.#epoch });
  }

  /** Posts a snapshot soon (once per turn of the loop, however many beats changed something). */
  #queueSnapshot(): void {
    if (this.#snapshotQueued) return;
    this.#snapshotQueued = true;
    setImmediate(() => {
      this.#snapshotQueued = false;
      this.#postSnapshot(false);
    });
  }

  #postSnapshot(always: boolean): void {
    const now = monotonicMs();
    const m = this.#membership;
    const names = [...m.heard(now)].sort();
    const snapshot: LivenessSnapshot = {
      at: now,
      incarnation: this.#incarnation,
      listening: m.listening(now),
      listeningUntil: m.listeningUntil,
      heard: names,
      mutual: [...m.mutual(now)].sort(),
      members: [...m.members(now)].sort(),
      supporters: [...m.supporters(now)].sort(),
      peers: names.flatMap((name) => {
        const p = m.peer(name);
        return p
          ? [{ name, state: p.state, view: [...p.view].sort(), truncated: p.truncated, leaseUntil: p.leaseUntil, macs: p.macs, firstHeard: m.firstHeard(name) ?? now, latestView: [...p.latestView].sort(), latestState: p.latestState, ackedAt: p.ackedAt }]
          : [];
      }),
      nextDeadline: m.nextDeadline(now),
    };
    this.#armDeadline(snapshot.nextDeadline, now);
    // Only what changed goes to the main thread (times aside, but for whether a peer has
    // acknowledged a beat since the main thread started waiting for it).
    const since = this.#awaitingAcksSince;
    const key = JSON.stringify({
      ...snapshot,
      at: 0,
      nextDeadline: 0,
      // A new wait starts a new question: the same answer to it is news.
      awaiting: since,
      peers: snapshot.peers.map((p) => ({ ...p, leaseUntil: p.leaseUntil !== undefined, ackedAt: since !== null && p.ackedAt >= since })),
    });
    if (!always && key === this.#lastSnapshot) return;
    this.#lastSnapshot = key;
    this.#post({ type: 'liveness', snapshot });
  }

  #armDeadline(next: number | undefined, now: number): void {
    clearTimeout(this.#deadlineTimer);
    if (next === undefined || this.#stopped) return;
    // +1: deadlines are strict, and timers round down.
    this.#deadlineTimer = setTimeout(() => {
      // After a stall this timer runs before the sockets are polled: read them dry first,
      // or beats that did arrive would be judged missing.
      this.#drainAll();
      const at = monotonicMs();
      this.#evaluateFence(at);
      this.#postSnapshot(false);
    }, Math.max(0, next - now) + 1);
  }

  #drainAll(): void {
    for (const link of this.#links.values()) link.socket?.drain();
    this.#udp?.drain();
  }

  /** One beat period: watch the main thread and the links, beat, and schedule the next period on a fixed grid. */
  #round(scheduledAt: number): void {
    if (this.#stopped) return;
    const now = monotonicMs();
    this.#watchMainThread(now);
    this.#watchCarrier(now);
    this.#openMissing(now);
    if (!this.#muted && !this.#leaving) this.#beat();
    if (now - this.#lastStats >= STATS_EVERY_MS) this.#flushStats();
    // A late round does not shift the grid (no drift), and a round missed entirely is skipped, not sent twice.
    let next = scheduledAt + this.#data.intervalMs;
    if (next <= now) next = now + this.#data.intervalMs - ((now - scheduledAt) % this.#data.intervalMs);
    this.#timer = setTimeout(() => this.#round(next), next - now);
  }

  /**
   * A main thread silent past the limit is wedged: stop beating so peers take
   * over, and stop answering so they are the only ones that do.
   */
  #watchMainThread(now: number): void {
    if (this.#lastTick === undefined) return;
    const silent = now - this.#lastTick;
    if (this.#muted || silent <= this.#data.mainStallLimitMs) return;
    this.#muted = true;
    this.#epoch++;
    this.#announcer.setOwnership(new Map());
    this.#post({ type: 'muted', silentMs: Math.round(silent), epoch: this.#epoch });
  }

  /** Carrier is polled here, every beat; back from isolation (every link down), we listen a full window before claiming again. */
  #watchCarrier(now: number): void {
    const wasIsolated = this.#links.size > 0 && [...this.#links.values()].every((l) => l.carrier === false);
    for (const link of this.#links.values()) {
      let carrier: boolean | undefined;
      try {
        carrier = readFileSync(join(this.#data.sysfsRoot, link.name, 'carrier'), 'utf8').trim() === '1';
      } catch (e) {
        carrier = (e as NodeJS.ErrnoException).code === 'EINVAL' ? false : undefined;
      }
      if (carrier === link.carrier) continue;
      link.carrier = carrier;
      if (carrier !== undefined) this.#post({ type: 'carrier', interfaceName: link.name, carrier });
      if (carrier === true && wasIsolated) {
        this.#membership.relisten(now);
        this.#evaluateFence(now);
        this.#queueSnapshot();
      }
    }
  }

  #state(now: number): PeerState {
    if (this.#leaving) return 'leaving';
    // A speaker that cannot claim at all (no key, no API view) says so: peers must not count on it.
    if (this.#membership.listening(now) || this.#mode === 'waiting' || this.#awaitingTable) return 'joining';
    return this.#mode === 'detached' ? 'detached' : 'active';
  }

  #beat(): void {
    // Carrier first: a link back from isolation must relisten before any beat (an extra one
    // between rounds included) could say we are active.
    this.#watchCarrier(monotonicMs());
    // And the fence, if its verdict is past due (after a freeze this timer can run before any socket
    // is read): the beat then says JOINING, not ACTIVE with the view of a table the fence drops. Peers
    // would not count that beat fresh (it acknowledges nothing recent of theirs), but it would tell
    // them a state we no longer act on.
    this.#announcer.currentFence();
    this.#sendBeat(this.#state(monotonicMs()));
  }

  /** LEAVING beats, a few in a row: one lost frame must not cost peers a full window. */
  async #leave(repeats: number, spacingMs: number): Promise<void> {
    this.#leaving = true;
    for (let i = 0; i < repeats; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, spacingMs));
      this.#sendBeat('leaving');
    }
    this.#flushStats();
    this.#post({ type: 'left' });
  }

  /** One beat (one sequence number) on every link with carrier, and to every peer over UDP; a peer hearing it twice drops the copy. */
  #sendBeat(state: PeerState): void {
    const key = this.#keys[0];
    if (key === undefined) return;
    const now = monotonicMs();
    const macs = [...this.#links.values()].flatMap((l) => (l.socket ? [formatMac(l.socket.mac)] : [])).slice(0, 8);
    let peers = this.#membership.peerEntries(now, this.#view);
    const capacity = peerCapacity(this.#data.node.length, macs.length);
    const truncated = peers.length > capacity;
    if (truncated) peers = peers.slice(0, capacity);
    const leaseUntil = this.#fence?.leaseUntil ?? null;
    const leaseMs = leaseUntil !== null && leaseUntil > now ? Math.min(0xffff, Math.floor(leaseUntil - now)) : 0;
    const beat: Heartbeat = this.#source.next({ state, leaseMs, macs, peers, truncated });
    const payload = encodeHeartbeat(beat, key);
    this.#membership.sent(beat.sequence, now);
    for (const link of this.#links.values()) {
      const socket = link.socket;
      if (socket === null || link.carrier === false) continue;
      const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + payload.length);
      writeEthernetHeader(frame, { destination: BROADCAST_MAC, source: socket.mac, etherType: HEARTBEAT_ETHERTYPE });
      frame.set(payload, ETHERNET_HEADER_LENGTH);
      if (socket.send(frame).ok) this.#stats.sent++;
    }
    // Over UDP too, but only while an announce interface has carrier: a beat routed out another way proves nothing.
    const linked = [...this.#links.values()].some((l) => l.socket !== null && l.carrier !== false);
    if (this.#udp !== null && linked) {
      for (const target of this.#targets) for (const address of target.addresses) if (this.#udp.sendTo(payload, address, this.#data.port).ok) this.#stats.sent++;
    }
  }

  #flushStats(): void {
    this.#lastStats = monotonicMs();
    const l2: L2Count[] = [];
    for (const [key, n] of this.#l2Counts) {
      const [kind, protocol, label] = key.split('\t') as [keyof L2Counters, L2Protocol, string];
      l2.push([kind, protocol, label, n]);
    }
    let raw = 0;
    for (const link of this.#links.values()) raw += link.socket?.stats().dropped ?? 0;
    const udp = this.#udp?.stats().dropped ?? 0;
    // A reopened socket starts from zero again: never report a decrease.
    const kernelDrops = { raw: Math.max(0, raw - this.#reportedDrops.raw), udp: Math.max(0, udp - this.#reportedDrops.udp) };
    this.#reportedDrops = { raw, udp };
    const heartbeats: HeartbeatStats = { ...this.#stats, kernelDrops };
    this.#post({ type: 'stats', heartbeats, l2 });
    this.#stats = { sent: 0, received: 0, rejected: {} };
    this.#l2Counts.clear();
  }

  #stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#deadlineTimer);
    clearTimeout(this.#quickBeatTimer);
    this.#flushStats();
    this.#announcer.close();
    for (const link of this.#links.values()) link.socket?.close();
    this.#links.clear();
    this.#udp?.close();
    this.#udp = null;
    this.#port.close();
  }
}

if (!isMainThread && parentPort !== null && (workerData as Partial<WireWorkerData> | undefined)?.role === 'ballast-wire') {
  new WireWorker(workerData as WireWorkerData, parentPort).start();
}
