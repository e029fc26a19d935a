// Who holds one address, and whether another Service may join them
// (MetalLB's sharing rules, allocator.go sharingOK): the same non-empty
// allow-shared-ip key, the same backends, no (protocol, port) in common.
import type { ServicePort, ServiceRequest } from '../../shared/config/index.ts';
import type { IPAddress } from '../../shared/net/index.ts';

export interface AddressUse {
  readonly ip: IPAddress;
  /** The pool every holder's assignment names. */
  readonly pool: string;
  readonly sharingKey: string;
  readonly backendKey: string;
  /** Who holds it, with the ports each uses; nearly always one, so a list (a Map costs ~10× the memory). */
  readonly holders: Holder[];
}

export interface Holder {
  readonly key: string;
  readonly ports: readonly ServicePort[];
}

export type SharingConflict =
  | { readonly rule: 'key'; readonly holder: string; readonly holderKey: string; readonly ownKey: string }
  | { readonly rule: 'ports'; readonly holder: string; readonly ports: readonly string[] }
  | { readonly rule: 'backend'; readonly holder: string }
  | { readonly rule: 'pool'; readonly holder: string; readonly pool: string };

export const portKey = (p: ServicePort): string => `${p.protocol}/${p.port}`;

/** Why the Service `key` may not hold this address beside its other holders, or undefined if it may. */
export function sharingConflict(use: AddressUse, key: string, req: ServiceRequest, pool: string): SharingConflict | undefined {
  const others = use.holders.filter((h) => h.key !== key).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const holder = others[0]?.key;
  if (holder === undefined) return undefined;
  if (use.pool !== pool) return { rule: 'pool', holder, pool: use.pool };
  if (req.sharingKey === '' || use.sharingKey === '' || req.sharingKey !== use.sharingKey) {
    return { rule: 'key', holder, holderKey: use.sharingKey, ownKey: req.sharingKey };
  }
  if (req.backendKey !== use.backendKey) return { rule: 'backend', holder };
  for (const other of others) {
    const clashes = req.ports.filter((p) => other.ports.some((q) => q.protocol === p.protocol && q.port === p.port));
    if (clashes.length > 0) return { rule: 'ports', holder: other.key, ports: clashes.map(portKey) };
  }
  return undefined;
}

export function formatSharingConflict(c: SharingConflict): string {
  switch (c.rule) {
    case 'pool':
      return `${c.holder} holds it from pool "${c.pool}"`;
    case 'key':
      return `${c.holder} holds it and sharing needs the same non-empty allow-shared-ip key on both (${c.holder}: ${quoteKey(c.holderKey)}, this Service: ${quoteKey(c.ownKey)})`;
    case 'backend':
      return `${c.holder} holds it with other backends (externalTrafficPolicy Local Services must have the same selector to share)`;
    case 'ports':
      return `${c.holder} already uses ${c.ports.join(', ')} on it`;
  }
}

const quoteKey = (k: string): string => (k === '' ? 'none' : `"${k}"`);
