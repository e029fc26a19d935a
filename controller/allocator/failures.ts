// Why an allocation failed, or why a held assignment stopped being valid: the
// facts as values, each formatting to one line fit for a Kubernetes Event.
import { familyName, type Family, type IPAddress } from '../../shared/net/index.ts';
import { formatSharingConflict, type SharingConflict } from './sharing.ts';

export interface Assignment {
  readonly pool: string;
  /** One per family, IPv4 first. */
  readonly ips: readonly IPAddress[];
}

export interface SkippedPool {
  readonly pool: string;
  readonly reason: string;
}

export type AllocationFailure =
  | { readonly kind: 'no-pool'; readonly skipped: readonly SkippedPool[] }
  | { readonly kind: 'pool-exhausted'; readonly pools: ReadonlyArray<{ readonly pool: string; readonly families: readonly Family[] }> }
  | { readonly kind: 'unknown-pool'; readonly pool: string }
  | { readonly kind: 'pool-conflicted'; readonly pool: string; readonly olderPool: string; readonly overlap: string }
  | { readonly kind: 'pool-terminating'; readonly pool: string }
  | { readonly kind: 'pool-not-selecting'; readonly pool: string; readonly why: string }
  | { readonly kind: 'family-unavailable'; readonly pool: string; readonly families: readonly Family[] }
  | { readonly kind: 'ip-outside-pools'; readonly ip: string }
  | { readonly kind: 'ip-not-in-pool'; readonly ip: string; readonly pool: string }
  | { readonly kind: 'ip-avoided'; readonly ip: string; readonly pool: string }
  | { readonly kind: 'ip-of-node'; readonly ip: string; readonly nodes: readonly string[] }
  | { readonly kind: 'ip-held'; readonly ip: string; readonly conflict: SharingConflict }
  | { readonly kind: 'ips-in-different-pools'; readonly ips: ReadonlyArray<{ readonly ip: string; readonly pool: string }> }
  | { readonly kind: 'restore-mismatch'; readonly why: string };

export function formatAllocationFailure(f: AllocationFailure): string {
  switch (f.kind) {
    case 'no-pool':
      if (f.skipped.length === 0) return 'no IPAddressPool exists';
      return `no IPAddressPool can serve this Service: ${f.skipped.map((s) => `pool "${s.pool}" ${s.reason}`).join('; ')}`;
    case 'pool-exhausted':
      return `no free address: ${f.pools.map((p) => `pool "${p.pool}" has no free ${p.families.map(familyName).join(' or ')} address`).join('; ')}`;
    case 'unknown-pool':
      return `pool "${f.pool}" does not exist`;
    case 'pool-conflicted':
      return `pool "${f.pool}" allocates nothing: its ${f.overlap} overlaps older pool "${f.olderPool}"`;
    case 'pool-terminating':
      return `pool "${f.pool}" is being deleted and allocates nothing new`;
    case 'pool-not-selecting':
      return `pool "${f.pool}" may not serve this Service: ${f.why}`;
    case 'family-unavailable':
      return `pool "${f.pool}" has no ${f.families.map(familyName).join(' or ')} range`;
    case 'ip-outside-pools':
      return `requested IP ${f.ip} is in no IPAddressPool`;
    case 'ip-not-in-pool':
      return `IP ${f.ip} is not in pool "${f.pool}"`;
    case 'ip-avoided':
      return `IP ${f.ip} ends in .0 or .255, which pool "${f.pool}" avoids (avoidBuggyIPs)`;
    case 'ip-of-node':
      return `IP ${f.ip} is an address of node ${f.nodes.join(', ')}; a Service given it would take the node's traffic`;
    case 'ip-held':
      return `IP ${f.ip} is taken: ${formatSharingConflict(f.conflict)}`;
    case 'ips-in-different-pools':
      return `all IPs of a Service must come from one pool, but ${f.ips.map((x) => `${x.ip} is in pool "${x.pool}"`).join(' and ')}`;
    case 'restore-mismatch':
      return `cannot keep the IPs in status: ${f.why}`;
  }
}

export type InvalidReason =
  | { readonly kind: 'pool-removed' }
  | { readonly kind: 'ip-outside-pool'; readonly ip: string }
  | { readonly kind: 'ip-avoided'; readonly ip: string }
  | { readonly kind: 'pool-not-selecting'; readonly why: string };

/** A held assignment that a pool change made invalid; the allocator has released it. */
export interface Invalidation {
  readonly key: string;
  readonly assignment: Assignment;
  readonly reason: InvalidReason;
}

export function formatInvalidation(inv: Invalidation): string {
  const ips = inv.assignment.ips.map((ip) => ip.text).join(', ');
  const pool = `pool "${inv.assignment.pool}"`;
  switch (inv.reason.kind) {
    case 'pool-removed':
      return `released ${ips}: ${pool} no longer exists`;
    case 'ip-outside-pool':
      return `released ${ips}: ${inv.reason.ip} is no longer in ${pool}`;
    case 'ip-avoided':
      return `released ${ips}: ${pool} now avoids ${inv.reason.ip} (avoidBuggyIPs)`;
    case 'pool-not-selecting':
      return `released ${ips}: ${pool} may no longer serve this Service: ${inv.reason.why}`;
  }
}
