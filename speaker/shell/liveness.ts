// Who is alive, from heartbeats: the Membership state machine fed by the wire
// worker's beats, with the timing the speaker needs around it — deadlines
// judged only after the worker has read its sockets dry, the first member beat
// sent just before this speaker claims anything, and no claim at all without a
// heartbeat key or while the worker had to stop beating.
import type { Logger } from '../../shared/observability/index.ts';
import { Membership, type Heartbeat } from '../liveness/index.ts';
import type { SpeakerMetrics } from './metrics.ts';
import type { BeatChannel } from './wire.ts';
import { monotonicMs } from './wire-protocol.ts';

export interface LivenessOptions {
  readonly node: string;
  readonly bootId: string;
  readonly intervalMs: number;
  readonly log: Logger;
  /** Where beats go: the wire worker (wire.ts). */
  readonly beats: BeatChannel;
  readonly metrics?: Pick<SpeakerMetrics, 'heartbeatsReceived' | 'heartbeatsRejected'>;
  /** The alive set may have changed: a peer joined or left, a deadline passed, keys or muting changed. */
  readonly onChange: (urgency: 'beat' | 'deadline' | 'state') => void;
}

/**
 * How long before claiming a speaker beats as a member: peers hear it and
 * release what moves to us before we announce it, so a hand-back has a moment
 * where neither node answers (clients keep their cached entry meanwhile)
 * rather than one where both do.
 */
export const MEMBER_LEAD_MS = 20;

export class LivenessTracker {
  readonly #opts: LivenessOptions;
  readonly #link: BeatChannel;
  #membership: Membership;
  #hasKey = false;
  #muted = false;
  #deadline: NodeJS.Timeout | undefined;
  #memberTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #conflicts = new Set<string>();

  constructor(opts: LivenessOptions) {
    this.#opts = opts;
    this.#membership = this.#newMembership();
    this.#link = opts.beats;
  }

  /** Listening starts now: a full window of beats before this speaker counts itself alive. */
  start(): void {
    this.#membership = this.#newMembership();
    this.#updateJoining(monotonicMs());
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#deadline);
    clearTimeout(this.#memberTimer);
  }

  /** LEAVING beats: peers drop us at once instead of waiting out our silence. */
  leave(): Promise<void> {
    return this.#link.leave();
  }

  setKeys(keys: readonly Uint8Array[]): void {
    const had = this.#hasKey;
    this.#hasKey = keys.length > 0;
    this.#link.setKeys(keys);
    if (had !== this.#hasKey) this.#opts.onChange('state');
  }

  /**
   * Speakers that may own IPs now: members heard within their window, speakers
   * the API reports ready that were never heard, and this one once it has
   * listened — unless it has no heartbeat key (it cannot prove to peers that it
   * is alive, so it claims nothing) or its beats stopped (muted).
   */
  alive(now: number, readyInAPI: Iterable<string>): Set<string> {
    const alive = this.#membership.alive(now, readyInAPI);
    if (!this.#hasKey || this.#muted) alive.delete(this.#opts.node);
    return alive;
  }

  listening(now: number): boolean {
    return this.#membership.listening(now);
  }

  get muted(): boolean {
    return this.#muted;
  }

  get windowMs(): number {
    return this.#membership.windowMs;
  }

  /** Back from isolation (or a stall): what we heard before says nothing now. */
  relisten(now: number): void {
    this.#membership.relisten(now);
    this.#updateJoining(now);
  }

  /** The Node object is gone. */
  forget(node: string): void {
    this.#membership.forget(node);
  }

  /** Sets the timer for the next moment the alive set can change without a beat; call after acting on it. */
  armDeadline(now: number): void {
    clearTimeout(this.#deadline);
    this.#updateJoining(now);
    const next = this.#membership.nextDeadline(now);
    if (next === undefined || this.#stopped) return;
    // +1: alive means strictly younger than the window, and timers round down.
    this.#deadline = setTimeout(() => void this.#onDeadline(), Math.max(0, next - now) + 1);
  }

  async #onDeadline(): Promise<void> {
    // After an event-loop stall this timer runs before queued messages are
    // handled: every beat the worker has received by now is delivered first.
    await this.#link.sync();
    if (!this.#stopped) this.#opts.onChange('deadline');
  }

  /** A beat the wire worker received (authenticated), stamped when it arrived. */
  receive(beat: Heartbeat, heardAt: number): void {
    const outcome = this.#membership.receive(beat, heardAt);
    const { metrics, log } = this.#opts;
    if (outcome.accepted) {
      metrics?.heartbeatsReceived.inc();
      if (outcome.changed) {
        log.info({ peer: beat.node, leaving: beat.leaving, joining: beat.joining }, beat.leaving ? 'peer leaving' : 'peer joined');
        this.#opts.onChange('beat');
      }
      return;
    }
    metrics?.heartbeatsRejected.inc({ reason: outcome.reason });
    if (outcome.reason === 'name-conflict' && !this.#conflicts.has(beat.bootId)) {
      this.#conflicts.add(beat.bootId);
      log.error({ bootId: beat.bootId }, `another speaker beats with this node's name (${beat.node}); check --node-name`);
    }
  }

  /** The wire worker stopped (or resumed) beating and answering because the main thread stalled. */
  setMuted(muted: boolean): void {
    this.#muted = muted;
    // Muted: peers stopped hearing us and take our IPs. Back: listen before claiming again.
    if (!muted) this.relisten(monotonicMs());
    this.#opts.onChange('state');
  }

  /** JOINING until MEMBER_LEAD_MS before listening ends; the member beat then goes out at once. */
  #updateJoining(now: number): void {
    const memberAt = this.#membership.listeningUntil - MEMBER_LEAD_MS;
    this.#link.setJoining(now < memberAt);
    clearTimeout(this.#memberTimer);
    if (now < memberAt && !this.#stopped) this.#memberTimer = setTimeout(() => this.#updateJoining(monotonicMs()), memberAt - now + 1);
  }

  #newMembership(): Membership {
    return new Membership({ self: this.#opts.node, selfBootId: this.#opts.bootId, startedAt: monotonicMs(), intervalMs: this.#opts.intervalMs });
  }
}
