// The main thread's view of who is alive: the wire worker's latest snapshot,
// turned into what election needs — whom to elect over, each member's view
// by name (for agreement), and whether a majority vouches for us (quorum).
import { majorityOf, nameHash, quorum, type QuorumVerdict } from '../liveness/index.ts';
import type { FenceRule, LivenessSnapshot, PeerSnapshot } from './wire-protocol.ts';
import { monotonicMs } from './wire-protocol.ts';

export const LISTENING: LivenessSnapshot = {
  at: 0,
  incarnation: '',
  listening: true,
  listeningUntil: Infinity,
  heard: [],
  mutual: [],
  members: [],
  supporters: [],
  peers: [],
  nextDeadline: undefined,
};

export interface QuorumState {
  readonly verdict: QuorumVerdict;
  /** Ourselves and our members: the view agreed elections run over. */
  readonly view: ReadonlySet<string>;
  /** Each member's and supporter's view by name ('unknown' when it did not fit its beat). Hashes of nodes we do not know are left out: they are no candidates here. */
  readonly peerViews: ReadonlyMap<string, ReadonlySet<string> | 'unknown'>;
  readonly fence: FenceRule;
  /**
   * A peer we hear acts on a view that makes a majority and leaves us out: its
   * side has taken (or will take) our IPs. Detached, we then claim nothing,
   * even where our probes cannot reach them (our frames to them are lost).
   */
  readonly majorityWithoutUs: string | undefined;
  readonly supporters: ReadonlySet<string>;
}

export class LivenessView {
  readonly #self: string;
  #snapshot: LivenessSnapshot = LISTENING;
  /** Every name we might meet in a view: nodes in the model and speakers heard. */
  readonly #byHash = new Map<string, string>();

  constructor(self: string) {
    this.#self = self;
    this.learn([self]);
  }

  get snapshot(): LivenessSnapshot {
    return this.#snapshot;
  }

  set snapshot(snapshot: LivenessSnapshot) {
    this.#snapshot = snapshot;
    this.learn(snapshot.heard);
  }

  /** Node names (from the model) whose hashes may show up in views. */
  learn(names: Iterable<string>): void {
    for (const name of names) this.#byHash.set(nameHash(name), name);
  }

  listening(now = monotonicMs()): boolean {
    return this.#snapshot.listening && now < this.#snapshot.listeningUntil;
  }

  peer(name: string): PeerSnapshot | undefined {
    return this.#snapshot.peers.find((p) => p.name === name);
  }

  /**
   * The verdict for this moment. `readyInAPI`: speakers the API shows Ready
   * (undefined while the API view is unknown); `leaseUntil`: until when we
   * hold the tie-break Lease.
   */
  quorum(readyInAPI: ReadonlySet<string> | undefined, leaseUntil: number | null, now = monotonicMs()): QuorumState {
    const s = this.#snapshot;
    const supporters = new Set(s.supporters);
    const leaseHeld = (leaseUntil !== null && leaseUntil > now) || [...supporters].some((n) => (this.peer(n)?.leaseUntil ?? -Infinity) > now);
    const verdict = quorum({ self: this.#self, readyInAPI, mutual: new Set(s.mutual), supporters, tieLease: leaseHeld });
    const view = new Set([this.#self, ...s.members]);
    // Every member's view, and every supporter's: a speaker that vouches for us must agree too
    // (a joining speaker vouches before it is a member; speaker/liveness/model found the case).
    const peerViews = new Map<string, ReadonlySet<string> | 'unknown'>();
    for (const member of new Set([...s.members, ...s.supporters])) {
      const p = this.peer(member);
      if (p === undefined) continue;
      peerViews.set(member, p.truncated ? 'unknown' : new Set(p.view.flatMap((h) => this.#byHash.get(h) ?? [])));
    }
    const cluster = verdict.cluster;
    const fence: FenceRule = { majority: majorityOf(cluster), tieAt: cluster % 2 === 0 ? cluster / 2 : null, leaseUntil };
    const selfHash = nameHash(this.#self);
    const without = s.peers.find((p) => p.latestState === 'active' && p.latestView.length >= majorityOf(cluster) && !p.latestView.includes(selfHash));
    return { verdict, view, peerViews, fence, majorityWithoutUs: without?.name, supporters };
  }
}
