// The messages between the speaker's main thread and its wire worker
// (wire-worker.ts), and the clock both read.
import type { AllowedInterfaces, InterfaceDescriptor, L2Counters, L2Event, L2Protocol, SocketError } from '../l2/index.ts';
import type { Heartbeat, HeartbeatRejection } from '../liveness/index.ts';

/**
 * Milliseconds on CLOCK_MONOTONIC. process.hrtime is one clock for every
 * thread of the process (performance.now() is not: each worker has its own
 * time origin), so a beat stamped in the worker compares with deadlines in
 * the main thread.
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface WireWorkerData {
  readonly role: 'ballast-wire';
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
  /** Stop beating and answering when the main thread has not ticked for this long (it is wedged: let a peer take over). */
  readonly mainStallLimitMs: number;
  readonly sysfsRoot: string;
}

/** One counter of the packet layer, summed since the last stats message: [method, protocol, ip / reason / errno, count]. */
export type L2Count = readonly [kind: keyof L2Counters, protocol: L2Protocol, label: string, n: number];

export type OwnershipEntries = ReadonlyArray<readonly [ip: string, interfaces: 'all' | readonly string[]]>;

export type ToWorker =
  | { readonly type: 'keys'; readonly keys: readonly Uint8Array[] }
  /** Where to beat (carrier watched on all of them) and where to answer ARP/NDP (those with carrier). */
  | { readonly type: 'interfaces'; readonly beat: readonly string[]; readonly answer: readonly InterfaceDescriptor[] }
  /** Applied only while `epoch` is the worker's: one sent before the main thread heard it was muted is stale. */
  | { readonly type: 'ownership'; readonly entries: OwnershipEntries; readonly epoch: number }
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
  | { readonly type: 'stats'; readonly sent: number; readonly rejected: Partial<Record<HeartbeatRejection, number>>; readonly l2: readonly L2Count[] }
  | { readonly type: 'carrier'; readonly interfaceName: string; readonly carrier: boolean }
  | { readonly type: 'beat-socket-error'; readonly interfaceName: string; readonly code: string; readonly message: string; readonly fatal: boolean }
  | { readonly type: 'l2-event'; readonly event: L2Event }
  | { readonly type: 'open-failures'; readonly failures: ReadonlyArray<{ interfaceName: string; protocol: L2Protocol; error: SocketError }> }
  /** Beats and answers stopped (the main thread stalled); ownership messages of older epochs are ignored from now on. */
  | { readonly type: 'muted'; readonly silentMs: number; readonly epoch: number }
  | { readonly type: 'unmuted' }
  | { readonly type: 'left' };

export function toEntries(table: ReadonlyMap<string, AllowedInterfaces>): OwnershipEntries {
  return [...table].map(([ip, allowed]) => [ip, allowed === 'all' ? 'all' : [...allowed]] as const);
}

export function fromEntries(entries: OwnershipEntries): Map<string, AllowedInterfaces> {
  return new Map(entries.map(([ip, allowed]) => [ip, allowed === 'all' ? 'all' : new Set(allowed)]));
}
