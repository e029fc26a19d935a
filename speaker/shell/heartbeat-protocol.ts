// The messages between the speaker's main thread and its heartbeat worker
// (heartbeat-worker.ts), and the clock both read.
import type { Heartbeat, HeartbeatRejection } from '../liveness/index.ts';

/**
 * Milliseconds on CLOCK_MONOTONIC. process.hrtime is one clock for every
 * thread of the process (performance.now() is not: each worker has its own
 * time origin), so a beat stamped in the worker compares with deadlines in
 * the main thread.
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface HeartbeatWorkerData {
  readonly role: 'ballast-heartbeat';
  readonly node: string;
  readonly bootId: string;
  readonly intervalMs: number;
  /**
   * After every link was down, beats say JOINING for this long from the moment
   * carrier returns, whatever the main thread last said, so no beat claims
   * membership before the main thread has heard of the carrier and started
   * listening again (it then keeps JOINING for its full window itself).
   */
  readonly rejoinHoldMs: number;
  /** Stop beating when the main thread has not ticked for this long (it is wedged: let a peer take over). */
  readonly mainStallLimitMs: number;
  readonly sysfsRoot: string;
}

export type ToWorker =
  | { readonly type: 'keys'; readonly keys: readonly Uint8Array[] }
  | { readonly type: 'interfaces'; readonly names: readonly string[] }
  | { readonly type: 'joining'; readonly joining: boolean }
  | { readonly type: 'tick' }
  /** Read every socket dry, then answer `synced`: every beat received before the answer has been posted. */
  | { readonly type: 'sync'; readonly id: number }
  | { readonly type: 'leave'; readonly repeats: number; readonly spacingMs: number }
  | { readonly type: 'stop' };

export type FromWorker =
  | { readonly type: 'beat'; readonly beat: Heartbeat; readonly heardAt: number; readonly interfaceName: string }
  | { readonly type: 'synced'; readonly id: number }
  /** Counts since the last stats message (about once a second). */
  | { readonly type: 'stats'; readonly sent: number; readonly rejected: Partial<Record<HeartbeatRejection, number>> }
  | { readonly type: 'carrier'; readonly interfaceName: string; readonly carrier: boolean }
  | { readonly type: 'socket-error'; readonly interfaceName: string; readonly code: string; readonly message: string; readonly fatal: boolean }
  | { readonly type: 'muted'; readonly silentMs: number }
  | { readonly type: 'unmuted' }
  | { readonly type: 'left' };
