// Decides, per received frame, whether and how to answer. Pure: the frame, the
// receiving link and the ownership table in, a reply frame or a reason out.
import type { IPAddress } from '../../shared/net/index.ts';
import { buildArpReply, decodeArpFrame } from './arp.ts';
import type { DecodeFailure } from './decode-failure.ts';
import { isMulticastMac, isZeroMac, macEquals, type MacAddress } from './ethernet.ts';
import { solicitedNodeMulticast } from './ipv6.ts';
import { buildSolicitedAdvertisement, decodeNdpFrame, type NdpFrame, type NeighborSolicitation } from './ndp.ts';
import { checkOwnership, type OwnershipTable } from './ownership.ts';
import { PacketType } from './packet-type.ts';

export type L2Protocol = 'arp' | 'ndp';

/** The interface a frame arrived on. */
export interface LinkIdentity {
  readonly name: string;
  readonly mac: MacAddress;
}

export type IgnoreReason =
  /** A copy of a frame this host sent. */
  | 'outgoing'
  /** Unicast to another host's MAC, or NS addressed to neither the target nor its group. */
  | 'not-for-us'
  | 'not-a-request'
  /** Sent from this interface's own MAC (looped back by a bridge or a second socket). */
  | 'own-frame'
  /** Sender hardware address is multicast or zero: nobody to answer to. */
  | 'bad-sender'
  /** Sender IP = target IP: someone else announcing, not asking. */
  | 'gratuitous'
  | 'not-owned'
  | 'wrong-interface';

export type ResponderDecision =
  | { readonly kind: 'reply'; readonly ip: IPAddress; readonly frame: Uint8Array }
  | { readonly kind: 'ignore'; readonly reason: IgnoreReason; readonly ip?: IPAddress }
  | { readonly kind: 'garbled'; readonly failure: DecodeFailure };

const ignore = (reason: IgnoreReason, ip?: IPAddress): ResponderDecision =>
  ip === undefined ? { kind: 'ignore', reason } : { kind: 'ignore', reason, ip };

function linkLayerVerdict(packetType: number): IgnoreReason | null {
  if (packetType === PacketType.outgoing) return 'outgoing';
  // OTHERHOST: unicast to someone else (promiscuous mode, or a VLAN we have no device for).
  if (packetType === PacketType.otherHost) return 'not-for-us';
  return null;
}

function ownershipVerdict(table: OwnershipTable, ip: IPAddress, link: LinkIdentity): ResponderDecision | null {
  const owned = checkOwnership(table, ip, link.name);
  return owned === 'owned' ? null : ignore(owned, ip);
}

/** ARP requests, broadcast or unicast to us (a cache refresh), for owned IPs on allowed interfaces. */
export function answerArp(frame: Uint8Array, packetType: number, link: LinkIdentity, table: OwnershipTable): ResponderDecision {
  const early = linkLayerVerdict(packetType);
  if (early !== null) return ignore(early);
  const decoded = decodeArpFrame(frame);
  if (!decoded.ok) return { kind: 'garbled', failure: decoded.error };
  const { arp } = decoded.value;
  if (arp.operation !== 'request') return ignore('not-a-request');
  if (packetType === PacketType.multicast) return ignore('not-for-us');
  if (macEquals(arp.senderMac, link.mac)) return ignore('own-frame');
  if (isMulticastMac(arp.senderMac) || isZeroMac(arp.senderMac)) return ignore('bad-sender');
  if (arp.senderIP.value === arp.targetIP.value) return ignore('gratuitous', arp.targetIP);
  return ownershipVerdict(table, arp.targetIP, link) ?? { kind: 'reply', ip: arp.targetIP, frame: buildArpReply(arp, link.mac) };
}

/**
 * Neighbor Solicitations for owned IPs: multicast to the target's
 * solicited-node group (resolution, DAD) or unicast to the target itself
 * (NUD probes, which MetalLB leaves unanswered: metallb#2920).
 */
export function answerNeighborSolicitation(
  frame: Uint8Array,
  packetType: number,
  link: LinkIdentity,
  table: OwnershipTable,
): ResponderDecision {
  const early = linkLayerVerdict(packetType);
  if (early !== null) return ignore(early);
  const decoded = decodeNdpFrame(frame);
  if (!decoded.ok) return { kind: 'garbled', failure: decoded.error };
  const ndp = decoded.value;
  const message = ndp.message;
  if (message.type !== 'solicitation') return ignore('not-a-request');
  if (macEquals(ndp.ethernet.source, link.mac)) return ignore('own-frame');
  if (isMulticastMac(ndp.ethernet.source)) return ignore('bad-sender');
  const target = message.target;
  const toTarget = ndp.destination.value === target.value;
  if (!toTarget && ndp.destination.value !== solicitedNodeMulticast(target).value) return ignore('not-for-us', target);
  return (
    ownershipVerdict(table, target, link) ?? {
      kind: 'reply',
      ip: target,
      frame: buildSolicitedAdvertisement(ndp as NdpFrame & { message: NeighborSolicitation }, link.mac),
    }
  );
}
