// The speaker: from API objects and heartbeats to ARP/NDP answers on the
// right node. Wires the pure parts (cluster model, election, agreement,
// quorum, status and event plans) to the I/O (informers; the wire worker,
// which answers ARP/NDP, probes for duplicates, exchanges heartbeats and
// keeps membership; the state directory; ServiceL2Status, Event and Lease
// writes).
//
// How it decides what to claim (docs/ARCHITECTURE.md, "The speaker's protocol"):
// - agreed: a majority of the cluster vouches for it (or, in an even split,
//   its half holds the tie-break Lease): it elects over itself and its
//   members, and claims each group it wins that every member agrees it wins;
// - detached: otherwise. It elects over the speakers the API shows Ready, and
//   after a settling window (so a majority elsewhere has taken what it must)
//   claims its groups only where probes find nobody else answering.
// It elects at once when liveness changes (the failover path), shortly after
// API changes (20 ms, so a burst of watch events costs one election), and
// when a settling window ends.
import type { ApiObject } from '../../shared/k8s/index.ts';
import type { OwnerReference } from '../../shared/api/index.ts';
import type { ApiAccess, EventRecorder } from '../../shared/k8s/index.ts';
import type { Logger, ReadinessChecks } from '../../shared/observability/index.ts';
import { err, ok } from '../../shared/result.ts';
import {
  ClusterModel,
  EMPTY_REPORT_MEMORY,
  interfaceProblem,
  namedInterfaces,
  planInterfaces,
  planReports,
  reporterFor,
  type InterfacePlan,
  type ModelKind,
  type ReportMemory,
} from '../core/index.ts';
import { agree, announcementsFor, elect, RendezvousMemo, type Election, type GroupDecision } from '../election/index.ts';
import { readInterfaces, type ClaimMode, type ClaimTable, type InterfaceDescriptor, type L2Event } from '../l2/index.ts';
import { DEFAULT_DEAD_AFTER_BEATS, nameHash } from '../liveness/index.ts';
import { ApiWatch } from './api-watch.ts';
import { HeartbeatKeySource } from './heartbeat-key.ts';
import { LivenessView, type QuorumState } from './liveness.ts';
import { recordWireStats, type SpeakerMetrics } from './metrics.ts';
import { StateStore } from './state-store.ts';
import { StatusWriter } from './status-writer.ts';
import { TieBreak } from './tie-break.ts';
import type { SpawnedWire } from './wire-spawn.ts';
import { Wire, type Claiming } from './wire.ts';
import { monotonicMs, type LivenessSnapshot } from './wire-protocol.ts';

export interface SpeakerOptions {
  readonly access: ApiAccess;
  readonly node: string;
  readonly namespace: string;
  readonly loadBalancerClass: string | undefined;
  readonly heartbeatSecret: string;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatPort: number;
  readonly stateDir: string;
  /** Interface name patterns to leave out, besides MetalLB's defaults. */
  readonly extraExcludes: readonly RegExp[];
  /** This speaker's Pod (POD_NAME), the owner of its ServiceL2Status objects. */
  readonly podName: string | undefined;
  readonly log: Logger;
  readonly metrics: SpeakerMetrics;
  readonly events: EventRecorder;
  readonly sysfsRoot?: string;
  /** The wire worker speaker/main.ts started before loading this module (wire-spawn.ts). */
  readonly wireWorker?: SpawnedWire;
}

/** Interfaces are read again this often; carrier changes are seen sooner, through the wire worker. */
const INTERFACE_RESCAN_MS = 1_000;
const ELECTION_DEBOUNCE_MS = 20;
/** After the LEAVING beats, keep answering until every member has let us go (it takes one beat each), at most this long. */
export const HANDOVER_GRACE_MS = 150;
/** How long to wait for the informers before falling back to the view saved on disk (the API is then likely away). */
const STATE_GRACE_MS = 3_000;
/** A speaker Ready in the API but never heard for this long is reported. */
const UNHEARD_AFTER_MS = 10_000;
const UNHEARD_CHECK_MS = 5_000;
/** Detached claims wait this much past a window (see the detached branch of #runElection). */
const SETTLE_EXTRA_MS = 50;
const DETACHED_WARNING_MS = 1_000;

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

type Mode = 'waiting' | 'agreed' | 'detached';

