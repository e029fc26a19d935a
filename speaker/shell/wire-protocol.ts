// The messages between the speaker's main thread and its wire worker
// (wire-worker.ts), and the clock both read.
import type { AllowedInterfaces, ClaimMode, ClaimTable, InterfaceDescriptor, L2Counters, L2Event, L2Protocol, SocketError } from '../l2/index.ts';
import type { HeartbeatRejection, PeerState } from '../liveness/index.ts';

/**
 * Milliseconds on CLOCK_MONOTONIC. process.hrtime is one clock for every
 * thread of the process (performance.now() is not: each worker has its own
 * time origin), so a time stamped in the worker compares with deadlines in
 * the main thread.
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface WireWorkerData {
  readonly role: 'ballast-wire';
  readonly node: string;
  readonly intervalMs: number;
  /** UDP port of the heartbeats over IP. */
  readonly port: number;
  /** Stop beating and answering when the main thread has not ticked for this long (it is wedged: let a peer take over). */
  readonly mainStallLimitMs: number;
  readonly sysfsRoot: string;
}

/** One counter of the packet layer, summed since the last stats message: [method, protocol, ip / reason / errno, count]. */
export type L2Count = readonly [kind: keyof L2Counters, protocol: L2Protocol, label: string, n: number];

export type OwnershipEntries = ReadonlyArray<readonly [ip: string, interfaces: 'all' | readonly string[], mode: ClaimMode]>;

/** What the worker enforces without asking: the speaker may answer its agreed IPs only while this many vouch for it. */
export interface FenceRule {
  /** Vouching speakers (itself included) that make a majority of the cluster. */
  readonly majority: number;
  /** An even cluster: with exactly this many vouching, the tie-break Lease decides (null: odd, no tie). */
  readonly tieAt: number | null;
  /** Until when (monotonic ms) this speaker holds the tie-break Lease; null: it does not. */
  readonly leaseUntil: number | null;
}

/** Who the worker hears and who vouches for it: everything the main thread decides on. */
export interface LivenessSnapshot {
  /** Monotonic ms when taken. */
  readonly at: number;
  readonly incarnation: string;
  /** Beating JOINING: a full window of listening has not passed since start, a rejoin or a stall. */
  readonly listening: boolean;
  readonly listeningUntil: number;
  /** Heard within a window, any beat. */
  readonly heard: readonly string[];
  /** Heard fresh, and they hear us. */
  readonly mutual: readonly string[];
  /** Mutual, not joining or leaving: they may own IPs. */
  readonly members: readonly string[];
  /** Mutual, with us in their view, and unable to drop us for a margin yet. */
  readonly supporters: readonly string[];
  readonly peers: readonly PeerSnapshot[];
  /** The next time any of this can change without a beat (monotonic ms). */
  readonly nextDeadline: number | undefined;
}

export interface PeerSnapshot {
  readonly name: string;
  readonly state: PeerState;
  /** Name hashes in its view. */
  readonly view: readonly string[];
  readonly truncated: boolean;
  readonly leaseUntil: number | undefined;
  readonly macs: readonly string[];
  /** Monotonic ms when first heard by this worker. */
  readonly firstHeard: number;
  /** View (hashes) and state in its latest beat, fresh or not. */
  readonly latestView: readonly string[];
  readonly latestState: PeerState;
  /** When (monotonic ms) we sent the beat of ours its last fresh beat acknowledged. */
  readonly ackedAt: number;
}

export interface HeartbeatStats {
  readonly sent: number;
  readonly received: number;
  readonly rejected: Partial<Record<HeartbeatRejection | 'not-fresh' | 'wrong-interface' | 'unknown-node' | 'rate-limited', number>>;
  /** Dropped by the kernel (full socket queue), per path, since the last stats message. */
  readonly kernelDrops: { readonly raw: number; readonly udp: number };
}

export type ToWorker =
  | { readonly type: 'keys'; readonly keys: readonly Uint8Array[] }
  /** Where to beat (carrier watched on all of them) and where to answer ARP/NDP (those with carrier). */
  | { readonly type: 'interfaces'; readonly beat: readonly string[]; readonly answer: readonly InterfaceDescriptor[] }
  /**
   * Every node there is (beats naming any other node are dropped before
   * membership: a flood of made-up names costs no memory), and where to send
   * heartbeats over UDP: each peer's addresses.
   */
  | { readonly type: 'peers'; readonly nodes: readonly string[]; readonly targets: ReadonlyArray<{ readonly name: string; readonly addresses: readonly string[] }> }
  /**
   * What to answer for and how, with the view it was elected over (beats
   * carry it) and the fence rule. Applied only while `epoch` is the worker's:
   * one sent before the main thread heard of a mute, or of the fence going
   * up, is stale.
   */
  | {
      readonly type: 'ownership';
      readonly entries: OwnershipEntries;
      readonly view: readonly string[];
      readonly fence: FenceRule;
      /** How the speaker claims: agreed, detached (the API view, probing first), or waiting (it cannot claim at all: no key, no API view), which beats say JOINING so peers do not count on it. */
      readonly mode: 'agreed' | 'detached' | 'waiting';
      /** Groups wait for peers to acknowledge a beat sent at or after this (monotonic ms): say when they do. */
      readonly awaitingAcksSince: number | null;
      readonly epoch: number;
    }
  | { readonly type: 'tick' }
  /** Read every socket dry, then answer `synced` with a fresh snapshot. */
  | { readonly type: 'sync'; readonly id: number }
  | { readonly type: 'leave'; readonly repeats: number; readonly spacingMs: number }
  | { readonly type: 'stop' };

export type FromWorker =
  | { readonly type: 'liveness'; readonly snapshot: LivenessSnapshot }
  | { readonly type: 'synced'; readonly id: number }
  /** Counts since the last stats message (about once a second). */
  | { readonly type: 'stats'; readonly heartbeats: HeartbeatStats; readonly l2: readonly L2Count[] }
  | { readonly type: 'carrier'; readonly interfaceName: string; readonly carrier: boolean }
  | { readonly type: 'beat-socket-error'; readonly interfaceName: string; readonly code: string; readonly message: string; readonly fatal: boolean }
  | { readonly type: 'l2-event'; readonly event: L2Event }
  | { readonly type: 'open-failures'; readonly failures: ReadonlyArray<{ interfaceName: string; protocol: L2Protocol; error: SocketError }> }
  /** The fence went up (fewer than a majority vouch for us: agreed IPs are no longer answered) or down. */
  /**
   * The fence went up or down. Going up, the worker dropped its agreed IPs and
   * moved to a new epoch: only a table elected after this, over the views
   * peers hold now, gives them back (when support returns, a peer may still
   * hold one of them, failed over while we were without it).
   */
  | { readonly type: 'fence'; readonly fenced: boolean; readonly vouched: number; readonly epoch: number }
  /** Beats and answers stopped (the main thread stalled); ownership messages of older epochs are ignored from now on. */
  | { readonly type: 'muted'; readonly silentMs: number; readonly epoch: number }
  | { readonly type: 'unmuted' }
  | { readonly type: 'left' };

export function toEntries(table: ClaimTable): OwnershipEntries {
  return [...table].map(([ip, e]) => [ip, e.allowed === 'all' ? 'all' : [...e.allowed], e.mode] as const);
}

export function fromEntries(entries: OwnershipEntries): Map<string, { allowed: AllowedInterfaces; mode: ClaimMode }> {
  return new Map(entries.map(([ip, allowed, mode]) => [ip, { allowed: allowed === 'all' ? 'all' : new Set(allowed), mode }]));
}
