// speaker/l2: moves ARP/NDP packets. The speaker hands it the interfaces to
// use and the ownership table; it answers, announces and counts.
export { L2Announcer, type L2AnnouncerOptions, type L2Event, type Timers } from './announcer.ts';
export { announcePolicy, announcementTimes, DEFAULT_ANNOUNCE_POLICY, nextAnnouncement, type AnnouncePolicy } from './announce-schedule.ts';
export { Claims, DEFAULT_CLAIM_POLICY, keeps, type ClaimAction, type ClaimEntry, type ClaimMode, type ClaimPolicy, type ClaimTable, type ConflictOutcome } from './claims.ts';
export type { L2Counters } from './counters.ts';
export type { DecodeFailure, DecodeFailureReason } from './decode-failure.ts';
export { BROADCAST_MAC, ETHERNET_HEADER_LENGTH, formatMac, parseMac, writeEthernetHeader, type MacAddress } from './ethernet.ts';
export {
  chooseInterfaces,
  DEFAULT_EXCLUDED_NAMES,
  type InterfaceChoice,
  type InterfaceDescriptor,
  type InterfaceFilterOptions,
  type SkipReason,
} from './interface-filter.ts';
export type { AllowedInterfaces, OwnershipTable } from './ownership.ts';
export type { L2Protocol } from './responder.ts';
export {
  openDatagramSocket,
  openPacketSocket,
  PacketType,
  type DatagramSocket,
  type DatagramSocketOptions,
  type DatagramStats,
  type PacketSocket,
  type PacketSocketOptions,
  type SocketError,
  type SocketStats,
} from './packet-socket.ts';
export { readCarrier, readInterfaces } from './sysfs-interfaces.ts';
export { payloadPrefixFilter } from './socket-filters.ts';
