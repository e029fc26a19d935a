// The main thread's end of the wire worker (wire-worker.ts): tells it where
// to beat and answer, with which key, to whom, and what to claim; hears who is
// alive, carrier changes, fences and counters; keeps it alive.
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../../shared/observability/index.ts';
import type { ClaimTable, InterfaceDescriptor, L2Event, L2Protocol, SocketError } from '../l2/index.ts';
import { toEntries, type FenceRule, type FromWorker, type HeartbeatStats, type L2Count, type LivenessSnapshot, type ToWorker } from './wire-protocol.ts';
import { spawnWireWorker, wireWorkerData, type SpawnedWire } from './wire-spawn.ts';
// Imported (not only named by URL) so that scripts/build-js.ts, which follows imports, emits the worker too.
import { WIRE_WORKER_URL } from './wire-worker.ts';

export { DEFAULT_MAIN_STALL_LIMIT_MS } from './wire-spawn.ts';

export interface WireOptions {
  readonly node: string;
  readonly intervalMs: number;
  readonly port: number;
  readonly log: Logger;
  /** The main thread proves it still turns this often... */
  readonly tickMs?: number;
  /** ...and the worker stops beating and answering when it has not for this long. */
  readonly mainStallLimitMs?: number;
  readonly sysfsRoot?: string;
  /** A worker speaker/main.ts started before loading the rest (wire-spawn.ts); used for the first start if its data matches. */
  readonly early?: SpawnedWire;
  /** Who is alive changed (or a worker started: a new incarnation, listening). */
  readonly onLiveness: (snapshot: LivenessSnapshot) => void;
  readonly onCarrier: (interfaceName: string, carrier: boolean) => void;
  /** The worker stopped beating and answering because this thread was wedged (true), or started again. */
  readonly onMuted: (muted: boolean) => void;
  readonly onFence?: (fenced: boolean, vouched: number) => void;
  readonly onStats?: (heartbeats: HeartbeatStats, l2: readonly L2Count[]) => void;
  readonly onL2Event?: (event: L2Event) => void;
  readonly onOpenFailures?: (failures: ReadonlyArray<{ interfaceName: string; protocol: L2Protocol; error: SocketError }>) => void;
}

const RESTART_AFTER_MS = 1_000;

export interface Claiming {
  readonly table: ClaimTable;
  /** The view the table was elected over (our beats carry it). */
  readonly view: readonly string[];
  readonly fence: FenceRule;
  readonly mode: 'agreed' | 'detached' | 'waiting';
  /** Some groups wait for peers to acknowledge a beat sent at or after this (monotonic ms). */
  readonly awaitingAcksSince: number | null;
}

const NOTHING: Claiming = { table: new Map(), view: [], fence: { majority: 1, tieAt: null, leaseUntil: null }, mode: 'waiting', awaitingAcksSince: null };

export class Wire {
  readonly #opts: WireOptions;
  #worker: Worker | undefined;
  #tick: NodeJS.Timeout | undefined;
  #restart: NodeJS.Timeout | undefined;
  #stopped = false;
  #nextSync = 1;
  readonly #syncs = new Map<number, () => void>();
  #left: (() => void) | undefined;
  /** The worker's mute epoch as last heard: ownership is tagged with it. */
  #epoch = 0;
  // Replayed to a restarted worker.
  #keys: readonly Uint8Array[] = [];
  #beat: readonly string[] = [];
  #answer: readonly InterfaceDescriptor[] = [];
  #nodes: readonly string[] = [];
  #targets: ReadonlyArray<{ name: string; addresses: readonly string[] }> = [];
  #claiming: Claiming = NOTHING;

  #early: SpawnedWire | undefined;

  constructor(opts: WireOptions) {
    this.#opts = opts;
    this.#early = opts.early;
  }

