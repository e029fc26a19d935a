// The main thread's end of the heartbeat worker: tells it what to beat on and
// with which key, hears the beats it received, and keeps it alive.
import { Worker } from 'node:worker_threads';
import type { Heartbeat, HeartbeatRejection } from '../liveness/index.ts';
import type { Logger } from '../../shared/observability/index.ts';
import type { FromWorker, HeartbeatWorkerData, ToWorker } from './heartbeat-protocol.ts';
import { HEARTBEAT_WORKER_URL } from './heartbeat-worker.ts';

export interface HeartbeatLinkOptions {
  readonly node: string;
  readonly bootId: string;
  readonly intervalMs: number;
  /** How long the worker says JOINING on its own after coming back from isolation (well inside the listening window). */
  readonly rejoinHoldMs: number;
  readonly log: Logger;
  /** The main thread proves it still turns this often... */
  readonly tickMs?: number;
  /** ...and the worker stops beating when it has not for this long. */
  readonly mainStallLimitMs?: number;
  readonly sysfsRoot?: string;
  readonly onBeat: (beat: Heartbeat, heardAt: number, interfaceName: string) => void;
  readonly onCarrier: (interfaceName: string, carrier: boolean) => void;
  /** Beats stopped because this thread was wedged (muted true), or started again. */
  readonly onMuted: (muted: boolean) => void;
  readonly onStats?: (sent: number, rejected: Partial<Record<HeartbeatRejection, number>>) => void;
}

/**
 * Two seconds: far beyond a GC pause or a relist (tens to hundreds of ms), so
 * a busy main thread never costs a failover; short enough that a wedged one
 * (answering no ARP) hands its IPs over soon.
 */
export const DEFAULT_MAIN_STALL_LIMIT_MS = 2_000;
const RESTART_AFTER_MS = 1_000;

export class HeartbeatLink {
  readonly #opts: HeartbeatLinkOptions;
  #worker: Worker | undefined;
  #tick: NodeJS.Timeout | undefined;
  #restart: NodeJS.Timeout | undefined;
  #stopped = false;
  #nextSync = 1;
  readonly #syncs = new Map<number, () => void>();
  #left: (() => void) | undefined;
  /** Replayed to a restarted worker. */
  #keys: readonly Uint8Array[] = [];
  #interfaces: readonly string[] = [];
  #joining = true;

  constructor(opts: HeartbeatLinkOptions) {
    this.#opts = opts;
  }

  start(): void {
    if (this.#worker !== undefined || this.#stopped) return;
    const data: HeartbeatWorkerData = {
      role: 'ballast-heartbeat',
      node: this.#opts.node,
      bootId: this.#opts.bootId,
      intervalMs: this.#opts.intervalMs,
      rejoinHoldMs: this.#opts.rejoinHoldMs,
      mainStallLimitMs: this.#opts.mainStallLimitMs ?? DEFAULT_MAIN_STALL_LIMIT_MS,
      sysfsRoot: this.#opts.sysfsRoot ?? '/sys/class/net',
    };
    const worker = new Worker(new URL(HEARTBEAT_WORKER_URL), { workerData: data, name: 'ballast-heartbeat' });
    this.#worker = worker;
    worker.on('message', (message: FromWorker) => this.#onMessage(message));
    worker.on('error', (e) => this.#opts.log.error({ err: e }, 'heartbeat worker failed'));
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#worker = undefined;
      this.#releaseWaiters();
      if (this.#stopped) return;
      // A bug: the worker should never end on its own. Beats stop meanwhile, so peers take our IPs over.
      this.#opts.log.error({ code }, `heartbeat worker exited; restarting it in ${RESTART_AFTER_MS} ms`);
      this.#restart = setTimeout(() => this.start(), RESTART_AFTER_MS);
    });
    this.#send({ type: 'keys', keys: this.#keys });
    this.#send({ type: 'joining', joining: this.#joining });
    this.#send({ type: 'interfaces', names: this.#interfaces });
    clearInterval(this.#tick);
    const tickMs = this.#opts.tickMs ?? 250;
    this.#tick = setInterval(() => this.#send({ type: 'tick' }), tickMs);
    this.#tick.unref();
  }

  setKeys(keys: readonly Uint8Array[]): void {
    this.#keys = keys;
    this.#send({ type: 'keys', keys });
  }

  setInterfaces(names: readonly string[]): void {
    if (names.length === this.#interfaces.length && names.every((n, i) => n === this.#interfaces[i])) return;
    this.#interfaces = [...names];
    this.#send({ type: 'interfaces', names: this.#interfaces });
  }

  /** Beats say JOINING while this speaker listens before claiming anything. */
  setJoining(joining: boolean): void {
    if (joining === this.#joining) return;
    this.#joining = joining;
    this.#send({ type: 'joining', joining });
  }

  /**
   * Resolves once every beat the worker has received by now (read off its
   * sockets synchronously) has been delivered to onBeat: call it before
   * declaring a peer dead.
   */
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

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#tick);
    clearTimeout(this.#restart);
    const worker = this.#worker;
    if (worker === undefined) return;
    // The worker closes its sockets and ends by itself; terminate() only if it does not.
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.#send({ type: 'stop' });
    const timer = setTimeout(() => void worker.terminate(), 1_000);
    await exited;
    clearTimeout(timer);
    this.#releaseWaiters();
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
    switch (message.type) {
      case 'beat':
        this.#opts.onBeat(message.beat, message.heardAt, message.interfaceName);
        return;
      case 'synced': {
        const resolve = this.#syncs.get(message.id);
        this.#syncs.delete(message.id);
        resolve?.();
        return;
      }
      case 'stats':
        this.#opts.onStats?.(message.sent, message.rejected);
        return;
      case 'carrier':
        this.#opts.onCarrier(message.interfaceName, message.carrier);
        return;
      case 'socket-error':
        this.#opts.log.warn({ interface: message.interfaceName, code: message.code, fatal: message.fatal }, `heartbeat socket: ${message.message}`);
        return;
      case 'muted':
        this.#opts.log.error({ silentMs: message.silentMs }, 'the main thread stalled; heartbeats stopped so that peers take our IPs over');
        this.#opts.onMuted(true);
        return;
      case 'unmuted':
        this.#opts.log.warn('the main thread turns again; heartbeats resume');
        this.#opts.onMuted(false);
        return;
      case 'left':
        this.#left?.();
        this.#left = undefined;
        return;
    }
  }
}
