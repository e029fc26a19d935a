// The tie-break Lease: when the speakers a node hears are exactly half of the
// cluster (a two-node cluster with its peer gone quiet, a 2|2 split), a
// majority cannot decide which half acts on its own view. The half whose
// member holds this Lease does; the other half falls back to the API's view.
// The Lease is written only while a tie lasts: the common path makes no API
// writes. Held through Ballast's Lease elector (shared/k8s/leader.ts), so a
// holder stops counting on it before anyone else can take it.
import { createLeaderElector, type ApiAccess, type LeaderElector } from '../../shared/k8s/index.ts';
import type { Logger } from '../../shared/observability/index.ts';
import { monotonicMs } from './wire-protocol.ts';

export const TIE_BREAK_LEASE = 'ballast-speaker-tie-break';
const LEASE_DURATION_MS = 6_000;
const RENEW_DEADLINE_MS = 4_000;
const RETRY_PERIOD_MS = 1_000;

export class TieBreak {
  readonly #access: ApiAccess;
  readonly #namespace: string;
  readonly #node: string;
  readonly #log: Logger;
  readonly #onChange: () => void;
  #elector: LeaderElector | undefined;
  #leading = false;
  #refresh: NodeJS.Timeout | undefined;

  constructor(opts: { access: ApiAccess; namespace: string; node: string; log: Logger; onChange: () => void }) {
    this.#access = opts.access;
    this.#namespace = opts.namespace;
    this.#node = opts.node;
    this.#log = opts.log;
    this.#onChange = opts.onChange;
  }

  /** Campaign while a tie lasts; give the Lease up when it ends. */
  want(tie: boolean): void {
    if (tie && this.#elector === undefined) {
      this.#log.warn('exactly half of the cluster vouches for this speaker: taking the tie-break Lease');
      this.#elector = createLeaderElector(this.#access, {
        namespace: this.#namespace,
        name: TIE_BREAK_LEASE,
        identity: this.#node,
        leaseDurationMs: LEASE_DURATION_MS,
        renewDeadlineMs: RENEW_DEADLINE_MS,
        retryPeriodMs: RETRY_PERIOD_MS,
        logger: this.#log,
        onStartedLeading: (signal) => {
          this.#leading = true;
          this.#log.warn('holding the tie-break Lease: this half of the cluster acts on its own view');
          // The wire worker trusts the Lease only until told again: refresh it while leading.
          this.#refresh = setInterval(() => this.#onChange(), RETRY_PERIOD_MS);
          this.#onChange();
          signal.addEventListener('abort', () => {
            this.#leading = false;
            clearInterval(this.#refresh);
            this.#onChange();
          });
        },
      });
      this.#elector.start();
    } else if (!tie && this.#elector !== undefined) {
      const elector = this.#elector;
      this.#elector = undefined;
      void elector.stop();
    }
  }

  /**
   * Until when (monotonic ms) the wire worker may count on the Lease: a little
   * past the next refresh, while the elector says we lead. The elector stops
   * leading well before anyone else may take the Lease (renewDeadline <
   * leaseDuration), which covers the overshoot.
   */
  heldUntil(now = monotonicMs()): number | null {
    return this.#leading && this.#elector?.isLeader() ? now + RETRY_PERIOD_MS * 1.5 : null;
  }

  async stop(): Promise<void> {
    clearInterval(this.#refresh);
    const elector = this.#elector;
    this.#elector = undefined;
    await elector?.stop();
  }
}
