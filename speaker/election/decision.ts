// What election decides, in the shapes its users need: the responder's O(1)
// lookup per node, and per Service the owner or the reason there is none
// (ready for ServiceL2Status and Events).
import type { InterfaceSet } from '../../shared/config/index.ts';
import type { IPAddress } from '../../shared/net/index.ts';

export interface Announcement {
  readonly interfaces: InterfaceSet;
}

/** Usable as an Event or condition reason as is. */
export type NotAnnouncedCode =
  | 'NoIP'
  | 'NotInPool'
  | 'NoAdvertisement'
  | 'NoNodeMatchesSelectors'
  | 'NoCommonNode'
  | 'NoLiveSpeaker'
  | 'AllExcluded'
  | 'AllNetworkUnavailable'
  | 'NoReadyEndpoint';

export interface NotAnnounced {
  readonly code: NotAnnouncedCode;
  readonly message: string;
}

interface ServiceDecisionBase {
  /** serviceKey: "namespace/name". */
  readonly service: string;
  readonly ips: readonly IPAddress[];
  /** Other Services whose IPs move with this one's (shared IPs), by key. */
  readonly movesWith: readonly string[];
}

export type ServiceDecision =
  | (ServiceDecisionBase & { readonly announced: true; readonly node: string; readonly interfaces: InterfaceSet })
  | (ServiceDecisionBase & { readonly announced: false; readonly reason: NotAnnounced });

export type GroupDecision = {
  readonly key: IPAddress;
  readonly ips: readonly IPAddress[];
  readonly services: readonly string[];
} & (
  | { readonly owner: string; readonly announcements: ReadonlyMap<string, Announcement> }
  | { readonly owner: undefined; readonly reason: NotAnnounced }
);

export interface Election {
  /** Sorted by key IP. */
  readonly groups: readonly GroupDecision[];
  readonly services: ReadonlyMap<string, ServiceDecision>;
  /** node → IP text → announcement: what each node answers ARP/NDP for. */
  readonly byNode: ReadonlyMap<string, ReadonlyMap<string, Announcement>>;
}

const NOTHING: ReadonlyMap<string, Announcement> = new Map();

/** What `node` must announce: `get(ip.text)` is the responder's O(1) "do I own this IP, and where". */
export function announcementsFor(election: Election, node: string): ReadonlyMap<string, Announcement> {
  return election.byNode.get(node) ?? NOTHING;
}
