// Which speakers are alive, from the heartbeats heard on the LAN. A pure state
// machine: every method takes `now` (ms on this process's monotonic clock), so
// tests can replay any timing exactly.
import type { Heartbeat } from './heartbeat.ts';

/**
 * 100 ms beats, dead after 3.5 of them (350 ms): a crash is noticed 250–350 ms
 * later, leaving room under the 0.5 s p50 failover target for election and
 * gratuitous ARP, while two lost beats plus 50 ms of jitter, or one 250 ms
 * stall of the sender's event loop, pass without a false failover.
 */
export const DEFAULT_INTERVAL_MS = 100;
export const DEFAULT_DEAD_AFTER_BEATS = 3.5;

export interface MembershipOptions {
  readonly self: string;
  /** This process's boot id, to tell our own looped-back frames from a second speaker using our name. */
  readonly selfBootId: string;
  /** When this speaker started listening. */
  readonly startedAt: number;
  /** Our own beat period; sets our listening window. */
  readonly intervalMs?: number;
  /** A peer is dead once its last beat is this many of ITS intervals old. */
  readonly deadAfterBeats?: number;
}

export type BeatOutcome =
  | { readonly accepted: true; /** The alive set changed (a peer joined, came back or left). */ readonly changed: boolean }
  | { readonly accepted: false; readonly reason: BeatIgnored };

/**
 * own-echo: our own frame came back; name-conflict: another process beats with our
 * node name (misconfiguration, worth an Event); not-newer: the same or an older
 * sequence of a boot we know (a replay, or the same frame heard on a second
 * interface); old-boot: a boot id other than the latest, with an older clock (a
 * replay from before the peer restarted).
 */
export type BeatIgnored = 'own-echo' | 'name-conflict' | 'not-newer' | 'old-boot';

interface Peer {
  readonly bootId: string;
  readonly sequence: number;
  readonly sentAt: number;
  readonly heardAt: number;
  readonly windowMs: number;
  readonly state: 'joining' | 'member' | 'left';
}

export class Membership {
  readonly #self: string;
  readonly #selfBootId: string;
  readonly #deadAfterBeats: number;
  readonly #windowMs: number;
  readonly #peers = new Map<string, Peer>();
  #listenUntil: number;

  constructor(options: MembershipOptions) {
    this.#self = options.self;
    this.#selfBootId = options.selfBootId;
    this.#deadAfterBeats = options.deadAfterBeats ?? DEFAULT_DEAD_AFTER_BEATS;
    this.#windowMs = (options.intervalMs ?? DEFAULT_INTERVAL_MS) * this.#deadAfterBeats;
    if (!(this.#deadAfterBeats > 1)) throw new RangeError('deadAfterBeats must exceed 1, or every beat would be late');
    this.#listenUntil = options.startedAt + this.#windowMs;
  }

  /** A dead peer's beats stop; a full window of listening is what it takes to have heard every live one. */
  get windowMs(): number {
    return this.#windowMs;
  }

  /**
   * True until a full window has passed since start (or since `relisten`). Meanwhile
   * this speaker claims nothing and beats with JOINING set: having heard nobody yet,
   * it would otherwise think itself alone and claim every IP.
   */
  listening(now: number): boolean {
    return now < this.#listenUntil;
  }

  /** The link came back (or the interface was re-created): what we heard before says nothing now. */
  relisten(now: number): void {
    this.#listenUntil = Math.max(this.#listenUntil, now + this.#windowMs);
  }

  /** When listening ends (or ended): the speaker's first beat as a member can go out just before it. */
  get listeningUntil(): number {
    return this.#listenUntil;
  }

  receive(beat: Heartbeat, now: number): BeatOutcome {
    if (beat.node === this.#self) return { accepted: false, reason: beat.bootId === this.#selfBootId ? 'own-echo' : 'name-conflict' };
    const known = this.#peers.get(beat.node);
    if (known) {
      if (beat.bootId === known.bootId && beat.sequence <= known.sequence) return { accepted: false, reason: 'not-newer' };
      // Compares the peer's clock with itself, so nodes need no clock sync. A peer
      // whose clock steps back across a restart is unheard until it passes its old
      // reading: failing closed, it is treated as still down.
      if (beat.bootId !== known.bootId && beat.sentAt <= known.sentAt) return { accepted: false, reason: 'old-boot' };
    }
    const wasAlive = known !== undefined && isAlive(known, now);
    const peer: Peer = {
      bootId: beat.bootId,
      sequence: beat.sequence,
      sentAt: beat.sentAt,
      heardAt: now,
      windowMs: beat.intervalMs * this.#deadAfterBeats,
      state: beat.leaving ? 'left' : beat.joining ? 'joining' : 'member',
    };
    this.#peers.set(beat.node, peer);
    return { accepted: true, changed: wasAlive !== isAlive(peer, now) };
  }

  /**
   * Speakers that may own IPs now: members heard within their window, and ourselves
   * once done listening. `readyInAPI` (speaker pods the API reports Ready) adds the
   * ones never heard on the LAN: if a switch drops EtherType 0x88B5 or a key is
   * wrong, speakers fall back to the slow API view instead of each believing it is
   * alone and claiming every IP. Once a peer has been heard, its beats decide.
   */
  alive(now: number, readyInAPI: Iterable<string> = []): Set<string> {
    const alive = new Set<string>();
    if (!this.listening(now)) alive.add(this.#self);
    for (const [name, peer] of this.#peers) if (isAlive(peer, now)) alive.add(name);
    for (const name of readyInAPI) if (name !== this.#self && !this.#peers.has(name)) alive.add(name);
    return alive;
  }

  /** The next time `alive` can change without a beat arriving (a peer expiring, listening ending): when to set a timer. */
  nextDeadline(now: number): number | undefined {
    let next = this.listening(now) ? this.#listenUntil : undefined;
    for (const peer of this.#peers.values()) {
      if (!isAlive(peer, now)) continue;
      const deadline = peer.heardAt + peer.windowMs;
      if (next === undefined || deadline < next) next = deadline;
    }
    return next;
  }

  /** The Node object is gone: drop what we remember of it, replay guard included. */
  forget(node: string): void {
    this.#peers.delete(node);
  }
}

/** Alive while the last beat is younger than the window: at heardAt + window exactly, dead. */
function isAlive(peer: Peer, now: number): boolean {
  return peer.state === 'member' && now < peer.heardAt + peer.windowMs;
}
