import type { IPAddress } from '../../shared/net/index.ts';

/** Interfaces an IP may be answered on: every interface the responder runs on, or only these names. */
export type AllowedInterfaces = 'all' | ReadonlySet<string>;

/**
 * What this node announces: IP text (shared/net canonical form) -> interfaces.
 * The speaker builds a new map and hands it over whole; the responder never
 * sees a half-updated table, and a lookup is one Map.get.
 */
export type OwnershipTable = ReadonlyMap<string, AllowedInterfaces>;

export type OwnershipCheck = 'owned' | 'not-owned' | 'wrong-interface';

export function checkOwnership(table: OwnershipTable, ip: IPAddress, interfaceName: string): OwnershipCheck {
  const allowed = table.get(ip.text);
  if (allowed === undefined) return 'not-owned';
  return allowed === 'all' || allowed.has(interfaceName) ? 'owned' : 'wrong-interface';
}

export const allowsInterface = (allowed: AllowedInterfaces, interfaceName: string): boolean =>
  allowed === 'all' || allowed.has(interfaceName);

export function sameAllowedInterfaces(a: AllowedInterfaces, b: AllowedInterfaces): boolean {
  if (a === 'all' || b === 'all') return a === b;
  if (a.size !== b.size) return false;
  for (const name of a) if (!b.has(name)) return false;
  return true;
}
