// The wire worker: everything this speaker puts on or takes off the LAN, in a
// thread of its own — ARP/NDP answers and takeover announcements (the L2
// announcer), its own heartbeats and its peers'.
//
// Why a thread: the main thread watches the API and elects, and it can stall
// for hundreds of milliseconds (an informer relisting thousands of objects, a
// major GC of a large heap, a busy 2-core node). A peer is declared dead
// 250–350 ms after its last beat, and ARP replies should take well under a
// millisecond. Here, beats keep flowing through such stalls (no false
// failover), received beats are stamped when they arrive (liveness is judged
// by arrival, not by when the main thread got round to them), and answers come
// from a small heap whose collections are short. The main thread decides; this
// thread only executes: who is alive (Membership) and what to answer for
// (the ownership table) are decided there.
//
// Loaded by wire.ts as a worker; importing it elsewhere runs nothing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import {
  BROADCAST_MAC,
  ETHERNET_HEADER_LENGTH,
  L2Announcer,
  openPacketSocket,
  PacketType,
  writeEthernetHeader,
  type L2Counters,
  type L2Protocol,
  type PacketSocket,
} from '../l2/index.ts';
import { BeatSource, decodeHeartbeat, encodeHeartbeat, HEARTBEAT_ETHERTYPE, parseHeartbeatKey, type HeartbeatKey, type HeartbeatRejection } from '../liveness/index.ts';
import { fromEntries, monotonicMs, type FromWorker, type L2Count, type ToWorker, type WireWorkerData } from './wire-protocol.ts';

/** The module to start as the worker (its .ts or built .js, whichever is running). */
export const WIRE_WORKER_URL = import.meta.url;

/** A beat socket that failed is reopened at most this often. */
const REOPEN_AFTER_MS = 1_000;
const STATS_EVERY_MS = 1_000;

interface BeatLink {
  readonly name: string;
  socket: PacketSocket | null;
  failedAt: number;
  carrier: boolean | undefined;
}

class WireWorker {
  readonly #data: WireWorkerData;
  readonly #port: MessagePort;
  readonly #source: BeatSource;
  readonly #links = new Map<string, BeatLink>();
  readonly #announcer: L2Announcer;
  #keys: HeartbeatKey[] = [];
  #joining = true;
  /** Back from isolation: JOINING until then (monotonic ms). */
  #rejoiningUntil = 0;
  #leaving = false;
  #stopped = false;
  #muted = false;
  /** Raised on every mute: ownership computed before the main thread heard of it is stale. */
  #epoch = 0;
  #lastTick = monotonicMs();
  #timer: NodeJS.Timeout | undefined;
  #sent = 0;
  #rejected: Partial<Record<HeartbeatRejection, number>> = {};
  readonly #l2Counts = new Map<string, number>();
  #lastStats = monotonicMs();

