// From the election to what this node does: the responder's ownership table
// and the interfaces to answer and beat on.
import { matchesAny, type Labels } from '../../shared/labels/index.ts';
import type { L2AdvertisementConfig } from '../../shared/config/index.ts';
import { announcementsFor, type Election } from '../election/index.ts';
import { chooseInterfaces, DEFAULT_EXCLUDED_NAMES, type AllowedInterfaces, type InterfaceDescriptor, type OwnershipTable } from '../l2/index.ts';

/** What `self` answers ARP/NDP for, and where: one Map.get per request. */
export function ownershipTable(election: Election, self: string): OwnershipTable {
  const table = new Map<string, AllowedInterfaces>();
  for (const [ip, announcement] of announcementsFor(election, self)) table.set(ip, announcement.interfaces);
  return table;
}

export function sameOwnership(a: OwnershipTable, b: OwnershipTable): boolean {
  if (a.size !== b.size) return false;
  for (const [ip, allowed] of a) {
    const other = b.get(ip);
    if (other === undefined) return false;
    if (allowed === 'all' || other === 'all') {
      if (allowed !== other) return false;
    } else if (allowed.size !== other.size || [...allowed].some((n) => !other.has(n))) return false;
  }
  return true;
}

export interface InterfacePlan {
  /** Where this speaker answers and beats when the link is up; carrier is watched on all of them. */
  readonly configured: readonly InterfaceDescriptor[];
  /** `configured` with carrier (or carrier unknown): where the announcer answers now. */
  readonly up: readonly InterfaceDescriptor[];
}

/**
 * Every interface the filter allows (MetalLB's default exclusions plus `extraExcludes`),
 * and every interface an L2Advertisement selecting this node names even if a
 * name pattern excludes it (the user asked for it by name). Interfaces without
 * carrier stay configured: the speaker stops answering there and starts again
 * when carrier returns.
 */
export function planInterfaces(all: readonly InterfaceDescriptor[], extraExcludes: readonly RegExp[], named: readonly string[]): InterfacePlan {
  const byDefault = chooseInterfaces(all, { excludeNames: [...DEFAULT_EXCLUDED_NAMES, ...extraExcludes] }).eligible;
  const byName = named.length > 0 ? chooseInterfaces(all, { only: named }).eligible : [];
  const chosen = new Map<string, InterfaceDescriptor>();
  for (const iface of [...byDefault, ...byName]) chosen.set(iface.name, iface);
  const configured = [...chosen.values()].sort((a, b) => a.index - b.index);
  return { configured, up: configured.filter((i) => i.carrier !== false) };
}

/** Interfaces named by the advertisements that select a node with these labels (all advertisements when the node is unknown). */
export function namedInterfaces(ads: readonly L2AdvertisementConfig[], nodeLabels: Labels | undefined): string[] {
  const names = new Set<string>();
  for (const ad of ads) {
    if (ad.interfaces === 'all') continue;
    if (nodeLabels !== undefined && !matchesAny(ad.nodeSelectors, nodeLabels)) continue;
    for (const name of ad.interfaces) names.add(name);
  }
  return [...names].sort();
}

/**
 * Why `self` cannot answer on some of the interfaces an IP is restricted to,
 * or undefined when it can use them all (MetalLB: announceFailed). Election
 * ignores interfaces (every speaker must agree without knowing the others'
 * links), so the elected node is the one to say it lacks them.
 */
export function interfaceProblem(node: string, wanted: AllowedInterfaces, all: readonly InterfaceDescriptor[], up: readonly InterfaceDescriptor[]): string | undefined {
  if (wanted === 'all') return up.length > 0 ? undefined : `node ${node} has no interface to announce on (none up and eligible)`;
  const usable = new Set(up.map((i) => i.name));
  const names = [...wanted].sort();
  if (names.every((n) => usable.has(n))) return undefined;
  const choice = chooseInterfaces(all, { only: names });
  const why = new Map<string, string>();
  for (const name of choice.missing) why.set(name, 'not present');
  for (const skip of choice.skipped) why.set(skip.name, skip.detail);
  for (const iface of choice.eligible) if (!usable.has(iface.name)) why.set(iface.name, iface.carrier === false ? 'no carrier' : 'not usable');
  const problems = names.filter((n) => !usable.has(n)).map((n) => `${n} (${why.get(n) ?? 'not usable'})`);
  const answering = names.filter((n) => usable.has(n));
  return `node ${node} cannot announce on ${problems.join(', ')}; ${answering.length > 0 ? `answering on ${answering.join(', ')}` : 'the IPs are not answered anywhere'}`;
}
