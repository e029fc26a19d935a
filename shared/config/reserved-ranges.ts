// Address ranges that can never be a load-balancer address: a pool that
// touches one is refused. Addresses are handed out lowest first, so a pool of
// 0.0.0.0/0 or ::/0 would give the first Service 0.0.0.0 or ::. One table for
// the parser (and so the webhook, the controller and `ballast status`) and for
// the CRD's CEL rules (scripts/crd-rules.ts writes them into
// deploy/crds/ipaddresspools.yaml from this table), so the API server refuses
// the same pools with the webhook off and says the same thing.
import { parseIP, type Family } from '../net/index.ts';
import type { AddressRange } from './address-range.ts';

export interface ReservedRange {
  readonly cidr: string;
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
  /** Why no Service may have an address from it: the message of the refusal after the range's name. */
  readonly why: string;
}

/** [CIDR, what it is and why it cannot be a Service's address (with its RFC)]. */
const TABLE: ReadonlyArray<readonly [string, string]> = [
  ['0.0.0.0/8', '"this network": 0.0.0.0 is the unspecified address and none of it is ever a destination (RFC 1122)'],
  ['127.0.0.0/8', 'loopback: its addresses never leave a host (RFC 1122)'],
  ['169.254.0.0/16', 'link-local: self-assigned, never routed, and used by nodes and clouds for their own services (RFC 3927)'],
  ['224.0.0.0/4', 'multicast: an address of a group of receivers, not of one host (RFC 5771)'],
  ['240.0.0.0/4', 'reserved for future use: most hosts and routers drop it (RFC 1112)'],
  ['255.255.255.255/32', 'the limited broadcast address: every host on the link (RFC 919)'],
  ['::/128', 'the unspecified address: "no address" (RFC 4291)'],
  ['::1/128', 'loopback: never leaves a host (RFC 4291)'],
  ['::ffff:0:0/96', 'IPv4-mapped: an IPv4 address in IPv6 notation, never seen on the wire; use the IPv4 address (RFC 4291)'],
  ['fe80::/10', 'link-local: valid on one link only, every interface has its own (RFC 4291)'],
  ['ff00::/8', 'multicast: an address of a group of receivers, not of one host (RFC 4291)'],
];

export const RESERVED_RANGES: readonly ReservedRange[] = TABLE.map(([cidr, why]) => {
  const [address = '', prefix = ''] = cidr.split('/');
  const ip = parseIP(address, { mapped: 'allow' }); // the table names the IPv4-mapped block itself
  if (!ip.ok) throw new Error(`bug: reserved range ${cidr}: ${ip.error}`);
  const bits = ip.value.family === 4 ? 32 : 128;
  const hostMask = (1n << BigInt(bits - Number(prefix))) - 1n;
  return { cidr, family: ip.value.family, first: ip.value.value, last: ip.value.value | hostMask, why };
});

/** The refusal, after the entry's own text: what the CRD rule says too. */
export const reservedMessage = (r: ReservedRange): string => `overlaps ${r.cidr}, ${r.why}`;

/** Every reserved range the entry overlaps, in table order. */
export function reservedOverlaps(range: Pick<AddressRange, 'family' | 'first' | 'last'>): ReservedRange[] {
  return RESERVED_RANGES.filter((r) => r.family === range.family && r.first <= range.last && range.first <= r.last);
}
