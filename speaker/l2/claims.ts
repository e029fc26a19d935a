// Duplicate detection and resolution on the wire, in the spirit of RFC 5227:
// whether each IP this node is asked to own is answered now, and when to
// probe, announce or back off. Pure: time and randomness come in, actions go
// out; the announcer sends the frames.
//
// - An IP handed over as `agreed` (the speaker's peers agree it owns it) is
//   answered at once and announced; shortly after, and then every so often
//   (with jitter), it is probed: anyone else answering is a duplicate.
// - An IP handed over as `probe-first` (the speaker fell back to the API's
//   view and cannot know whether a majority elsewhere took it) is answered
//   only once probes found nobody else answering; otherwise it is held and
//   probed again later. The fence does not hold it back.
// - An IP handed over as `agreed-after-probe` is both: the fence holds it back
//   like an agreed one, and it is answered only once probes found nobody (a
//   speaker we do not hear may be answering it from the API's view).
// - Any ARP/NDP frame in which another MAC claims an IP we answer is a
//   duplicate. Against another Ballast speaker exactly one backs off, by a
//   rule both compute from the same inputs (the IP and the two MACs); the
//   one that backs off probes again until the other is gone. Against a
//   foreign host we do not fight: we keep answering, report it, and defend
//   with one announcement at most every 10 s (RFC 5227 §2.4 (b)).
import { createHash } from 'node:crypto';
import type { AllowedInterfaces } from './ownership.ts';

export type ClaimMode = 'agreed' | 'agreed-after-probe' | 'probe-first';

export interface ClaimEntry {
  readonly allowed: AllowedInterfaces;
  readonly mode: ClaimMode;
}

/** IP text → how to claim it. Replaced whole by the speaker. */
export type ClaimTable = ReadonlyMap<string, ClaimEntry>;

export interface ClaimPolicy {
  /** How long a probe's answers are awaited. */
  readonly probeWaitMs: number;
  /** A second probe this long after the first, in case one is lost. */
  readonly probeRepeatMs: number;
  /** After an IP is taken over, one check this long later (the old owner's answers would show by then). */
  readonly verifyAfterMs: number;
  /** Then a check this often (± jitter). */
  readonly verifyEveryMs: number;
  /** An IP we backed off from (another speaker won it) is probed again this often (± jitter): we resume when it is gone. */
  readonly yieldedRecheckMs: number;
  /** An IP a probe found taken before we claimed it is probed again this often (± jitter). */
  readonly heldRecheckMs: number;
  /** At most one defending announcement per IP this often against a foreign host (RFC 5227 DEFEND_INTERVAL). */
  readonly defendForeignEveryMs: number;
  /** ...and against another speaker that loses the rule. */
  readonly defendPeerEveryMs: number;
  /** ± this fraction on every periodic timer, so speakers do not probe in step. */
  readonly jitter: number;
}

export const DEFAULT_CLAIM_POLICY: ClaimPolicy = {
  probeWaitMs: 80,
  probeRepeatMs: 30,
  verifyAfterMs: 150,
  verifyEveryMs: 30_000,
  yieldedRecheckMs: 300,
  heldRecheckMs: 1_000,
  defendForeignEveryMs: 10_000,
  defendPeerEveryMs: 1_000,
  jitter: 0.25,
};

export type ConflictOutcome =
  /** Another speaker answers too and wins the rule: we stopped answering. */
  | 'yielded'
  /** Another speaker answers too and loses the rule: we keep answering (and announce so it sees us). */
  | 'kept'
  /** A foreign host answers too: we keep answering and report it. */
  | 'tolerated'
  /** Someone else answered our probe before we claimed: we do not. */
  | 'held';

export type ClaimAction =
  | { readonly type: 'probe'; readonly ip: string }
  /** Start (or restart) the takeover announcements. */
  | { readonly type: 'announce'; readonly ip: string }
  /** One announcement now. */
  | { readonly type: 'defend'; readonly ip: string }
  | { readonly type: 'conflict'; readonly ip: string; readonly mac: string; readonly peer: string | undefined; readonly outcome: ConflictOutcome }
  /** A held or yielded IP: nobody answered the recheck, we answer again. */
  | { readonly type: 'resumed'; readonly ip: string };