  constructor(data: WireWorkerData, port: MessagePort) {
    this.#data = data;
    this.#port = port;
    this.#source = new BeatSource({ node: data.node, bootId: data.bootId, intervalMs: data.intervalMs });
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
    });
  }

  start(): void {
    this.#port.on('message', (message: ToWorker) => this.#onMessage(message));
    this.#round(monotonicMs());
  }

  #post(message: FromWorker): void {
    this.#port.postMessage(message);
  }

  #onMessage(message: ToWorker): void {
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
      case 'ownership':
        if (message.epoch === this.#epoch) this.#announcer.setOwnership(fromEntries(message.entries));
        return;
      case 'joining': {
        const was = this.#joining;
        this.#joining = message.joining;
        // Listening is over: say so at once, not up to a beat later, so peers release
        // what moves to us before we announce it.
        if (was && !message.joining && !this.#muted && !this.#leaving) this.#beat();
        return;
      }
      case 'tick':
        this.#lastTick = monotonicMs();
        if (this.#muted) {
          this.#muted = false;
          this.#post({ type: 'unmuted' });
        }
        return;
      case 'sync':
        for (const link of this.#links.values()) link.socket?.drain();
        this.#flushStats();
        this.#post({ type: 'synced', id: message.id });
        return;
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
        onFrame: (frame, packetType) => this.#onBeatFrame(link, frame, packetType),
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
  }

  #drop(link: BeatLink, now: number): void {
    link.socket?.close();
    link.socket = null;
    link.failedAt = now;
  }

  #onBeatFrame(link: BeatLink, frame: Uint8Array, packetType: number): void {
    const heardAt = monotonicMs();
    if (packetType === PacketType.outgoing) return;
    const decoded = decodeHeartbeat(frame.subarray(ETHERNET_HEADER_LENGTH), this.#keys);
    if (!decoded.ok) {
      this.#rejected[decoded.error] = (this.#rejected[decoded.error] ?? 0) + 1;
      return;
    }
    this.#post({ type: 'beat', beat: decoded.value, heardAt, interfaceName: link.name });
  }

  /** One beat period: watch the main thread and the links, beat, and schedule the next period on a fixed grid. */
  #round(scheduledAt: number): void {
    if (this.#stopped) return;
    const now = monotonicMs();
    this.#watchMainThread(now);
    this.#watchCarrier();
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
    const silent = now - this.#lastTick;
    if (this.#muted || silent <= this.#data.mainStallLimitMs) return;
    this.#muted = true;
    this.#epoch++;
    this.#announcer.setOwnership(new Map());
    this.#post({ type: 'muted', silentMs: Math.round(silent), epoch: this.#epoch });
  }

  /** Carrier is polled here, every beat, so the main thread hears of a pulled cable within one period. */
  #watchCarrier(): void {
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
      if (carrier === true && wasIsolated) this.#rejoiningUntil = monotonicMs() + this.#data.rejoinHoldMs;
    }
  }

  #beat(): void {
    this.#sendBeat({ joining: this.#joining || monotonicMs() < this.#rejoiningUntil, leaving: false });
  }

  /** LEAVING beats, a few in a row: one lost frame must not cost peers a full dead-after window. */
  async #leave(repeats: number, spacingMs: number): Promise<void> {
    this.#leaving = true;
    for (let i = 0; i < repeats; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, spacingMs));
      this.#sendBeat({ leaving: true });
    }
    this.#flushStats();
    this.#post({ type: 'left' });
  }

  /** One beat (one sequence number) on every link with carrier; a peer hearing it twice drops the copy. */
  #sendBeat(state: { joining?: boolean; leaving?: boolean }): void {
    const key = this.#keys[0];
    if (key === undefined) return;
    const payload = encodeHeartbeat(this.#source.next(Date.now(), state), key);
    for (const link of this.#links.values()) {
      const socket = link.socket;
      if (socket === null || link.carrier === false) continue;
      const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + payload.length);
      writeEthernetHeader(frame, { destination: BROADCAST_MAC, source: socket.mac, etherType: HEARTBEAT_ETHERTYPE });
      frame.set(payload, ETHERNET_HEADER_LENGTH);
      if (socket.send(frame).ok) this.#sent++;
    }
  }

  #flushStats(): void {
    this.#lastStats = monotonicMs();
    if (this.#sent === 0 && Object.keys(this.#rejected).length === 0 && this.#l2Counts.size === 0) return;
    const l2: L2Count[] = [];
    for (const [key, n] of this.#l2Counts) {
      const [kind, protocol, label] = key.split('\t') as [keyof L2Counters, L2Protocol, string];
      l2.push([kind, protocol, label, n]);
    }
    this.#post({ type: 'stats', sent: this.#sent, rejected: this.#rejected, l2 });
    this.#sent = 0;
    this.#rejected = {};
    this.#l2Counts.clear();
  }

  #stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#flushStats();
    this.#announcer.close();
    for (const link of this.#links.values()) link.socket?.close();
    this.#links.clear();
    this.#port.close();
  }
}

if (!isMainThread && parentPort !== null && (workerData as Partial<WireWorkerData> | undefined)?.role === 'ballast-wire') {
  new WireWorker(workerData as WireWorkerData, parentPort).start();
}