  start(): void {
    if (this.#worker !== undefined || this.#stopped) return;
    const data = wireWorkerData(this.#opts);
    const early = this.#early;
    this.#early = undefined;
    let spawned: SpawnedWire;
    if (early !== undefined && JSON.stringify(early.data) === JSON.stringify(data)) spawned = early;
    else {
      if (early !== undefined) {
        // Harmless (a worker of our own starts instead) but the early start was wasted: main.ts and this disagree.
        this.#opts.log.warn({ early: early.data, wanted: data }, 'the early wire worker was started with other settings: starting another');
        void early.worker.terminate();
      }
      spawned = spawnWireWorker(data, WIRE_WORKER_URL);
    }
    const worker = spawned.worker;
    this.#worker = worker;
    this.#epoch = 0;
    spawned.listen({
      message: (message) => this.#onMessage(message),
      error: (e) => this.#opts.log.error({ err: e }, 'wire worker failed'),
      exit: (code) => {
        if (this.#worker === worker) this.#worker = undefined;
        this.#releaseWaiters();
        if (this.#stopped) return;
        // A bug, or a crash: nothing is beaten or answered meanwhile, so peers take our IPs over.
        // The next worker is a new incarnation: it listens a full window and claims nothing until
        // the main thread, hearing of it, decides again.
        this.#opts.log.error({ code }, `wire worker exited; restarting it in ${RESTART_AFTER_MS} ms`);
        this.#claiming = NOTHING;
        this.#restart = setTimeout(() => this.start(), RESTART_AFTER_MS);
      },
    });
    this.#send({ type: 'keys', keys: this.#keys });
    this.#send({ type: 'interfaces', beat: this.#beat, answer: this.#answer });
    this.#send({ type: 'peers', nodes: this.#nodes, targets: this.#targets });
    this.#sendClaiming();
    clearInterval(this.#tick);
    this.#tick = setInterval(() => this.#send({ type: 'tick' }), this.#opts.tickMs ?? 250);
    this.#tick.unref();
  }

  /** For tests: ends the worker as a crash would (the main thread restarts it). */
  crashForTest(): void {
    void this.#worker?.terminate();
  }

  setKeys(keys: readonly Uint8Array[]): void {
    this.#keys = keys;
    this.#send({ type: 'keys', keys });
  }

  /** Beat on `beat` (carrier watched on all of them); answer ARP/NDP on `answer`. */
  setInterfaces(beat: readonly string[], answer: readonly InterfaceDescriptor[]): void {
    const same = (a: readonly InterfaceDescriptor[], b: readonly InterfaceDescriptor[]): boolean =>
      a.length === b.length && a.every((x, i) => JSON.stringify(x) === JSON.stringify(b[i]));
    if (beat.length === this.#beat.length && beat.every((n, i) => n === this.#beat[i]) && same(answer, this.#answer)) return;
    this.#beat = [...beat];
    this.#answer = [...answer];
    this.#send({ type: 'interfaces', beat: this.#beat, answer: this.#answer });
  }

  /** Every node there is (beats of others are dropped), and where heartbeats over UDP go: each peer's addresses. */
  setPeers(nodes: readonly string[], targets: ReadonlyArray<{ name: string; addresses: readonly string[] }>): void {
    if (JSON.stringify([nodes, targets]) === JSON.stringify([this.#nodes, this.#targets])) return;
    this.#nodes = nodes;
    this.#targets = targets;
    this.#send({ type: 'peers', nodes, targets });
  }

  /** What to claim and how, replaced whole (the worker swaps its table atomically). */
  setClaiming(claiming: Claiming): void {
    this.#claiming = claiming;
    this.#sendClaiming();
  }

  /** What was last handed to the worker. */
  get claiming(): Claiming {
    return this.#claiming;
  }

  /** Reads every socket dry and delivers a fresh liveness snapshot before resolving. */
  sync(): Promise<void> {
    if (this.#worker === undefined) return Promise.resolve();
    const id = this.#nextSync++;
    return new Promise((resolve) => {
      this.#syncs.set(id, resolve);
      this.#send({ type: 'sync', id });
    });
  }

  /** Sends LEAVING beats (peers drop us at once instead of waiting out our beats); resolves when they are out. */
  leave(repeats = 3, spacingMs = 20): Promise<void> {
    if (this.#worker === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.#left = resolve;
      this.#send({ type: 'leave', repeats, spacingMs });
    });
  }

  /** Stops answering and beating; the worker closes its sockets and ends. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#tick);
    clearTimeout(this.#restart);
    const worker = this.#worker;
    if (worker === undefined) return;
    // The worker ends by itself once its sockets are closed; terminate() only if it does not.
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.#send({ type: 'stop' });
    const timer = setTimeout(() => void worker.terminate(), 1_000);
    await exited;
    clearTimeout(timer);
    this.#releaseWaiters();
  }

  #sendClaiming(): void {
    const c = this.#claiming;
    this.#send({ type: 'ownership', entries: toEntries(c.table), view: c.view, fence: c.fence, mode: c.mode, awaitingAcksSince: c.awaitingAcksSince, epoch: this.#epoch });
  }

  #send(message: ToWorker): void {
    this.#worker?.postMessage(message);
  }

  #releaseWaiters(): void {
    for (const resolve of this.#syncs.values()) resolve();
    this.#syncs.clear();
    this.#left?.();
    this.#left = undefined;
  }

  #onMessage(message: FromWorker): void {
    const { log } = this.#opts;
    switch (message.type) {
      case 'liveness':
        this.#opts.onLiveness(message.snapshot);
        return;
      case 'synced': {
        const resolve = this.#syncs.get(message.id);
        this.#syncs.delete(message.id);
        resolve?.();
        return;
      }
      case 'stats':
        this.#opts.onStats?.(message.heartbeats, message.l2);
        return;
      case 'carrier':
        this.#opts.onCarrier(message.interfaceName, message.carrier);
        return;
      case 'beat-socket-error':
        log.warn({ interface: message.interfaceName, code: message.code, fatal: message.fatal }, `heartbeat socket: ${message.message}`);
        return;
      case 'l2-event':
        this.#opts.onL2Event?.(message.event);
        return;
      case 'open-failures':
        this.#opts.onOpenFailures?.(message.failures);
        return;
      case 'fence':
        if (message.fenced) {
          // The worker dropped our agreed IPs: what we send next is a new table, judged afresh (speaker.ts #mayClaim).
          this.#epoch = message.epoch;
          this.#claiming = NOTHING;
        }
        this.#opts.onFence?.(message.fenced, message.vouched);
        return;
      case 'muted':
        this.#epoch = message.epoch;
        log.error({ silentMs: message.silentMs }, 'the main thread stalled; heartbeats and answers stopped so that peers take our IPs over');
        this.#opts.onMuted(true);
        return;
      case 'unmuted':
        log.warn('the main thread turns again; heartbeats resume');
        this.#opts.onMuted(false);
        return;
      case 'left':
        this.#left?.();
        this.#left = undefined;
        return;
    }
  }
}
