// The speaker: from API objects and heartbeats to ARP/NDP answers on the
// right node. Wires the pure parts (cluster model, election, membership,
// status and event plans) to the I/O (informers; the wire worker, which
// answers ARP/NDP and exchanges heartbeats; the state directory;
// ServiceL2Status and Event writes).
//
// When it elects: at once when liveness changes (a peer joined, left or
// expired: the failover path), shortly after API changes (20 ms, so a burst
// of watch events costs one election), and when an interface comes back from
// isolation. Liveness (liveness.ts) declares a peer dead only after the
// wire worker has read its sockets dry, so a stalled event loop never
// turns beats that did arrive into a false failover.
import type { OwnerReference } from '../../shared/api/index.ts';
import type { ApiAccess, EventRecorder } from '../../shared/k8s/index.ts';
import type { Logger, ReadinessChecks } from '../../shared/observability/index.ts';
import { err, ok } from '../../shared/result.ts';
import {
  ClusterModel,
  EMPTY_REPORT_MEMORY,
  interfaceProblem,
  namedInterfaces,
  ownershipTable,
  planInterfaces,
  planReports,
  reporterFor,
  sameOwnership,
  type InterfacePlan,
  type ModelKind,
  type ReportMemory,
} from '../core/index.ts';
import { elect, RendezvousMemo, type Election } from '../election/index.ts';
import { readInterfaces, type InterfaceDescriptor, type L2Event } from '../l2/index.ts';
import { DEFAULT_DEAD_AFTER_BEATS } from '../liveness/index.ts';
import { ApiWatch } from './api-watch.ts';
import { HeartbeatKeySource } from './heartbeat-key.ts';
import { LivenessTracker } from './liveness.ts';
import { recordWireStats, type SpeakerMetrics } from './metrics.ts';
import { Wire } from './wire.ts';
import { monotonicMs } from './wire-protocol.ts';
import { StateStore } from './state-store.ts';
import { StatusWriter } from './status-writer.ts';

export interface SpeakerOptions {
  readonly access: ApiAccess;
  readonly node: string;
  /** Random per process: tells this run's beats from an earlier one's. */
  readonly bootId: string;
  readonly namespace: string;
  readonly loadBalancerClass: string | undefined;
  readonly heartbeatSecret: string;
  readonly heartbeatIntervalMs: number;
  readonly stateDir: string;
  /** Interface name patterns to leave out, besides MetalLB's defaults. */
  readonly extraExcludes: readonly RegExp[];
  /** This speaker's Pod (POD_NAME), the owner of its ServiceL2Status objects. */
  readonly podName: string | undefined;
  readonly log: Logger;
  readonly metrics: SpeakerMetrics;
  readonly events: EventRecorder;
  readonly sysfsRoot?: string;
}