export class Speaker {
  readonly #opts: SpeakerOptions;
  readonly #log: Logger;
  readonly #model: ClusterModel;
  readonly #memo = new RendezvousMemo();
  readonly #wire: Wire;
  readonly #liveness: LivenessView;
  readonly #tieBreak: TieBreak;
  readonly #store: StateStore;
  readonly #keySource: HeartbeatKeySource;
  readonly #watch: ApiWatch;
  readonly #statuses: StatusWriter;
  readonly #startedAt = monotonicMs();
  #hasKey = false;
  #muted = false;
  #interfaces: InterfaceDescriptor[] = [];
  #plan: InterfacePlan = { configured: [], up: [] };
  #named: string[] = [];
  #isolated = false;
  #election: Election | undefined;
  #alive: ReadonlySet<string> = new Set();
  #mode: Mode = 'waiting';
  #modeWhy = 'starting';
  /** When this speaker last stopped claiming under an agreement (or started): detached claims wait a window past it. */
  #agreedUntil = monotonicMs();
  #reports: ReportMemory = EMPTY_REPORT_MEMORY;
  #apiViewFromState = false;
  #immediate: NodeJS.Immediate | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #settleTimer: NodeJS.Timeout | undefined;
  #detachedWarning: NodeJS.Timeout | undefined;
  #handoffTimer: NodeJS.Timeout | undefined;
  /**
   * The last owner other than us of each group (key IP), in our elections under an agreement held
   * since: forgotten whenever we are not agreed (see #mayClaim).
   */
  #lastOtherOwner = new Map<string, string>();
  /** Groups (key IP) agreed ours but not claimed yet, and since when (monotonic ms). */
  #agreedSince = new Map<string, number>();
  #rescanTimer: NodeJS.Timeout | undefined;
  #unheardTimer: NodeJS.Timeout | undefined;
  #stateTimer: NodeJS.Timeout | undefined;
  #rescanning = false;
  #rescanAgain = false;
  #stopping = false;
  #stopped = false;
  readonly #unheard = new Set<string>();
  readonly #logged = new Map<string, string>();

