// What the admission webhook decides about one IPAddressPool or L2Advertisement,
// given the other objects of the install namespace: the checks that one
// object's CEL rules in deploy/crds/ cannot make. Pure: objects in, verdict out.
// Here, not in controller/webhook, so that `ballast status` words its findings
// as the webhook does without loading the webhook's HTTPS server.
import type { IPAddressPool, L2Advertisement } from '../api/index.ts';
import type { Labels } from '../labels/index.ts';
import { advertisesPool } from './advertisements.ts';
import { formatConfigError } from './config-error.ts';
import { resolvePoolConflicts } from './conflicts.ts';
import { parseL2Advertisement } from './l2advertisement.ts';
import { parsePool, type Pool } from './pool.ts';

export interface Verdict {
  readonly allowed: boolean;
  /** Why the object is refused, one line each; empty when allowed. */
  readonly reasons: readonly string[];
  /** Shown by kubectl as "Warning: …" whether or not the object is allowed. */
  readonly warnings: readonly string[];
}

const verdict = (reasons: string[], warnings: string[]): Verdict => ({ allowed: reasons.length === 0, reasons, warnings });

/**
 * Refuses a pool the parser rejects or whose addresses overlap another pool of
 * its namespace (MetalLB refuses every overlap too). The exception is an
 * overlap with a terminating pool: replacing a pool by one with the same
 * addresses must be possible while the old one still protects its Services'
 * IPs, so that is allowed with a warning (the new pool is in Conflict, and
 * allocates nothing from those addresses, until the old one is gone).
 * `advertisements`, when given, adds a warning if none of them announces the pool.
 */
export function validatePool(raw: IPAddressPool, otherPools: readonly IPAddressPool[], advertisements?: readonly L2Advertisement[]): Verdict {
  const parsed = parsePool(raw);
  if (!parsed.ok) return verdict(parsed.error.map(formatConfigError), []);
  const pool = parsed.value;
  const reasons: string[] = [];
  const warnings: string[] = [];

  for (const other of parsedOthers(pool, otherPools)) {
    // Ages are forced so that the candidate is always the newer one: the conflict is then reported on it.
    const [conflict] = resolvePoolConflicts([{ ...other, createdAt: 0 }, { ...pool, createdAt: 1 }]).conflicts;
    if (!conflict) continue;
    const entry = pool.ranges.find((r) => r.field === conflict.field);
    const where = `${conflict.field} (${entry?.text ?? '?'})`;
    if (other.terminating) {
      warnings.push(`${where}: ${conflict.overlap} overlaps IPAddressPool "${other.name}", which is being deleted; this pool allocates nothing until it is gone`);
    } else {
      reasons.push(`${where}: ${conflict.overlap} overlaps IPAddressPool "${other.name}"; pools must not share addresses`);
    }
  }

  if (pool.avoidBuggyIPs && !pool.ranges.some((r) => r.family === 4)) {
    warnings.push('spec.avoidBuggyIPs has no effect: the pool has no IPv4 addresses');
  }
  if (advertisements !== undefined && !advertisements.some((ad) => announces(ad, pool, raw.metadata?.labels ?? {}))) {
    warnings.push(`no L2Advertisement in namespace ${pool.namespace} selects this pool: Services get its addresses, but no node announces them`);
  }
  return verdict(reasons, warnings);
}

/**
 * Refuses what the parser rejects. Pool names that match no pool are allowed
 * with a warning, deliberately: MetalLB accepts them too (it skips unknown
 * names when it builds its config), and refusing would break `kubectl apply -f
 * dir/` and GitOps tools that create the advertisement before its pool. A pool
 * can be deleted later anyway, so the webhook could not keep the invariant;
 * `ballast status` reports such names.
 */
export function validateL2Advertisement(raw: L2Advertisement, pools: readonly IPAddressPool[]): Verdict {
  const parsed = parseL2Advertisement(raw);
  if (!parsed.ok) return verdict(parsed.error.map(formatConfigError), []);
  const ad = parsed.value;
  const inNamespace = pools.filter((p) => p.metadata?.namespace === ad.namespace);
  const names = new Set(inNamespace.map((p) => p.metadata?.name));
  const warnings: string[] = [];

  const seen = new Set<string>();
  for (const [i, name] of (raw.spec?.ipAddressPools ?? []).entries()) {
    if (seen.has(name)) warnings.push(`spec.ipAddressPools[${i}]: "${name}" is listed twice`);
    else if (!names.has(name)) warnings.push(`spec.ipAddressPools[${i}]: no IPAddressPool "${name}" in namespace ${ad.namespace}; nothing is announced for it until one is created`);
    seen.add(name);
  }
  if (ad.poolSelectors.length > 0 && !inNamespace.some((p) => ad.poolSelectors.some((s) => s.matches(p.metadata?.labels)))) {
    warnings.push(`spec.ipAddressPoolSelectors match no IPAddressPool in namespace ${ad.namespace} (yet)`);
  }
  return verdict([], warnings);
}

/** The other parseable pools of the candidate's namespace; the candidate's own previous version is not "other". */
function parsedOthers(pool: Pool, others: readonly IPAddressPool[]): Pool[] {
  return others.flatMap((raw) => {
    if (raw.metadata?.namespace !== pool.namespace || raw.metadata?.name === pool.name) return [];
    const parsed = parsePool(raw);
    // A pool that does not parse allocates nothing, so nothing can collide with it.
    return parsed.ok ? [parsed.value] : [];
  });
}

function announces(raw: L2Advertisement, pool: Pool, labels: Labels): boolean {
  if (raw.metadata?.namespace !== pool.namespace) return false;
  const ad = parseL2Advertisement(raw);
  return ad.ok && advertisesPool(ad.value, { name: pool.name, labels });
}
