// The Lease rules of leader election, pure: what to do with the lease as last
// seen, and what to write. Same rules as client-go's leaderelection package.
//
// Expiry is judged on the observer's own monotonic clock, from when it saw the
// lease last change (its resourceVersion), never from renewTime: clocks of
// different machines disagree, elapsed time on one machine does not.

/** spec of a coordination.k8s.io/v1 Lease as written to the API (timestamps as MicroTime strings). */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** A lease as read, and when (monotonic) this version was first seen. */
export interface ObservedLease {
  readonly resourceVersion: string;
  readonly spec: LeaseSpec;
  /** Monotonic time at which this resourceVersion was first seen. */
  readonly observedAtMs: number;
}

/** Create the lease, write our claim to it, or wait until expiresAtMs. */
export type LeaseDecision =
  | { readonly kind: 'create' }
  /** Write our identity: a renewal if we hold it, a takeover if it is free or expired. */
  | { readonly kind: 'update' }
  | { readonly kind: 'wait'; readonly holder: string; readonly expiresAtMs: number };

/** What an elector with identity `me` should do at monotonic time nowMs, given the lease (undefined: it does not exist). */
export function decideLease(observed: ObservedLease | undefined, me: string, nowMs: number): LeaseDecision {
  if (!observed) return { kind: 'create' };
  const holder = observed.spec.holderIdentity ?? '';
  if (holder === '' || holder === me) return { kind: 'update' };
  const expiresAtMs = observed.observedAtMs + (observed.spec.leaseDurationSeconds ?? 0) * 1000;
  return nowMs < expiresAtMs ? { kind: 'wait', holder, expiresAtMs } : { kind: 'update' };
}

/** The spec that claims or renews the lease for `me` at wall time nowIso. */
export function claimedSpec(current: LeaseSpec | undefined, me: string, leaseDurationSeconds: number, nowIso: string): LeaseSpec {
  const renewing = current?.holderIdentity === me;
  return {
    holderIdentity: me,
    leaseDurationSeconds,
    acquireTime: renewing ? (current.acquireTime ?? nowIso) : nowIso,
    renewTime: nowIso,
    leaseTransitions: (current?.leaseTransitions ?? 0) + (renewing || current === undefined ? 0 : 1),
  };
}

/** The spec that gives the lease up at once, so a successor need not wait for it to expire (client-go's ReleaseOnCancel). */
export function releasedSpec(current: LeaseSpec, nowIso: string): LeaseSpec {
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: nowIso, renewTime: nowIso, leaseTransitions: current.leaseTransitions ?? 0 };
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits (the API server rejects three). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}