interface Probing {
  readonly phase: 'probing';
  /** Answers seen after this count against the probe. */
  readonly since: number;
  readonly until: number;
  repeatAt: number | undefined;
  /** Who answered, if anyone: we will not claim. */
  seen: { mac: string; peer: string | undefined } | undefined;
  /** Held or yielded before this probe: the outcome if someone answers. */
  readonly after: 'held' | 'yielded' | 'claim';
}

interface Active {
  readonly phase: 'active';
  nextVerify: number;
  lastDefend: number;
}

interface Held {
  readonly phase: 'held' | 'yielded';
  readonly holder: string;
  recheckAt: number;
}

type State = Probing | Active | Held;

export class Claims {
  readonly #policy: ClaimPolicy;
  readonly #random: () => number;
  #table: ClaimTable = new Map();
  readonly #states = new Map<string, State>();

  constructor(policy: ClaimPolicy = DEFAULT_CLAIM_POLICY, random: () => number = Math.random) {
    this.#policy = policy;
    this.#random = random;
  }

  get table(): ClaimTable {
    return this.#table;
  }

  /** Whether to answer requests for `ip` now (the fence holds back agreed IPs while this speaker lacks a majority). */
  answering(ip: string, fenced: boolean): boolean {
    const state = this.#states.get(ip);
    if (state?.phase !== 'active') return false;
    return !fenced || this.#table.get(ip)?.mode === 'probe-first';
  }

  /** What is going on with an IP, for the log and metrics. */
  phase(ip: string): State['phase'] | undefined {
    return this.#states.get(ip)?.phase;
  }