  constructor(opts: SpeakerOptions) {
    this.#opts = opts;
    const log = (this.#log = opts.log);
    this.#model = new ClusterModel({ loadBalancerClass: opts.loadBalancerClass });
    this.#liveness = new LivenessView(opts.node);
    this.#wire = new Wire({
      node: opts.node,
      intervalMs: opts.heartbeatIntervalMs,
      port: opts.heartbeatPort,
      log: log.child({ part: 'wire' }),
      ...(opts.sysfsRoot === undefined ? {} : { sysfsRoot: opts.sysfsRoot }),
      ...(opts.wireWorker === undefined ? {} : { early: opts.wireWorker }),
      onLiveness: (snapshot) => this.#onLiveness(snapshot),
      onCarrier: (name, carrier) => this.#onCarrier(name, carrier),
      onMuted: (muted) => {
        this.#muted = muted;
        this.#requestElection('now');
      },
      onFence: (fenced, vouched) => {
        opts.metrics.fenced.set(fenced ? 1 : 0);
        // Fenced, the worker dropped our agreed IPs: elect again so they come back once an agreement holds.
        if (fenced) this.#requestElection('now');
        // Only worth a warning when it held agreed IPs: at start and after a rejoin the fence is up as a matter of course.
        if (fenced && this.#mode === 'agreed') this.#log.warn({ vouched }, 'fewer than a majority vouch for this speaker: it stopped answering its agreed IPs');
        else this.#log.debug({ vouched, fenced }, fenced ? 'fenced' : 'a majority vouches for this speaker');
      },
      onStats: (heartbeats, l2) => recordWireStats(opts.metrics, heartbeats, l2),
      onL2Event: (event) => this.#onL2Event(event),
      onOpenFailures: (failures) => {
        for (const f of failures) {
          this.#logOnce(`open:${f.interfaceName}:${f.protocol}`, f.error.code, () =>
            this.#log.warn({ interface: f.interfaceName, protocol: f.protocol, code: f.error.code }, `cannot answer on ${f.interfaceName}: ${f.error.message}`),
          );
        }
      },
    });
    this.#tieBreak = new TieBreak({ access: opts.access, namespace: opts.namespace, node: opts.node, log: log.child({ part: 'tie-break' }), onChange: () => this.#requestElection('now') });
    this.#store = new StateStore(opts.stateDir, opts.node, log);
    this.#keySource = new HeartbeatKeySource({ access: opts.access, namespace: opts.namespace, name: opts.heartbeatSecret, log, onKeys: (keys) => this.#setKeys(keys, true) });
    this.#watch = new ApiWatch({
      access: opts.access,
      namespace: opts.namespace,
      model: this.#model,
      log,
      onChange: (kind) => this.#onModelChange(kind),
      onNodeDeleted: () => {},
      onStatusChange: () => this.#statuses.kick(),
      onComplete: () => {
        this.#apiViewFromState = false;
        clearTimeout(this.#stateTimer);
        this.#requestElection('now');
      },
    });
    this.#statuses = new StatusWriter({
      access: opts.access,
      namespace: opts.namespace,
      self: opts.node,
      informer: this.#watch.statuses,
      log,
      owner: () => this.#owner(),
      onWrite: (op, done) => opts.metrics.statusWrites.inc({ op, result: done ? 'ok' : 'error' }),
    });
  }

  /** Starts listening, watching and answering; resolves once the first interface scan is applied. */
  async start(): Promise<void> {
    const loaded = this.#store.load();
    if (loaded.keys.length > 0) {
      this.#keySource.seed(loaded.keys);
      this.#setKeys(loaded.keys, false);
    }
    // The saved view is a fallback for an API server that does not answer, never a
    // head start over one that does: it is used only if the informers have not
    // listed within the grace, and only when it is young enough to trust.
    if (loaded.model !== undefined) {
      this.#stateTimer = setTimeout(() => {
        if (this.#watch.complete || this.#stopped) return;
        const errors = this.#model.load(loaded.model!);
        this.#apiViewFromState = true;
        this.#log.warn({ savedAt: loaded.savedAt, services: this.#model.serviceKeys().length, ignored: errors.length }, 'the API server has not answered: using the cluster state saved on disk');
        this.#requestElection('now');
      }, STATE_GRACE_MS);
    } else if (loaded.problem !== undefined) {
      this.#log.warn(`not using the saved cluster state: ${loaded.problem}`);
    }
    this.#wire.start();
    await this.#rescan();
    this.#rescanTimer = setInterval(() => void this.#rescan(), INTERFACE_RESCAN_MS);
    this.#unheardTimer = setInterval(() => this.#checkUnheard(), UNHEARD_CHECK_MS);
    this.#watch.start();
    this.#keySource.start();
    this.#runElection();
  }

  /** Graceful: LEAVING beats so peers take over at once, answering until they have, then silence. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#log.info({ announcing: this.#wire.claiming.table.size }, 'shutting down: handing our IPs over');
    await this.#wire.leave();
    // Members that heard LEAVING drop us from their views within a beat; agreement then
    // shrinks our table as each does. Wait for that, or the grace, whichever comes first.
    const until = monotonicMs() + HANDOVER_GRACE_MS;
    while (monotonicMs() < until && this.#wire.claiming.table.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    this.#stopped = true;
    clearImmediate(this.#immediate);
    clearTimeout(this.#debounce);
    clearTimeout(this.#settleTimer);
    clearTimeout(this.#detachedWarning);
    clearTimeout(this.#handoffTimer);
    clearTimeout(this.#stateTimer);
    clearInterval(this.#rescanTimer);
    clearInterval(this.#unheardTimer);
    this.#statuses.stop();
    this.#keySource.stop();
    await this.#tieBreak.stop();
    await this.#wire.stop();
    await this.#watch.stop();
    this.#store.flush();
  }

  /** For fault tests (BALLAST_FAULT_INJECTION): the wire worker ends as if it crashed. */
  crashWireForTest(): void {
    this.#wire.crashForTest();
  }

  addReadinessChecks(checks: ReadinessChecks): void {
    checks.add('informers', () => this.#watch.readiness());
    checks.add('heartbeat-key', () => this.#keySource.readiness());
    checks.add('liveness', () => {
      if (this.#muted) return err('heartbeats stopped: the main thread stalled');
      if (this.#liveness.listening()) return err('listening for peers before claiming IPs');
      return ok(undefined);
    });
    checks.add('interfaces', () =>
      this.#plan.up.length > 0 ? ok(undefined) : err(`no interface to announce on (${this.#interfaces.map((i) => i.name).join(', ') || 'none found'}; see the interface log lines)`),
    );
  }

  #setKeys(keys: Uint8Array[], fromApi: boolean): void {
    const had = this.#hasKey;
    this.#hasKey = keys.length > 0;
    this.#wire.setKeys(keys);
    if (fromApi) this.#store.saveKeys(keys);
    if (had !== this.#hasKey) this.#requestElection('now');
  }

  #onModelChange(kind: ModelKind): void {
    this.#store.saveModel(() => this.#model.snapshot());
    if (kind === 'nodes') {
      this.#liveness.learn(this.#model.nodeNames());
      this.#updatePeers();
    }
    this.#requestElection(kind === 'speakerPods' ? 'now' : 'soon');
  }

  /** Heartbeats over UDP go to every other node's addresses. */
  #updatePeers(): void {
    const targets = [...this.#model.nodeAddresses()].filter(([name, addresses]) => name !== this.#opts.node && addresses.length > 0).map(([name, addresses]) => ({ name, addresses }));
    targets.sort((a, b) => (a.name < b.name ? -1 : 1));
    this.#wire.setPeers(this.#model.nodeNames().sort(), targets);
  }

  /** Who is alive changed: elect at once (the failover path). */
  #onLiveness(snapshot: LivenessSnapshot): void {
    const before = this.#liveness.snapshot;
    this.#liveness.snapshot = snapshot;
    if (!sameList(before.members, snapshot.members)) this.#log.info({ members: snapshot.members, heard: snapshot.heard }, 'members changed');
    this.#requestElection('now');
  }

  /** From the wire worker, within one beat of the change. */
  #onCarrier(name: string, carrier: boolean): void {
    this.#log.info({ interface: name }, carrier ? 'carrier up' : 'carrier lost');
    void this.#rescan();
  }

  #requestElection(urgency: 'now' | 'soon'): void {
    if (this.#stopped || this.#immediate !== undefined) return;
    if (urgency === 'now') {
      this.#immediate = setImmediate(() => {
        this.#immediate = undefined;
        this.#runElection();
      });
    } else {
      this.#debounce ??= setTimeout(() => {
        this.#debounce = undefined;
        this.#runElection();
      }, ELECTION_DEBOUNCE_MS);
    }
  }

  /** Speakers whose Pods the API shows Ready; undefined while the view is not the API's (or a young enough saved one). */
  #apiView(): ReadonlySet<string> | undefined {
    if (!this.#watch.complete && !this.#apiViewFromState) return undefined;
    return new Set(this.#model.readyInAPI());
  }

  #runElection(): void {
    if (this.#stopped) return;
    clearTimeout(this.#debounce);
    this.#debounce = undefined;
    const { node, metrics } = this.#opts;
    const now = monotonicMs();
    const started = performance.now();
    const apiView = this.#apiView();
    const q = this.#liveness.quorum(apiView, this.#tieBreak.heldUntil(now), now);
    this.#tieBreak.want(q.verdict.mode === 'detached' ? q.verdict.why === 'tie' : q.verdict.via === 'lease');

    let mode: Mode;
    let why: string;
    let election: Election | undefined;
    let alive: ReadonlySet<string> = new Set();
    let claims = new Map<string, { allowed: 'all' | ReadonlySet<string>; mode: ClaimMode }>();
    const electOver = (live: ReadonlySet<string>): Election => elect(this.#model.electionInput(live), this.#memo);
    if (!this.#hasKey || this.#muted || this.#liveness.listening(now) || apiView === undefined) {
      this.#lastOtherOwner = new Map();
      mode = 'waiting';
      why = !this.#hasKey ? 'no heartbeat key' : this.#muted ? 'muted' : this.#liveness.listening(now) ? 'listening' : 'no API view yet';
    } else if (q.verdict.mode === 'agreed') {
      mode = 'agreed';
      why = q.verdict.via === 'lease' ? `half of ${q.verdict.cluster} vouch, and the tie-break Lease is ours` : `${q.verdict.vouched} of ${q.verdict.cluster} vouch`;
      alive = q.view;
      election = electOver(alive);
      const agreement = agree({ self: node, view: q.view, peerViews: q.peerViews, election, electOver });
      const waiting = new Map(agreement.waiting);
      const agreedSince = new Map<string, number>();
      const probeFirst: string[] = [];
      // Who the API's view elects, asked only for a group we take by hand-back (rare: a rejoin, a heal).
      let apiOwners: Map<string, string | undefined> | undefined;
      const apiOwner = (key: string): string | undefined => {
        apiOwners ??= new Map(electOver(apiView).groups.map((g) => [g.key.text, g.owner]));
        return apiOwners.get(key);
      };
      for (const group of election.groups) {
        const key = group.key.text;
        if (group.owner !== node || !agreement.agreed.has(key)) continue;
        const claim = this.#mayClaim(group, q, now, apiOwner);
        if (typeof claim === 'string') {
          agreedSince.set(key, this.#agreedSince.get(key) ?? now);
          waiting.set(key, claim);
          continue;
        }
        if (claim.mode === 'agreed-after-probe' && !this.#wire.claiming.table.has(group.key.text)) probeFirst.push(key);
        for (const [ip, a] of group.announcements) claims.set(ip, { allowed: a.interfaces, mode: claim.mode });
      }
      if (probeFirst.length > 0) this.#log.debug({ groups: probeFirst }, 'claiming after a probe: the API view gives these to a speaker not heard, which may still answer them');
      this.#agreedSince = agreedSince;
      if (waiting.size > 0) this.#log.debug({ waiting: Object.fromEntries(waiting) }, 'groups waiting');
      this.#agreedUntil = now;
      // Who else owned each group, as of our latest agreed election that gave it to someone else.
      const lastOther = new Map<string, string>();
      for (const g of election.groups) {
        const other = g.owner !== undefined && g.owner !== node ? g.owner : this.#lastOtherOwner.get(g.key.text);
        if (other !== undefined) lastOther.set(g.key.text, other);
      }
      this.#lastOtherOwner = lastOther;
    } else {
      // Our agreed claims stopped now (the worker's fence may have stopped them a little earlier).
      if (this.#mode === 'agreed') this.#agreedUntil = now;
      this.#agreedSince = new Map();
      this.#lastOtherOwner = new Map();
      mode = 'detached';
      why = q.verdict.why === 'tie' ? `half of ${q.verdict.cluster} vouch, and the tie-break Lease is not ours` : `${q.verdict.vouched} of ${q.verdict.cluster} vouch`;
      alive = apiView;
      election = electOver(alive);
      // A majority elsewhere may be taking our IPs over: it drops us at most a window after it
      // last heard us, which was before we stopped claiming under an agreement (or before we
      // started listening). After that, probes tell whether it did.
      const settledAt = Math.max(this.#agreedUntil, this.#liveness.snapshot.listeningUntil) + windowOf(this.#opts.heartbeatIntervalMs) + SETTLE_EXTRA_MS;
      if (q.majorityWithoutUs !== undefined) {
        why += `; ${q.majorityWithoutUs} acts with a majority that leaves this speaker out, so it claims nothing`;
      } else if (now >= settledAt) {
        for (const [ip, a] of announcementsFor(election, node)) claims.set(ip, { allowed: a.interfaces, mode: 'probe-first' });
      } else {
        clearTimeout(this.#settleTimer);
        this.#settleTimer = setTimeout(() => this.#requestElection('now'), settledAt - now + 1);
      }
    }
    // Leaving: keep answering what we hold until members have let us go, but take nothing new
    // (several speakers stopping at once must not claim each other's IPs on the way out).
    if (this.#stopping) claims = new Map([...claims].filter(([ip]) => this.#wire.claiming.table.has(ip)));
    const table: ClaimTable = claims;
    let awaiting: number | null = null;
    for (const since of this.#agreedSince.values()) awaiting = awaiting === null ? since : Math.min(awaiting, since);
    if (awaiting !== null) {
      // Peers we do not hear count as having let go a window after the agreement began.
      clearTimeout(this.#handoffTimer);
      this.#handoffTimer = setTimeout(() => this.#requestElection('now'), awaiting + windowOf(this.#opts.heartbeatIntervalMs) - now + 1);
    }
    const claiming: Claiming = { table, view: [...q.view].sort(), fence: q.fence, mode, awaitingAcksSince: awaiting };
    const before = this.#wire.claiming;
    if (!sameClaiming(before, claiming)) {
      this.#wire.setClaiming(claiming);
      this.#log.info({ ips: table.size, mode, view: claiming.view }, 'announcing');
    }
    if (mode !== this.#mode || why !== this.#modeWhy) {
      this.#log.info({ mode, why, view: [...alive].sort() }, mode === 'agreed' ? 'claiming on the agreed view' : mode === 'detached' ? 'detached: claiming from the API view, probing first' : 'claiming nothing yet');
      metrics.quorumMode.set({ mode: this.#mode }, 0);
      metrics.quorumMode.set({ mode }, 1);
      // A speaker is detached for a moment whenever it joins (until its peers vouch for it); one that stays so is worth a warning.
      if (mode === 'detached' && this.#mode !== 'detached') {
        clearTimeout(this.#detachedWarning);
        this.#detachedWarning = setTimeout(() => {
          if (this.#mode === 'detached' && !this.#stopping) this.#log.warn({ why: this.#modeWhy }, 'still detached: fewer than a majority of the speakers the API shows Ready vouch for this one; it claims only its share of the API view, after probing');
        }, DETACHED_WARNING_MS);
      }
    }
    this.#mode = mode;
    this.#modeWhy = why;
    metrics.electionDuration.observe((performance.now() - started) / 1000);
    metrics.elections.inc();
    metrics.speakersAlive.set(alive.size);
    let v4 = 0;
    for (const ip of table.keys()) if (!ip.includes(':')) v4++;
    metrics.announcedIPs.set({ family: 'IPv4' }, v4);
    metrics.announcedIPs.set({ family: 'IPv6' }, table.size - v4);
    this.#election = election;
    this.#alive = alive;

    const named = namedInterfaces(this.#model.advertisements(), this.#model.node(node)?.labels);
    if (!sameList(named, this.#named)) {
      this.#named = named;
      this.#applyInterfaces();
    }
    this.#report(now);
  }

  /**
   * Whether a group agreed ours may be claimed now (undefined), or why it waits.
   * One we answer already stays ours. One whose last other owner in our agreed
   * elections has left our view failed over: that owner stopped answering before
   * any of us could drop it (the fence), so we take it at once — but only if we
   * stayed agreed since: while we were detached or waiting, that owner may have
   * been detached too, answering its share of the API view unfenced. Any other comes
   * to us because we (re)joined or a speaker above it left only our view, and
   * a speaker ranked below us may still answer it, on older views of speakers
   * we both hear: we take it once each such speaker we hear has acknowledged a
   * beat we sent after the agreement began, with us in its view (it has let
   * go), and a window after the agreement began for any we do not hear (it has
   * lost its support, or seen the newer views, by then). The rule is the one
   * speaker/liveness/model checks.
   */
  #mayClaim(group: GroupDecision, q: QuorumState, now: number, apiOwner: (key: string) => string | undefined): string | { mode: 'agreed' | 'agreed-after-probe' } {
    const key = group.key.text;
    const table = this.#wire.claiming.table;
    const agreed = { mode: 'agreed' } as const;
    if (this.#wire.claiming.mode === 'agreed' && [...group.ips].every((ip) => table.get(ip.text)?.mode?.startsWith('agreed'))) return agreed;
    const before = this.#lastOtherOwner.get(key);
    if (before !== undefined && !q.view.has(before)) return agreed;
    const since = this.#agreedSince.get(key) ?? now;
    const self = this.#opts.node;
    const selfHash = nameHash(self);
    // Every node the election knows, best first for this group (remembered by the memo).
    const order = this.#memo.order(group.key);
    const below = order.slice(order.indexOf(self) + 1);
    const heard = new Set([...q.view, ...q.supporters]);
    for (const k of below) {
      if (heard.has(k)) {
        const peer = this.#liveness.peer(k);
        if (peer === undefined || !peer.view.includes(selfHash) || peer.ackedAt < since) return `${k} has not yet acknowledged that it let go`;
      } else if (now < since + windowOf(this.#opts.heartbeatIntervalMs)) {
        return `${k} is not heard: waiting a window`;
      }
    }
    // The API's view gives the group to a speaker we do not hear. Agreed, it would have fenced itself; but it
    // may be detached (cut off, or back from a partition before it hears anyone) and answering the group as its
    // share of that view. Probe first: if it answers, it keeps the IP until it joins us and the views agree.
    const inApi = apiOwner(key);
    if (inApi !== undefined && inApi !== self && !heard.has(inApi)) return { mode: 'agreed-after-probe' };
    return agreed;
  }

  /**
   * Events and ServiceL2Status, once the view is the API's and this speaker
   * takes part under an agreement: not while it waits (listening, muted, no
   * key), is detached or isolated, or leaves.
   */
  #report(now: number): void {
    const election = this.#election;
    // Detached: what the API view elects is not what this node answers (probes decide), so it reports nothing.
    if (this.#isolated || this.#mode !== 'agreed' || this.#stopping || this.#liveness.listening(now)) {
      this.#statuses.pause();
      // Whatever we claim meanwhile is not announced to the cluster; taking part again is a takeover.
      if (this.#reports.announcing.size > 0) this.#reports = { ...this.#reports, announcing: new Set() };
      return;
    }
    if (election === undefined || !this.#watch.complete) return;
    const { node, events } = this.#opts;
    const alive = this.#alive;
    const isReporter = (service: string): boolean => reporterFor(service, alive) === node;
    const planned = planReports(this.#reports, {
      self: node,
      election,
      isReporter,
      interfaceProblem: (service) => {
        const decision = election.services.get(service);
        return decision?.announced ? interfaceProblem(node, decision.interfaces, this.#interfaces, this.#plan.up) : undefined;
      },
    });
    this.#reports = planned.memory;
    for (const e of planned.events) {
      this.#log.info({ service: e.service, reason: e.reason }, e.message);
      const svc = this.#watch.services.cache.get(e.service);
      if (svc === undefined) continue;
      if (e.type === 'Normal') events.normal(svc, e.reason, e.message);
      else events.warning(svc, e.reason, e.message);
    }
    this.#statuses.update(election.services, alive, isReporter);
  }

  /**
   * Speakers the API shows Ready that this one never heard: a network that
   * drops our heartbeats (both UDP and raw frames) between those nodes. Said
   * once per peer on the speaker's own Pod and in the log, and counted.
   */
  #checkUnheard(): void {
    const now = monotonicMs();
    if (now - this.#startedAt < UNHEARD_AFTER_MS || !this.#watch.complete) return;
    const heard = new Set(this.#liveness.snapshot.peers.map((p) => p.name));
    const ready = this.#model.readyInAPI().filter((n) => n !== this.#opts.node);
    const unheard = ready.filter((n) => !heard.has(n));
    this.#opts.metrics.peersUnheard.set(unheard.length);
    for (const name of this.#unheard) if (!unheard.includes(name)) this.#unheard.delete(name);
    for (const name of unheard) {
      if (this.#unheard.has(name)) continue;
      this.#unheard.add(name);
      const message = `the speaker on ${name} is Ready in the API but none of its heartbeats reached this node (UDP port ${this.#opts.heartbeatPort} and EtherType 0x88B5 on ${this.#plan.configured.map((i) => i.name).join(', ') || 'no interface'}); while fewer than a majority are heard, this speaker claims only its share of the API's view, after probing`;
      this.#log.warn({ peer: name }, message);
      const pod = this.#ownPod();
      if (pod !== undefined) this.#opts.events.warning(pod, 'PeerUnheard', message);
    }
  }

  async #rescan(): Promise<void> {
    if (this.#stopped) return;
    if (this.#rescanning) {
      this.#rescanAgain = true;
      return;
    }
    this.#rescanning = true;
    try {
      do {
        this.#rescanAgain = false;
        this.#interfaces = await readInterfaces(this.#opts.sysfsRoot);
        if (!this.#stopped) this.#applyInterfaces();
      } while (this.#rescanAgain && !this.#stopped);
    } catch (e) {
      this.#log.warn({ err: (e as Error).message }, 'reading interfaces failed');
    } finally {
      this.#rescanning = false;
    }
  }

  #applyInterfaces(): void {
    const plan = planInterfaces(this.#interfaces, this.#opts.extraExcludes, this.#named);
    const isolated = plan.up.length === 0;
    const wasIsolated = this.#isolated;
    this.#isolated = isolated;
    const upNames = plan.up.map((i) => i.name);
    if (!sameList(upNames, this.#plan.up.map((i) => i.name)) || isolated !== wasIsolated) {
      this.#log.info({ up: upNames, configured: plan.configured.map((i) => i.name) }, isolated ? 'no interface up: not answering anywhere' : 'answering on interfaces');
    }
    this.#wire.setInterfaces(
      plan.configured.map((i) => i.name),
      plan.up,
    );
    this.#plan = plan;
    this.#opts.metrics.interfacesUp.set(plan.up.length);
    if (isolated !== wasIsolated) this.#requestElection('now');
  }

  #onL2Event(event: L2Event): void {
    switch (event.type) {
      case 'socket-error':
        this.#logOnce(`l2:${event.interfaceName}:${event.protocol}`, event.error.code, () =>
          this.#log.warn({ interface: event.interfaceName, protocol: event.protocol, code: event.error.code, fatal: event.error.fatal }, event.error.message),
        );
        return;
      case 'multicast-error':
        this.#logOnce(`mc:${event.interfaceName}:${event.group}`, `${event.op}:${event.code}`, () =>
          this.#log.warn({ interface: event.interfaceName, group: event.group, op: event.op, code: event.code }, 'multicast membership failed'),
        );
        return;
      case 'resumed':
        this.#log.info({ ip: event.ip }, 'nobody else answers for this IP any more: answering it again');
        return;
      case 'conflict':
        this.#onConflict(event);
        return;
    }
  }

  /** Another MAC answers for one of our IPs. */
  #onConflict(event: Extract<L2Event, { type: 'conflict' }>): void {
    const kind = event.peer === undefined ? 'foreign' : 'speaker';
    this.#opts.metrics.ipConflicts.inc({ kind, outcome: event.outcome });
    const who = event.peer === undefined ? `a host that is not a Ballast speaker (MAC ${event.mac})` : `the speaker on ${event.peer} (MAC ${event.mac})`;
    const what: Record<typeof event.outcome, string> = {
      yielded: 'it wins the tie rule, so this node stopped answering and checks again shortly',
      kept: 'this node wins the tie rule and keeps answering; the other backs off',
      tolerated: 'this node keeps answering and defends the address at most every 10 s; clients may reach either host until one of them stops using it',
      held: 'this node did not claim it',
    };
    const message = `${event.ip} is also answered by ${who}: ${what[event.outcome]}`;
    this.#logOnce(`conflict:${event.ip}`, `${event.mac}:${event.outcome}`, () => this.#log.warn({ ip: event.ip, mac: event.mac, peer: event.peer, outcome: event.outcome }, message));
    if (event.peer !== undefined) return;
    // A foreign host: the user must fix the pool or that host. Events aggregate repeats.
    for (const svc of this.#servicesWithIP(event.ip)) this.#opts.events.warning(svc, 'IPConflict', message);
  }

  #servicesWithIP(ip: string): ApiObject[] {
    const decision = [...(this.#election?.services.values() ?? [])].filter((d) => d.ips.some((a) => a.text === ip));
    return decision.flatMap((d) => {
      const svc = this.#watch.services.cache.get(d.service);
      return svc === undefined ? [] : [svc];
    });
  }

  /** Logs a recurring condition when it first appears or changes, not on every occurrence. */
  #logOnce(key: string, value: string, log: () => void): void {
    if (this.#logged.get(key) === value) return;
    this.#logged.set(key, value);
    log();
  }

  #ownPod(): ApiObject | undefined {
    const owner = this.#owner();
    if (owner === undefined) return undefined;
    return { apiVersion: 'v1', kind: 'Pod', metadata: { name: owner.name, namespace: this.#opts.namespace, uid: owner.uid } };
  }

  #owner(): OwnerReference | undefined {
    const { podName, node } = this.#opts;
    const pods = this.#model.speakerPods();
    const pod = pods.find((p) => podName !== undefined && p.name === podName) ?? pods.find((p) => p.node === node);
    if (pod?.uid === undefined) return undefined;
    return { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid };
  }
}

function sameClaiming(a: Claiming, b: Claiming): boolean {
  if (a.mode !== b.mode || a.awaitingAcksSince !== b.awaitingAcksSince || !sameList(a.view, b.view) || JSON.stringify(a.fence) !== JSON.stringify(b.fence)) return false;
  if (a.table.size !== b.table.size) return false;
  for (const [ip, entry] of a.table) {
    const other = b.table.get(ip);
    if (other === undefined || other.mode !== entry.mode) return false;
    if (entry.allowed === 'all' || other.allowed === 'all') {
      if (entry.allowed !== other.allowed) return false;
    } else if (entry.allowed.size !== other.allowed.size || [...entry.allowed].some((n) => !(other.allowed as ReadonlySet<string>).has(n))) return false;
  }
  return true;
}

/** How long after a peer's last beat it is dropped, at our own interval. */
export function windowOf(intervalMs: number): number {
  return intervalMs * DEFAULT_DEAD_AFTER_BEATS;
}
