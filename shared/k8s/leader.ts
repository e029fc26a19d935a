// Lease-based leader election (coordination.k8s.io/v1), since client-node 2.x
// ships none. Semantics follow client-go's leaderelection:
// - a candidate takes the lease when it is free, released, or has not changed
//   for leaseDuration on the candidate's own clock;
// - every write carries the resourceVersion it read, so of two racing writers
//   the API server accepts one and answers the other 409 Conflict;
// - a leader renews every retryPeriod and stops leading renewDeadline after
//   the start of its last successful renewal. That write happened after its
//   start, every other candidate saw it later still and waits leaseDuration
//   more, so with renewDeadline < leaseDuration the old leader has stopped
//   before anyone else can start: never two writers. Requests are cut off at
//   the deadline too, and isLeader() checks the clock, not only a timer.
// Unlike client-go's Run, losing the lease is not the end: the elector keeps
// campaigning, and each new term gets a fresh AbortSignal. It campaigns again
// only once the last term's work (onStartedLeading's promise) has ended: two
// terms of one replica never overlap, so nothing the old term still does can
// land in the new one (controller-runtime gets the same by exiting the process).
import type { V1Lease } from '@kubernetes/client-node';
import { silentLogger, type Logger } from '../observability/index.ts';
import { formatApiError } from './api-error.ts';
import { objectClient, type ObjectClient } from './client.ts';
import { claimedSpec, decideLease, microTime, releasedSpec, type LeaseSpec, type ObservedLease } from './lease-record.ts';
import { RESOURCES } from './resources.ts';
import type { ApiAccess } from './transport/index.ts';

/** The Lease, this candidate, the timings (client-go defaults 15/10/2 s) and the callbacks. */
export interface LeaderElectionOptions {
  /** Where the Lease lives. */
  namespace: string;
  name: string;
  /** Unique per candidate: the pod name. */
  identity: string;
  /** How long others wait after the last renewal they saw (default 15 s; rounded up to whole seconds on the Lease). */
  leaseDurationMs?: number;
  /** A leader that has not renewed for this long stops leading (default 10 s; must be < leaseDurationMs). */
  renewDeadlineMs?: number;
  /** Between attempts to acquire or renew (default 2 s; must be < renewDeadlineMs / 1.2). */
  retryPeriodMs?: number;
  /**
   * Called when this candidate becomes leader; do the leader's work until signal aborts. A returned promise is
   * awaited before a graceful stop releases the lease, and before this candidate campaigns for a new term.
   */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called after a term ends (deadline missed, lease lost, or stop); the term's signal has already aborted. */
  onStoppedLeading?: () => void;
  /** Called when the observed leader changes, including to this candidate. */
  onNewLeader?: (identity: string) => void;
  logger?: Logger;
}

/** One candidate in a Lease election; at most one candidate in the cluster is leader at any time. */
export interface LeaderElector {
  /** Starts campaigning (idempotent). */
  start(): void;
  /** Ends the current term (aborts its signal and waits for onStartedLeading's promise), releases the lease so a successor takes over at once, stops campaigning. */
  stop(): Promise<void>;
  /** Leading now: a term is open and its last renewal is younger than renewDeadline. Check it right before a write that only a leader may make. */
  isLeader(): boolean;
  /** The holder last observed on the lease, if any. */
  readonly leader: string | undefined;
}

/** A leader elector on one Lease; call start(). */
export function createLeaderElector(access: ApiAccess, opts: LeaderElectionOptions): LeaderElector {
  return new LeaseElector(objectClient(access, RESOURCES.lease), opts);
}

const JITTER = 1.2; // client-go's JitterFactor for acquire attempts

