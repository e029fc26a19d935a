// Which pools a Service may draw from: serviceAllocation selectors and the
// order of pools (MetalLB parity, made deterministic).
import type { Pool, ServiceRequest } from '../../shared/config/index.ts';

/** Why the pool's serviceAllocation does not select this Service, or undefined if it does (or has none). */
export function selectionMismatch(pool: Pool, req: ServiceRequest): string | undefined {
  const sa = pool.serviceAllocation;
  if (!sa) return undefined;
  // A serviceAllocation with neither namespaces nor selectors (only a priority) selects every Service (MetalLB #2714).
  const namespaceRestricted = sa.namespaces.length > 0 || sa.namespaceSelectors.length > 0;
  if (namespaceRestricted && !sa.namespaces.includes(req.namespace) && !sa.namespaceSelectors.some((s) => s.matches(req.namespaceLabels))) {
    return `its serviceAllocation does not select namespace "${req.namespace}"`;
  }
  if (sa.serviceSelectors.length > 0 && !sa.serviceSelectors.some((s) => s.matches(req.labels))) {
    return `its serviceAllocation.serviceSelectors do not match the Service's labels`;
  }
  return undefined;
}

/**
 * Lower priority first, unset last, ties by name. MetalLB's comparator is not
 * a strict order (ties come out in map order); this one is total.
 */
export function byPriorityThenName(a: Pool, b: Pool): number {
  const pa = a.serviceAllocation?.priority ?? Number.POSITIVE_INFINITY;
  const pb = b.serviceAllocation?.priority ?? Number.POSITIVE_INFINITY;
  if (pa !== pb) return pa < pb ? -1 : 1;
  return byName(a, b);
}

export const byName = (a: Pool, b: Pool): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