/** Interfaces are read again this often; carrier changes are seen sooner, through the wire worker. */
const INTERFACE_RESCAN_MS = 1_000;
const ELECTION_DEBOUNCE_MS = 20;
/** After the LEAVING beats, keep answering while peers take over (they need one election and a GARP, a few ms). */
export const HANDOVER_GRACE_MS = 150;

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean => a.size === b.size && [...a].every((x) => b.has(x));
const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export class Speaker {
  readonly #opts: SpeakerOptions;
  readonly #log: Logger;
  readonly #model: ClusterModel;
  readonly #memo = new RendezvousMemo();
  readonly #wire: Wire;
  readonly #liveness: LivenessTracker;
  readonly #store: StateStore;
  readonly #keySource: HeartbeatKeySource;
  readonly #watch: ApiWatch;
  readonly #statuses: StatusWriter;
  #interfaces: InterfaceDescriptor[] = [];
  #plan: InterfacePlan = { configured: [], up: [] };
  #named: string[] = [];
  #isolated = false;
  #election: Election | undefined;
  #alive: ReadonlySet<string> = new Set();
  #reports: ReportMemory = EMPTY_REPORT_MEMORY;
  #immediate: NodeJS.Immediate | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #rescanTimer: NodeJS.Timeout | undefined;
  #rescanning = false;
  #rescanAgain = false;
  #stopping = false;
  #stopped = false;
  readonly #logged = new Map<string, string>();

  constructor(opts: SpeakerOptions) {
    this.#opts = opts;
    const log = (this.#log = opts.log);
    this.#model = new ClusterModel({ loadBalancerClass: opts.loadBalancerClass });
    this.#wire = new Wire({
      node: opts.node,
      bootId: opts.bootId,
      intervalMs: opts.heartbeatIntervalMs,
      // Half the listening window: the main thread has long heard of the carrier by then and listens itself.
      rejoinHoldMs: (opts.heartbeatIntervalMs * DEFAULT_DEAD_AFTER_BEATS) / 2,
      log: log.child({ part: 'wire' }),
      ...(opts.sysfsRoot === undefined ? {} : { sysfsRoot: opts.sysfsRoot }),
      onBeat: (beat, heardAt) => this.#liveness.receive(beat, heardAt),
      onCarrier: (name, carrier) => this.#onCarrier(name, carrier),
      onMuted: (muted) => this.#liveness.setMuted(muted),
      onStats: (sent, rejected, l2) => recordWireStats(opts.metrics, sent, rejected, l2),
      onL2Event: (event) => this.#onL2Event(event),
      onOpenFailures: (failures) => {
        for (const f of failures) {
          this.#logOnce(`open:${f.interfaceName}:${f.protocol}`, f.error.code, () =>
            this.#log.warn({ interface: f.interfaceName, protocol: f.protocol, code: f.error.code }, `cannot answer on ${f.interfaceName}: ${f.error.message}`),
          );
        }
      },
    });
    this.#liveness = new LivenessTracker({
      node: opts.node,
      bootId: opts.bootId,
      intervalMs: opts.heartbeatIntervalMs,
      log: log.child({ part: 'liveness' }),
      beats: this.#wire,
      metrics: opts.metrics,
      onChange: (urgency) => this.#onLivenessChange(urgency),
    });
    this.#store = new StateStore(opts.stateDir, opts.node, log);
    this.#keySource = new HeartbeatKeySource({ access: opts.access, namespace: opts.namespace, name: opts.heartbeatSecret, log, onKeys: (keys) => this.#setKeys(keys, true) });
    this.#watch = new ApiWatch({
      access: opts.access,
      namespace: opts.namespace,
      model: this.#model,
      log,
      onChange: (kind) => this.#onModelChange(kind),
      onNodeDeleted: (name) => this.#liveness.forget(name),
      onStatusChange: () => this.#statuses.kick(),
      onComplete: () => this.#requestElection('now'),
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
    if (loaded.model !== undefined) {
      const errors = this.#model.load(loaded.model);
      this.#log.info({ savedAt: loaded.savedAt, services: this.#model.serviceKeys().length, ignored: errors.length }, 'loaded the last known cluster state');
    }
    if (loaded.keys.length > 0) {
      this.#keySource.seed(loaded.keys);
      this.#setKeys(loaded.keys, false);
    }
    // Listening starts now: a full window of beats before this speaker may claim anything.
    this.#liveness.start();
    this.#wire.start();
    await this.#rescan();
    this.#rescanTimer = setInterval(() => void this.#rescan(), INTERFACE_RESCAN_MS);
    this.#watch.start();
    this.#keySource.start();
    this.#runElection();
  }

  /** Graceful: LEAVING beats so peers take over at once, a short grace while they do, then silence. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#log.info({ announcing: this.#wire.ownership.size }, 'shutting down: handing our IPs over');
    await this.#liveness.leave();
    await new Promise((resolve) => setTimeout(resolve, HANDOVER_GRACE_MS));
    this.#stopped = true;
    clearImmediate(this.#immediate);
    clearTimeout(this.#debounce);
    clearInterval(this.#rescanTimer);
    this.#statuses.stop();
    this.#keySource.stop();
    this.#liveness.stop();
    await this.#wire.stop();
    await this.#watch.stop();
    this.#store.flush();
  }

  addReadinessChecks(checks: ReadinessChecks): void {
    checks.add('informers', () => this.#watch.readiness());
    checks.add('heartbeat-key', () => this.#keySource.readiness());
    checks.add('liveness', () => {
      if (this.#liveness.muted) return err('heartbeats stopped: the main thread stalled');
      if (this.#liveness.listening(monotonicMs())) return err('listening for peers before claiming IPs');
      return ok(undefined);
    });
    checks.add('interfaces', () =>
      this.#plan.up.length > 0 ? ok(undefined) : err(`no interface to announce on (${this.#interfaces.map((i) => i.name).join(', ') || 'none found'}; see the interface log lines)`),
    );
  }

  #setKeys(keys: Uint8Array[], fromApi: boolean): void {
    this.#liveness.setKeys(keys);
    if (fromApi) this.#store.saveKeys(keys);
  }

  #onModelChange(kind: ModelKind): void {
    // Speaker Pods are left out: a speaker restarted without the API server trusts beats only.
    // Pods Ready on disk would count a dead node never heard since the restart as alive, and
    // elect it for IPs nobody would then answer.
    this.#store.saveModel(() => ({ ...this.#model.snapshot(), speakerPods: [] }));
    this.#requestElection(kind === 'speakerPods' ? 'now' : 'soon');
  }

  /** Beats and state changes elect at once (the failover path); a deadline elects only if the alive set changed. */
  #onLivenessChange(urgency: 'beat' | 'deadline' | 'state'): void {
    if (this.#stopped) return;
    if (urgency !== 'deadline') return this.#requestElection('now');
    const now = monotonicMs();
    if (!sameSet(this.#liveSpeakers(now), this.#alive)) this.#runElection();
    else this.#liveness.armDeadline(now);
  }

  /**
   * From the wire worker, within one beat of the change. Back from
   * isolation, listening starts here, synchronously, so no election in between
   * can claim what peers took over while we were gone; the interface rescan
   * that reopens the sockets follows.
   */
  #onCarrier(name: string, carrier: boolean): void {
    this.#log.info({ interface: name }, carrier ? 'carrier up' : 'carrier lost');
    if (carrier && this.#isolated) this.#rejoin();
    void this.#rescan();
  }

  /** Alone, this speaker counted every peer dead and claimed their IPs; back on the LAN it listens first. */
  #rejoin(): void {
    this.#isolated = false;
    this.#liveness.relisten(monotonicMs());
    this.#log.info({ windowMs: this.#liveness.windowMs }, 'back on the LAN: listening before claiming anything');
    this.#runElection();
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

  #liveSpeakers(now: number): Set<string> {
    return this.#liveness.alive(now, this.#model.readyInAPI());
  }

  #runElection(): void {
    if (this.#stopped) return;
    clearTimeout(this.#debounce);
    this.#debounce = undefined;
    const { node, metrics } = this.#opts;
    const now = monotonicMs();
    const alive = this.#liveSpeakers(now);
    const started = performance.now();
    const election = elect(this.#model.electionInput(alive), this.#memo);
    let table = ownershipTable(election, node);
    // Leaving: keep answering what we hold until peers have taken it, but take nothing new
    // (several speakers stopping at once must not claim each other's IPs on the way out).
    if (this.#stopping) table = new Map([...table].filter(([ip]) => this.#wire.ownership.has(ip)));
    if (!sameOwnership(table, this.#wire.ownership)) {
      this.#wire.setOwnership(table);
      this.#log.info({ ips: table.size, alive: [...alive].sort() }, 'announcing');
    }
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
    this.#liveness.armDeadline(now);
  }

  /**
   * Events and ServiceL2Status, once the view is the API's and this speaker
   * takes part: not while it listens (it would drop its own objects only to
   * write them again), is isolated or muted (it would claim what peers hold).
   */
  #report(now: number): void {
    const election = this.#election;
    if (this.#isolated || this.#liveness.muted || this.#liveness.listening(now) || this.#stopping) {
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
    if (isolated) this.#isolated = true;
    const upNames = plan.up.map((i) => i.name);
    if (!sameList(upNames, this.#plan.up.map((i) => i.name)) || isolated !== wasIsolated) {
      this.#log.info({ up: upNames, configured: plan.configured.map((i) => i.name) }, isolated ? 'no interface up: not answering anywhere' : 'answering on interfaces');
    }
    // Ownership shrinks before any socket opens again: no takeover announcement for an IP a peer holds.
    if (wasIsolated && !isolated) this.#rejoin();
    this.#wire.setInterfaces(
      plan.configured.map((i) => i.name),
      plan.up,
    );
    this.#plan = plan;
    this.#opts.metrics.interfacesUp.set(plan.up.length);
  }

  #onL2Event(event: L2Event): void {
    if (event.type === 'socket-error') {
      this.#logOnce(`l2:${event.interfaceName}:${event.protocol}`, event.error.code, () =>
        this.#log.warn({ interface: event.interfaceName, protocol: event.protocol, code: event.error.code, fatal: event.error.fatal }, event.error.message),
      );
    } else {
      this.#logOnce(`mc:${event.interfaceName}:${event.group}`, `${event.op}:${event.code}`, () =>
        this.#log.warn({ interface: event.interfaceName, group: event.group, op: event.op, code: event.code }, 'multicast membership failed'),
      );
    }
  }

  /** Logs a recurring condition when it first appears or changes, not on every occurrence. */
  #logOnce(key: string, value: string, log: () => void): void {
    if (this.#logged.get(key) === value) return;
    this.#logged.set(key, value);
    log();
  }

  #owner(): OwnerReference | undefined {
    const { podName, node } = this.#opts;
    const pods = this.#model.speakerPods();
    const pod = pods.find((p) => podName !== undefined && p.name === podName) ?? pods.find((p) => p.node === node);
    if (pod?.uid === undefined) return undefined;
    return { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid };
  }
}