class LeaseElector implements LeaderElector {
  private readonly leases: ObjectClient<V1Lease>;
  private readonly opts: LeaderElectionOptions;
  private readonly leaseDurationS: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: Logger;
  private observed: ObservedLease | undefined;
  private reportedLeader: string | undefined;
  private started = false;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private loopDone = false;
  private loop: Promise<void> | undefined;
  private wakeSleep: (() => void) | undefined;
  // The open term, if leading.
  private term: { controller: AbortController; lastRenewMs: number; deadline: NodeJS.Timeout; work: Promise<void> } | undefined;
  // The work of the last term that ended, until it settles: no new term before then.
  private windingDown: Promise<void> | undefined;

  constructor(leases: ObjectClient<V1Lease>, opts: LeaderElectionOptions) {
    this.leases = leases;
    this.opts = opts;
    const leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.leaseDurationS = Math.ceil(leaseDurationMs / 1000);
    if (!(this.retryPeriodMs > 0 && this.renewDeadlineMs > this.retryPeriodMs * JITTER && leaseDurationMs > this.renewDeadlineMs)) {
      throw new Error(
        `leader election needs leaseDuration > renewDeadline > ${JITTER} × retryPeriod > 0 (got ${leaseDurationMs}/${this.renewDeadlineMs}/${this.retryPeriodMs} ms)`,
      );
    }
    if (!opts.identity || !opts.name || !opts.namespace) throw new Error('leader election needs namespace, name and identity');
    this.log = (opts.logger ?? silentLogger).child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
  }

  get leader(): string | undefined {
    return this.observed?.spec.holderIdentity || undefined;
  }

  isLeader(): boolean {
    return this.term !== undefined && performance.now() - this.term.lastRenewMs < this.renewDeadlineMs;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.loop = this.run();
  }

  stop(): Promise<void> {
    return (this.stopped ??= this.shutDown());
  }

  private async shutDown(): Promise<void> {
    this.stopping = true;
    const term = this.term;
    if (term) {
      // Keep renewing while the leader's work winds down: nobody else may start before it has.
      term.controller.abort(new Error('leader election stopping'));
      await term.work;
    }
    this.loopDone = true;
    this.wakeSleep?.();
    await this.loop;
    if (this.term) {
      await this.release();
      this.endTerm('stopped');
    }
  }

  private async run(): Promise<void> {
    while (!this.loopDone && !(this.stopping && !this.term)) {
      await this.attempt();
      if (this.loopDone) break;
      const wait = this.term ? this.retryPeriodMs : this.retryPeriodMs * (1 + (JITTER - 1) * Math.random());
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.wakeSleep = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wakeSleep = undefined;
    }
  }

  private async attempt(): Promise<void> {
    if (!this.term && this.windingDown) {
      this.log.debug('the last term is still winding down; not campaigning yet');
      return;
    }
    const startedMs = performance.now();
    // A leader's request must not outlive its renew deadline.
    const timeoutMs = this.term ? Math.max(1, this.term.lastRenewMs + this.renewDeadlineMs - startedMs) : this.renewDeadlineMs;

    // Fast path for a leader: renew from the lease it wrote last, no read first.
    if (!(this.term && this.observed?.spec.holderIdentity === this.opts.identity)) {
      const got = await this.leases.get({ namespace: this.opts.namespace, name: this.opts.name }, { timeoutMs });
      if (!got.ok && got.error.code !== 404) return this.attemptFailed(`read: ${formatApiError(got.error)}`);
      if (got.ok) this.observe(got.value);
      else this.observed = undefined;
    }

    const decision = decideLease(this.observed, this.opts.identity, performance.now());
    if (decision.kind === 'wait') {
      if (this.term) this.endTerm(`lease taken by ${decision.holder}`);
      return;
    }
    const spec = claimedSpec(this.observed?.spec, this.opts.identity, this.leaseDurationS, microTime(Date.now()));
    const lease: V1Lease = {
      metadata: { namespace: this.opts.namespace, name: this.opts.name, ...(this.observed ? { resourceVersion: this.observed.resourceVersion } : {}) },
      spec: spec as V1Lease['spec'],
    };
    const written = decision.kind === 'create' ? await this.leases.create(lease, { timeoutMs }) : await this.leases.replace(lease, { timeoutMs });
    if (!written.ok) {
      // 409: another candidate wrote first (or our view was stale); read again next time.
      if (written.error.code === 409) this.observed = undefined;
      return this.attemptFailed(`${decision.kind}: ${formatApiError(written.error)}`);
    }
    this.observe(written.value);
    if (this.term) this.renewed(startedMs);
    // A write that took longer than the renew deadline (the term it renewed has just ended) opens no new term.
    else if (!this.stopping && performance.now() - startedMs < this.renewDeadlineMs) this.beginTerm(startedMs);
  }

