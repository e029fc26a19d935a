// Which speakers are alive and which of them vouch for us, from the
// heartbeats heard on the LAN. A pure state machine: every method takes `now`
// (ms on this process's monotonic clock), so tests replay any timing exactly.
//
// Liveness is mutual and fresh:
// - a beat is *fresh* when it acknowledges one of our own beats sent within
//   the last window: it was made after that beat, so a replay (from before a
//   restart of either side, or captured and sent again later) is never fresh,
//   and no clock of the sender's orders anything;
// - a peer is *mutual* while its last fresh beat is younger than a window and
//   says it hears us: when either direction fails, both sides drop each other
//   within a window, so their views shrink together (one-way loss cannot make
//   one side keep a node the other has dropped);
// - a peer *supports* us while, in addition, it has us in its view and its
//   acknowledgement guarantees it cannot drop us for another margin: the peer
//   drops us at the earliest a window after it last heard us, which is after
//   we sent the beat it acknowledged. Losing support therefore always comes
//   before anyone takes our IPs over (the worker fences on it).
import { nameHash, sequenceAfter, type Heartbeat, type PeerEntry, type PeerState } from './heartbeat.ts';

/**
 * 100 ms beats, dead after 3.5 of them (350 ms): a crash is noticed 250–350 ms
 * later, leaving room under the 0.5 s p50 failover target for election and
 * gratuitous ARP, while two lost beats plus 50 ms of jitter pass without a
 * false failover.
 */
export const DEFAULT_INTERVAL_MS = 100;
export const DEFAULT_DEAD_AFTER_BEATS = 3.5;
/** How much earlier than any peer could drop us we stop counting on it: timer and processing delays. */
export const DEFAULT_SUPPORT_MARGIN_MS = 30;

export interface MembershipOptions {
  readonly self: string;
  /** Our wire worker's incarnation: our own looped-back beats carry it. */
  readonly incarnation: string;
  /** When this speaker started listening. */
  readonly startedAt: number;
  readonly intervalMs?: number;
  /** A peer is dropped once its last fresh beat is this many of ITS intervals old (beats carry them). */
  readonly deadAfterBeats?: number;
  readonly supportMarginMs?: number;
}

export type BeatIgnored =
  /** Our own beat, looped back. */
  | 'own-echo'
  /** Another process beats with our node name (misconfiguration, worth an error log). */
  | 'name-conflict'
  /** The same or an older sequence of the incarnation we track (a copy on another path or interface, a replay). */
  | 'not-newer'
  /** Another incarnation than the live one we track, and not fresh: a replay from before a restart. */
  | 'stale-incarnation';

export type BeatOutcome =
  /** fresh: counts as hearing the peer; bootstrap: remembered only so that our next beat acknowledges it. */
  | { readonly accepted: 'fresh' | 'bootstrap'; readonly changed: boolean }
  | { readonly accepted: false; readonly reason: BeatIgnored };

/** What the rest of the speaker may know of a peer. */
export interface PeerInfo {
  readonly name: string;
  readonly incarnation: string;
  readonly state: PeerState;
  readonly macs: readonly string[];
  /** Name hashes the peer has in its view (its current ownership was elected over them), itself included. */
  readonly view: ReadonlySet<string>;
  /** The peer's list did not fit its beat: its view is unknown. */
  readonly truncated: boolean;
  /** Until when (our clock) the peer holds the tie-break Lease; undefined: it does not. */
  readonly leaseUntil: number | undefined;
  /**
   * The view and state in its latest beat, fresh or not: a peer whose beats we
   * hear but that does not hear us still shows whom it acts with (a majority
   * acting without us is a reason to stay silent, never to claim).
   */
  readonly latestView: ReadonlySet<string>;
  readonly latestState: PeerState;
  /** When we sent the beat of ours its last fresh beat acknowledged (-Infinity: none yet): how new its word is. */
  readonly ackedAt: number;
}

interface PeerRecord {
  name: string;
  incarnation: string;
  /** The newest sequence heard (fresh or not): older ones are copies or replays. */
  sequence: number;
  /** The sequence of the last fresh beat: what we acknowledge while we hear the peer. */
  freshSequence: number;
  /** Last authenticated beat (fresh or not): the peer is on the wire. */
  lastHeard: number;
  firstHeard: number;
  /** Last fresh beat; -Infinity before the first. */
  lastFresh: number;
  state: PeerState;
  /** Its interval × deadAfterBeats: how long after its last beat it is dropped (it computes its own support with the same). */
  windowMs: number;
  hearsMe: boolean;
  inViewMe: boolean;
  /** When we sent the beat of ours its last fresh beat acknowledged. */
  ackedAt: number;
  macs: readonly string[];
  view: ReadonlySet<string>;
  truncated: boolean;
  leaseUntil: number | undefined;
  latestView: ReadonlySet<string>;
  latestState: PeerState;
}

