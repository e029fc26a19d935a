// Starting the wire worker, kept apart from wire.ts and light on imports so
// speaker/main.ts can start it before it loads the rest of the program: a
// restarted speaker's first beat is what lets its peers agree again, and the
// worker's own start (an isolate and its modules) then runs beside the main
// thread's instead of after it.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FromWorker, WireWorkerData } from './wire-protocol.ts';

/**
 * wire-worker's URL without loading it here: beside this file, as .ts in the sources and .js in the image
 * (scripts/build-js.ts). Equal to WIRE_WORKER_URL (wire-spawn.test.ts).
 */
export const WORKER_URL = new URL(`./wire-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;

/**
 * Two seconds: far beyond a GC pause or a relist (tens to hundreds of ms), so
 * a busy main thread never costs a failover; short enough that a wedged one
 * hands its IPs over soon.
 */
export const DEFAULT_MAIN_STALL_LIMIT_MS = 2_000;

/** What the worker is started with: the same for the Wire and for speaker/main.ts's early start. */
export function wireWorkerData(opts: { node: string; intervalMs: number; port: number; mainStallLimitMs?: number | undefined; sysfsRoot?: string | undefined }): WireWorkerData {
  return {
    role: 'ballast-wire',
    node: opts.node,
    intervalMs: opts.intervalMs,
    port: opts.port,
    mainStallLimitMs: opts.mainStallLimitMs ?? DEFAULT_MAIN_STALL_LIMIT_MS,
    sysfsRoot: opts.sysfsRoot ?? '/sys/class/net',
  };
}

/** What a worker did before anyone listened: replayed, in order, to the first listener. */
type Early = { kind: 'message'; message: FromWorker } | { kind: 'error'; error: Error } | { kind: 'exit'; code: number };

export interface SpawnedWire {
  readonly worker: Worker;
  readonly data: WireWorkerData;
  /** Attaches the listeners; what happened before is delivered first. Once only. */
  listen(on: { message: (m: FromWorker) => void; error: (e: Error) => void; exit: (code: number) => void }): void;
}

export function spawnWireWorker(data: WireWorkerData, url: string = WORKER_URL): SpawnedWire {
  // The worker holds sockets, counters, membership and the claim table: a small heap, kept small
  // (V8 would otherwise reserve tens of MB per isolate before it collects), and short pauses.
  const worker = new Worker(new URL(url), { workerData: data, name: 'ballast-wire', resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 48 } });
  let early: Early[] | undefined = [];
  const keep = (e: Early): void => void early?.push(e);
  const onMessage = (message: FromWorker): void => keep({ kind: 'message', message });
  const onError = (error: Error): void => keep({ kind: 'error', error });
  const onExit = (code: number): void => keep({ kind: 'exit', code });
  worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  return {
    worker,
    data,
    listen(on) {
      if (early === undefined) throw new Error('the wire worker already has its listeners');
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      const before = early;
      early = undefined;
      worker.on('message', on.message).on('error', on.error).on('exit', on.exit);
      for (const e of before) {
        if (e.kind === 'message') on.message(e.message);
        else if (e.kind === 'error') on.error(e.error);
        else on.exit(e.code);
      }
    },
  };
}