  private observe(lease: V1Lease): void {
    const rv = lease.metadata?.resourceVersion ?? '';
    if (this.observed?.resourceVersion !== rv) {
      this.observed = { resourceVersion: rv, spec: (lease.spec ?? {}) as LeaseSpec, observedAtMs: performance.now() };
    }
    const holder = this.observed.spec.holderIdentity;
    if (!holder) this.reportedLeader = undefined; // released: whoever takes it next is news, even the same one
    else if (holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      this.log.info({ leader: holder }, 'new leader observed');
      this.callback('onNewLeader', () => this.opts.onNewLeader?.(holder));
    }
  }

  private attemptFailed(why: string): void {
    if (this.term) this.log.warn({ error: why, msSinceRenewal: Math.round(performance.now() - this.term.lastRenewMs) }, 'lease renewal failed');
    else this.log.debug({ error: why }, 'lease acquisition failed');
  }

  private beginTerm(renewedAtMs: number): void {
    const controller = new AbortController();
    this.term = { controller, lastRenewMs: renewedAtMs, deadline: this.armDeadline(renewedAtMs), work: Promise.resolve() };
    this.log.info('started leading');
    const term = this.term;
    term.work = (async () => {
      try {
        await this.opts.onStartedLeading(controller.signal);
      } catch (e) {
        this.log.error({ err: e }, 'onStartedLeading failed');
      }
    })();
  }

  private renewed(renewedAtMs: number): void {
    if (!this.term) return;
    clearTimeout(this.term.deadline);
    this.term.lastRenewMs = renewedAtMs;
    this.term.deadline = this.armDeadline(renewedAtMs);
  }

  private armDeadline(renewedAtMs: number): NodeJS.Timeout {
    return setTimeout(() => this.endTerm('renew deadline passed'), Math.max(0, renewedAtMs + this.renewDeadlineMs - performance.now()));
  }

  private endTerm(why: string): void {
    const term = this.term;
    if (!term) return;
    this.term = undefined;
    clearTimeout(term.deadline);
    const work = term.work;
    this.windingDown = work;
    void work.then(() => {
      if (this.windingDown === work) this.windingDown = undefined;
    });
    term.controller.abort(new Error(`stopped leading: ${why}`));
    if (why === 'stopped') this.log.info('stopped leading');
    else this.log.warn({ why }, 'stopped leading');
    this.callback('onStoppedLeading', () => this.opts.onStoppedLeading?.());
  }

  private async release(): Promise<void> {
    const term = this.term;
    if (!term || !this.observed || this.observed.spec.holderIdentity !== this.opts.identity) return;
    const timeoutMs = Math.max(1, term.lastRenewMs + this.renewDeadlineMs - performance.now());
    const r = await this.leases.replace(
      {
        metadata: { namespace: this.opts.namespace, name: this.opts.name, resourceVersion: this.observed.resourceVersion },
        spec: releasedSpec(this.observed.spec, microTime(Date.now())) as V1Lease['spec'],
      },
      { timeoutMs },
    );
    if (r.ok) {
      this.observe(r.value);
      this.log.info('released the lease');
    } else {
      this.log.warn({ error: formatApiError(r.error) }, 'could not release the lease; it will expire');
    }
  }

  private callback(which: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e, callback: which }, 'leader election callback threw');
    }
  }
}