export class Membership {
  readonly #self: string;
  readonly #selfHash: string;
  readonly #incarnation: string;
  readonly #windowMs: number;
  readonly #deadAfter: number;
  readonly #marginMs: number;
  readonly #peers = new Map<string, PeerRecord>();
  /** Our own beats: sequence → when sent. Kept two windows. */
  readonly #sent = new Map<number, number>();
  #listenUntil: number;

  constructor(options: MembershipOptions) {
    this.#self = options.self;
    this.#selfHash = nameHash(options.self);
    this.#incarnation = options.incarnation;
    const deadAfter = options.deadAfterBeats ?? DEFAULT_DEAD_AFTER_BEATS;
    if (!(deadAfter > 1)) throw new RangeError('deadAfterBeats must exceed 1, or every beat would be late');
    this.#deadAfter = deadAfter;
    this.#windowMs = (options.intervalMs ?? DEFAULT_INTERVAL_MS) * deadAfter;
    this.#marginMs = options.supportMarginMs ?? DEFAULT_SUPPORT_MARGIN_MS;
    if (!(this.#marginMs >= 0 && this.#marginMs < this.#windowMs)) throw new RangeError('the support margin must be shorter than the window');
    this.#listenUntil = options.startedAt + this.#windowMs;
  }

  get windowMs(): number {
    return this.#windowMs;
  }

  /**
   * True until a full window has passed since start (or since `relisten`):
   * meanwhile this speaker beats JOINING and claims nothing. Having heard
   * nobody yet, it would otherwise think itself alone.
   */
  listening(now: number): boolean {
    return now < this.#listenUntil;
  }

  /** The link came back (or the main thread after a stall): what we heard before says nothing now. */
  relisten(now: number): void {
    this.#listenUntil = Math.max(this.#listenUntil, now + this.#windowMs);
  }

  get listeningUntil(): number {
    return this.#listenUntil;
  }

  /** One of our beats went out: acknowledgements of it make peers' beats fresh for a window. */
  sent(sequence: number, at: number): void {
    this.#sent.set(sequence, at);
    for (const [seq, when] of this.#sent) {
      if (when >= at - 2 * this.#windowMs) break;
      this.#sent.delete(seq);
    }
  }

  receive(beat: Heartbeat, now: number): BeatOutcome {
    if (beat.node === this.#self) return { accepted: false, reason: beat.incarnation === this.#incarnation ? 'own-echo' : 'name-conflict' };
    const known = this.#peers.get(beat.node);
    if (known && known.incarnation === beat.incarnation && !sequenceAfter(beat.sequence, known.sequence)) return { accepted: false, reason: 'not-newer' };
    const ack = beat.peers.find((p) => p.hash === this.#selfHash);
    const ackedAt = ack === undefined ? undefined : this.#sent.get(ack.sequence);
    const fresh = ackedAt !== undefined && ackedAt >= now - this.#windowMs;
    const before = known && this.#signature(known, now);

    if (!fresh) {
      // A beat that acknowledges nothing recent of ours is remembered only so our next
      // beat acknowledges it (how two speakers first find each other); it proves
      // nothing, so it must not replace a live incarnation (a replay would).
      if (known && known.incarnation !== beat.incarnation && this.#hears(known, now)) return { accepted: false, reason: 'stale-incarnation' };
      const record = known && known.incarnation === beat.incarnation ? known : this.#newRecord(beat, now);
      record.sequence = beat.sequence;
      record.lastHeard = now;
      // A newer sequence of the incarnation we track is the peer's latest word even
      // when it is not fresh, so what it withdraws counts at once (it no longer hears
      // us, has dropped us from its view, is leaving); what it grants waits for a
      // fresh beat.
      if (record === known) {
        record.hearsMe &&= ack?.hears ?? false;
        record.inViewMe &&= ack?.inView ?? false;
        if (beat.state === 'leaving') record.state = 'leaving';
      }
      record.latestView = viewOf(beat);
      record.latestState = beat.state;
      this.#peers.set(beat.node, record);
      return { accepted: 'bootstrap', changed: before !== this.#signature(record, now) };
    }

    const record = known && known.incarnation === beat.incarnation ? known : this.#newRecord(beat, now);
    record.sequence = beat.sequence;
    record.freshSequence = beat.sequence;
    record.lastHeard = now;
    record.lastFresh = now;
    record.state = beat.state;
    record.windowMs = beat.intervalMs * this.#deadAfter;
    record.hearsMe = ack!.hears;
    record.inViewMe = ack!.inView;
    record.ackedAt = ackedAt;
    record.macs = beat.macs;
    record.truncated = beat.truncated;
    record.view = viewOf(beat);
    record.latestView = record.view;
    record.latestState = beat.state;
    // The remaining time was measured when the beat left; it arrives later, so the
    // margin keeps our idea of the expiry no later than the holder's own.
    record.leaseUntil = beat.leaseMs > this.#marginMs ? now + beat.leaseMs - this.#marginMs : undefined;
    this.#peers.set(beat.node, record);
    return { accepted: 'fresh', changed: before !== this.#signature(record, now) };
  }

  /**
   * Peers our next beat reports: everyone heard within a window, with the
   * last sequence we heard (of its last fresh beat while it is fresh, so an
   * acknowledgement never vouches for more than we counted), whether we hear
   * it, and whether it is in `view` (the view our ownership was elected over).
   */
  peerEntries(now: number, view: ReadonlySet<string>): PeerEntry[] {
    const entries: PeerEntry[] = [];
    for (const p of this.#peers.values()) {
      if (p.lastHeard + p.windowMs <= now) continue;
      const hears = this.#hears(p, now);
      entries.push({ hash: nameHash(p.name), sequence: hears ? p.freshSequence : p.sequence, hears, inView: view.has(p.name) });
    }
    return entries;
  }

  /** Peers heard within a window (any beat, any state): on the wire, whatever they vouch for. */
  heard(now: number): Set<string> {
    const names = new Set<string>();
    for (const p of this.#peers.values()) if (p.lastHeard + p.windowMs > now) names.add(p.name);
    return names;
  }

  /** Peers we hear fresh and that hear us. */
  mutual(now: number): Set<string> {
    const names = new Set<string>();
    for (const p of this.#peers.values()) if (this.#mutual(p, now)) names.add(p.name);
    return names;
  }

  /** Mutual peers that have us in their view and cannot drop us for at least the margin. */
  supporters(now: number): Set<string> {
    const names = new Set<string>();
    for (const p of this.#peers.values()) if (this.#supports(p, now)) names.add(p.name);
    return names;
  }

  /** Mutual peers that may own IPs: not listening, not leaving. */
  members(now: number): Set<string> {
    const names = new Set<string>();
    for (const p of this.#peers.values()) if (this.#mutual(p, now) && (p.state === 'active' || p.state === 'detached')) names.add(p.name);
    return names;
  }

  peer(name: string): PeerInfo | undefined {
    const p = this.#peers.get(name);
    if (p === undefined) return undefined;
    return { name: p.name, incarnation: p.incarnation, state: p.state, macs: p.macs, view: p.view, truncated: p.truncated, leaseUntil: p.leaseUntil, latestView: p.latestView, latestState: p.latestState, ackedAt: p.ackedAt };
  }

  /** When each peer was first heard (any beat), for "Ready in the API but never heard" warnings. */
  firstHeard(name: string): number | undefined {
    return this.#peers.get(name)?.firstHeard;
  }

  /** The next time anything above can change without a beat arriving: when to look again. */
  nextDeadline(now: number): number | undefined {
    let next = this.listening(now) ? this.#listenUntil : undefined;
    const consider = (t: number | undefined): void => {
      if (t !== undefined && t > now && (next === undefined || t < next)) next = t;
    };
    for (const p of this.#peers.values()) {
      consider(p.lastHeard + p.windowMs);
      consider(p.lastFresh + p.windowMs);
      consider(p.ackedAt + this.#windowMs - this.#marginMs);
      consider(p.leaseUntil);
    }
    return next;
  }

  /** The Node object is gone: drop what we remember of it. */
  forget(node: string): void {
    this.#peers.delete(node);
  }

  #hears(p: PeerRecord, now: number): boolean {
    return p.lastFresh + p.windowMs > now;
  }

  #mutual(p: PeerRecord, now: number): boolean {
    return this.#hears(p, now) && p.hearsMe;
  }

  #supports(p: PeerRecord, now: number): boolean {
    return this.#mutual(p, now) && p.inViewMe && p.state !== 'leaving' && p.ackedAt + this.#windowMs - this.#marginMs > now;
  }

  /** Everything a peer contributes to decisions, to tell whether a beat changed any of it. */
  #signature(p: PeerRecord, now: number): string {
    return [
      p.incarnation,
      p.state,
      this.#hears(p, now),
      this.#mutual(p, now),
      this.#supports(p, now),
      p.truncated,
      p.leaseUntil !== undefined,
      [...p.view].sort().join(','),
      p.macs.join(','),
    ].join('|');
  }

  #newRecord(beat: Heartbeat, now: number): PeerRecord {
    return {
      name: beat.node,
      incarnation: beat.incarnation,
      sequence: beat.sequence,
      freshSequence: beat.sequence,
      lastHeard: now,
      firstHeard: this.#peers.get(beat.node)?.firstHeard ?? now,
      lastFresh: -Infinity,
      state: beat.state,
      windowMs: beat.intervalMs * this.#deadAfter,
      hearsMe: false,
      inViewMe: false,
      ackedAt: -Infinity,
      macs: beat.macs,
      view: new Set(),
      truncated: beat.truncated,
      leaseUntil: undefined,
      latestView: viewOf(beat),
      latestState: beat.state,
    };
  }
}

/** The name hashes a beat's sender has in its view, itself included. */
function viewOf(beat: Heartbeat): ReadonlySet<string> {
  return new Set([nameHash(beat.node), ...beat.peers.filter((p) => p.inView).map((p) => p.hash)]);
}