  setTable(table: ClaimTable, now: number): ClaimAction[] {
    const actions: ClaimAction[] = [];
    const previous = this.#table;
    this.#table = table;
    for (const ip of this.#states.keys()) if (!table.has(ip)) this.#states.delete(ip);
    for (const [ip, entry] of table) {
      const before = previous.get(ip);
      const state = this.#states.get(ip);
      if (entry.mode === 'agreed') {
        // Agreed and already ours (a probe before answering under way goes on), or held back for another speaker: keep that.
        if (state !== undefined && (before?.mode === 'agreed' || before?.mode === 'agreed-after-probe')) continue;
        if (state?.phase === 'yielded') continue;
        this.#activate(ip, now, this.#policy.verifyAfterMs, actions);
      } else {
        // Probe-first: what we answer under an agreement is checked again before we keep it.
        if (state !== undefined && before?.mode === entry.mode) continue;
        // Agreed after a probe, but agreed and ours already: nothing to ask.
        if (entry.mode === 'agreed-after-probe' && state !== undefined && before?.mode === 'agreed') continue;
        this.#probe(ip, now, 'claim', actions);
      }
    }
    return actions;
  }

  /**
   * A link came up that the probes behind these claims never reached (it was
   * down, or is new: a node reconnected while it had claimed from the API's
   * view alone). Probe-first IPs answered now are probed again, there too,
   * before they are answered: someone on that link may hold them.
   */
  reprobe(ips: Iterable<string>, now: number): ClaimAction[] {
    const actions: ClaimAction[] = [];
    for (const ip of ips) if (this.#table.get(ip)?.mode === 'probe-first' && this.#states.get(ip)?.phase === 'active') this.#probe(ip, now, 'claim', actions);
    return actions;
  }

  /**
   * Another MAC claims `ip` (it answered our probe, announced it, or answered
   * for it). `peer`: the speaker that MAC belongs to, if it is one.
   */
  claimSeen(ip: string, mac: string, peer: string | undefined, ourMac: string, now: number): ClaimAction[] {
    const state = this.#states.get(ip);
    if (state === undefined || mac === ourMac) return [];
    const actions: ClaimAction[] = [];
    switch (state.phase) {
      case 'probing':
        if (now >= state.since && state.seen === undefined) state.seen = { mac, peer };
        return actions;
      case 'held':
      case 'yielded':
        return actions;
      case 'active': {
        if (peer === undefined) {
          actions.push({ type: 'conflict', ip, mac, peer, outcome: 'tolerated' });
          this.#defend(state, ip, now, this.#policy.defendForeignEveryMs, actions);
          return actions;
        }
        if (keeps(ip, ourMac, mac)) {
          actions.push({ type: 'conflict', ip, mac, peer, outcome: 'kept' });
          this.#defend(state, ip, now, this.#policy.defendPeerEveryMs, actions);
          return actions;
        }
        this.#states.set(ip, { phase: 'yielded', holder: mac, recheckAt: now + this.#jittered(this.#policy.yieldedRecheckMs) });
        actions.push({ type: 'conflict', ip, mac, peer, outcome: 'yielded' });
        return actions;
      }
    }
  }

  /** Runs every timer due by `now`. */
  tick(now: number): ClaimAction[] {
    const actions: ClaimAction[] = [];
    for (const [ip, state] of this.#states) {
      switch (state.phase) {
        case 'probing':
          if (state.repeatAt !== undefined && now >= state.repeatAt) {
            state.repeatAt = undefined;
            // Late (a stalled loop): the wait is over, a repeat would count for nothing.
            if (now < state.until) actions.push({ type: 'probe', ip });
          }
          if (now < state.until) break;
          if (state.seen === undefined) {
            if (state.after !== 'claim') actions.push({ type: 'resumed', ip });
            this.#activate(ip, now, this.#policy.verifyEveryMs, actions);
          } else {
            const outcome = state.after === 'yielded' ? 'yielded' : 'held';
            const recheck = outcome === 'yielded' ? this.#policy.yieldedRecheckMs : this.#policy.heldRecheckMs;
            this.#states.set(ip, { phase: outcome, holder: state.seen.mac, recheckAt: now + this.#jittered(recheck) });
            if (state.after === 'claim') actions.push({ type: 'conflict', ip, mac: state.seen.mac, peer: state.seen.peer, outcome: 'held' });
          }
          break;
        case 'active':
          if (now >= state.nextVerify) {
            state.nextVerify = now + this.#jittered(this.#policy.verifyEveryMs);
            actions.push({ type: 'probe', ip });
          }
          break;
        case 'held':
        case 'yielded':
          if (now >= state.recheckAt) this.#probe(ip, now, state.phase, actions);
          break;
      }
    }
    return actions;
  }

  nextDeadline(): number | undefined {
    let next: number | undefined;
    const consider = (t: number | undefined): void => {
      if (t !== undefined && (next === undefined || t < next)) next = t;
    };
    for (const state of this.#states.values()) {
      if (state.phase === 'probing') {
        consider(state.repeatAt);
        consider(state.until);
      } else if (state.phase === 'active') consider(state.nextVerify);
      else consider(state.recheckAt);
    }
    return next;
  }

  #activate(ip: string, now: number, verifyIn: number, actions: ClaimAction[]): void {
    this.#states.set(ip, { phase: 'active', nextVerify: now + verifyIn, lastDefend: -Infinity });
    actions.push({ type: 'announce', ip });
  }

  #probe(ip: string, now: number, after: Probing['after'], actions: ClaimAction[]): void {
    const { probeWaitMs, probeRepeatMs } = this.#policy;
    this.#states.set(ip, { phase: 'probing', since: now, until: now + probeWaitMs, repeatAt: probeRepeatMs < probeWaitMs ? now + probeRepeatMs : undefined, seen: undefined, after });
    actions.push({ type: 'probe', ip });
  }

  #defend(state: Active, ip: string, now: number, every: number, actions: ClaimAction[]): void {
    if (now - state.lastDefend < every) return;
    state.lastDefend = now;
    actions.push({ type: 'defend', ip });
  }

  #jittered(ms: number): number {
    return ms * (1 + this.#policy.jitter * (2 * this.#random() - 1));
  }
}

/**
 * Which of two speakers answering one IP keeps it: the lower
 * sha256(mac#ip). Both compute it from the same inputs, so exactly one backs
 * off; keyed by IP, so no speaker always wins.
 */
export function keeps(ip: string, ourMac: string, theirMac: string): boolean {
  const ours = createHash('sha256').update(`${ourMac}#${ip}`).digest('hex');
  const theirs = createHash('sha256').update(`${theirMac}#${ip}`).digest('hex');
  return ours < theirs || (ours === theirs && ourMac < theirMac);
}
