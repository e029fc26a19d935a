// Which L2Advertisements cover an IP of a Service, and what they allow.
import { matchesAny, type Labels } from '../labels/index.ts';
import type { InterfaceSet, L2AdvertisementConfig } from './l2advertisement.ts';

/** The pool an IP was allocated from, as the speaker knows it. */
export interface PoolRef {
  readonly name: string;
  readonly labels: Labels;
}

/** ipAddressPools by name OR ipAddressPoolSelectors; with neither, every pool (MetalLB). */
export function advertisesPool(ad: L2AdvertisementConfig, pool: PoolRef): boolean {
  if (ad.poolNames.size === 0 && ad.poolSelectors.length === 0) return true;
  return ad.poolNames.has(pool.name) || ad.poolSelectors.some((s) => s.matches(pool.labels));
}

export function advertisesService(ad: L2AdvertisementConfig, serviceLabels: Labels): boolean {
  return matchesAny(ad.serviceSelectors, serviceLabels);
}

export function advertisesFromNode(ad: L2AdvertisementConfig, nodeLabels: Labels): boolean {
  return matchesAny(ad.nodeSelectors, nodeLabels);
}

/** Several advertisements union their interfaces; one that names none allows all. */
export function unionInterfaces(sets: Iterable<InterfaceSet>): InterfaceSet {
  const names = new Set<string>();
  for (const set of sets) {
    if (set === 'all') return 'all';
    for (const name of set) names.add(name);
  }
  return names;
}
