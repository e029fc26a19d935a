// Decides, per received frame, whether and how to answer, and notices frames
// in which another host claims an IP we hold. Pure: the frame, the receiving
// link and the tables in, a reply frame, a claim or a reason out.
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
  /** Another MAC says it has an IP we hold (RFC 5227 §2.4: sender IP ours, sender MAC not): a duplicate. */
  | { readonly kind: 'claim'; readonly ip: IPAddress; readonly mac: MacAddress }
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

/**
 * ARP requests, broadcast or unicast to us (a cache refresh), for IPs in
 * `answering` on allowed interfaces. Any ARP frame (request or reply) whose
 * sender IP is in `held` and whose sender MAC is another host's is a claim.
 */
export function answerArp(frame: Uint8Array, packetType: number, link: LinkIdentity, answering: OwnershipTable, held: OwnershipTable = answering): ResponderDecision {
  const early = linkLayerVerdict(packetType);
  if (early !== null) return ignore(early);
  const decoded = decodeArpFrame(frame);
  if (!decoded.ok) return { kind: 'garbled', failure: decoded.error };
  const { arp } = decoded.value;
  if (macEquals(arp.senderMac, link.mac)) return ignore('own-frame');
  if (!isMulticastMac(arp.senderMac) && !isZeroMac(arp.senderMac) && checkOwnership(held, arp.senderIP, link.name) === 'owned') {
    return { kind: 'claim', ip: arp.senderIP, mac: arp.senderMac };
  }
  if (arp.operation !== 'request') return ignore('not-a-request');
  if (packetType === PacketType.multicast) return ignore('not-for-us');
  if (isMulticastMac(arp.senderMac) || isZeroMac(arp.senderMac)) return ignore('bad-sender');
  if (arp.senderIP.value === arp.targetIP.value) return ignore('gratuitous', arp.targetIP);
  return ownershipVerdict(answering, arp.targetIP, link) ?? { kind: 'reply', ip: arp.targetIP, frame: buildArpReply(arp, link.mac) };
}

/**
 * Neighbor Solicitations for IPs in `answering`: multicast to the target's
 * solicited-node group (resolution, DAD) or unicast to the target itself
 * (NUD probes, which MetalLB leaves unanswered: metallb#2920). An
 * advertisement for an IP in `held` from another MAC, or a solicitation sent
 * from such an IP, is a claim.
 */
export function answerNeighborSolicitation(
  frame: Uint8Array,
  packetType: number,
  link: LinkIdentity,
  answering: OwnershipTable,
  held: OwnershipTable = answering,
): ResponderDecision {
  const early = linkLayerVerdict(packetType);
  if (early !== null) return ignore(early);
  const decoded = decodeNdpFrame(frame);
  if (!decoded.ok) return { kind: 'garbled', failure: decoded.error };
  const ndp = decoded.value;
  const message = ndp.message;
  if (macEquals(ndp.ethernet.source, link.mac)) return ignore('own-frame');
  if (isMulticastMac(ndp.ethernet.source)) return ignore('bad-sender');
  if (message.type === 'advertisement') {
    const mac = message.targetLinkLayer ?? ndp.ethernet.source;
    if (!macEquals(mac, link.mac) && checkOwnership(held, message.target, link.name) === 'owned') return { kind: 'claim', ip: message.target, mac };
    return ignore('not-a-request');
  }
  if (ndp.source.value !== 0n && checkOwnership(held, ndp.source, link.name) === 'owned') {
    return { kind: 'claim', ip: ndp.source, mac: message.sourceLinkLayer ?? ndp.ethernet.source };
  }
  const target = message.target;
  const toTarget = ndp.destination.value === target.value;
  if (!toTarget && ndp.destination.value !== solicitedNodeMulticast(target).value) return ignore('not-for-us', target);
  return (
    ownershipVerdict(answering, target, link) ?? {
      kind: 'reply',
      ip: target,
      frame: buildSolicitedAdvertisement(ndp as NdpFrame & { message: NeighborSolicitation }, link.mac),
    }
  );
}
