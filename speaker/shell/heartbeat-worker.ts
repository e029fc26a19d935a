// The heartbeat worker: sends this speaker's beats and receives its peers' on
// every announce interface, in a thread of its own. Why a thread: a peer is
// declared dead 250–350 ms after its last beat, and the main thread can stall
// that long (an informer relisting thousands of objects, a major GC, a busy
// 2-core node). Beats sent from here keep flowing through such stalls, so peers
// see no false failover; beats received here are stamped when they arrive, so
// the main thread judges liveness by arrival, not by when it got round to
// reading them. The main thread still decides who is alive (Membership).
//
// Loaded by heartbeat-link.ts as a worker; importing it elsewhere runs nothing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { BROADCAST_MAC, ETHERNET_HEADER_LENGTH, openPacketSocket, PacketType, writeEthernetHeader, type PacketSocket } from '../l2/index.ts';
import { BeatSource, decodeHeartbeat, encodeHeartbeat, HEARTBEAT_ETHERTYPE, parseHeartbeatKey, type HeartbeatKey, type HeartbeatRejection } from '../liveness/index.ts';
import { monotonicMs, type FromWorker, type HeartbeatWorkerData, type ToWorker } from './heartbeat-protocol.ts';

/** The module to start as the worker (its .ts or built .js, whichever is running). */
export const HEARTBEAT_WORKER_URL = import.meta.url;

/** A socket that failed is reopened at most this often. */
const REOPEN_AFTER_MS = 1_000;
const STATS_EVERY_MS = 1_000;

interface Link {
  readonly name: string;
  socket: PacketSocket | null;
  failedAt: number;
  carrier: boolean | undefined;
}

class BeatWorker {
  readonly #data: HeartbeatWorkerData;
  readonly #port: MessagePort;
  readonly #source: BeatSource;
  readonly #links = new Map<string, Link>();
  #keys: HeartbeatKey[] = [];
  #joining = true;
  /** Back from isolation: JOINING until then (monotonic ms). */
  #rejoiningUntil = 0;
  #leaving = false;
  #stopped = false;
  #muted = false;
  #lastTick = monotonicMs();
  #timer: NodeJS.Timeout | undefined;
  #sent = 0;
  #rejected: Partial<Record<HeartbeatRejection, number>> = {};
  #lastStats = monotonicMs();

  constructor(data: HeartbeatWorkerData, port: MessagePort) {
    this.#data = data;
    this.#port = port;
    this.#source = new BeatSource({ node: data.node, bootId: data.bootId, intervalMs: data.intervalMs });
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
      case 'interfaces':
        this.#setInterfaces(message.names);
        return;
      case 'joining': {
        const was = this.#joining;
        this.#joining = message.joining;
        // Listening is over: say so at once, not up to a beat later, so peers hand our IPs
        // back while we take them, instead of both answering until our next beat.
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

  #setInterfaces(names: readonly string[]): void {
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
        onFrame: (frame, packetType) => this.#onFrame(link, frame, packetType),
        onError: (error) => {
          this.#post({ type: 'socket-error', interfaceName: link.name, code: error.code, message: error.message, fatal: error.fatal });
          if (error.fatal) this.#drop(link, monotonicMs());
        },
      });
      if (opened.ok) link.socket = opened.value;
      else {
        link.failedAt = now;
        this.#post({ type: 'socket-error', interfaceName: link.name, code: opened.error.code, message: opened.error.message, fatal: true });
      }
    }
  }

  #drop(link: Link, now: number): void {
    link.socket?.close();
    link.socket = null;
    link.failedAt = now;
  }

  #onFrame(link: Link, frame: Uint8Array, packetType: number): void {
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

  #watchMainThread(now: number): void {
    const silent = now - this.#lastTick;
    if (!this.#muted && silent > this.#data.mainStallLimitMs) {
      this.#muted = true;
      this.#post({ type: 'muted', silentMs: Math.round(silent) });
    }
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
    if (this.#sent === 0 && Object.keys(this.#rejected).length === 0) return;
    this.#post({ type: 'stats', sent: this.#sent, rejected: this.#rejected });
    this.#sent = 0;
    this.#rejected = {};
  }

  #stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const link of this.#links.values()) link.socket?.close();
    this.#links.clear();
    this.#port.close();
  }
}

if (!isMainThread && parentPort !== null && (workerData as Partial<HeartbeatWorkerData> | undefined)?.role === 'ballast-heartbeat') {
  new BeatWorker(workerData as HeartbeatWorkerData, parentPort).start();
}
