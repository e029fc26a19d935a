// Neighbor Solicitation / Advertisement (RFC 4861 §4.3, §4.4) over Ethernet,
// with the receive-side validity checks of §7.1.1 and §7.1.2.
import { ipFromValue, type IPAddress } from '../../shared/net/index.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import { decodeFailure, type DecodeFailure } from './decode-failure.ts';
import {
  decodeEthernet,
  ETHERNET_HEADER_LENGTH,
  ETHERTYPE_IPV6,
  writeEthernetHeader,
  copyBytes,
  type EthernetHeader,
  type MacAddress,
} from './ethernet.ts';
import { ipv6FromBytes, writeIP } from './ip-bytes.ts';
import {
  ALL_NODES,
  decodeIPv6,
  icmpv6Checksum,
  IPV6_HEADER_LENGTH,
  isMulticastIPv6,
  isSolicitedNodeMulticast,
  multicastMacFor,
  NEXT_HEADER_ICMPV6,
  solicitedNodeMulticast,
  writeIPv6Header,
} from './ipv6.ts';

const TYPE_SOLICITATION = 135;
const TYPE_ADVERTISEMENT = 136;
const OPTION_SOURCE_LINK_LAYER = 1;
const OPTION_TARGET_LINK_LAYER = 2;
/** Type, code, checksum, 4 bytes reserved/flags, 16 bytes target. */
const MESSAGE_LENGTH = 24;
/** A link-layer address option for Ethernet is one 8-byte unit (RFC 2464 §6). */
const LINK_LAYER_OPTION_LENGTH = 8;
/** RFC 4861 §7.1.1: a hop limit below 255 means the packet crossed a router. */
export const NDP_HOP_LIMIT = 255;

export interface NeighborSolicitation {
  readonly type: 'solicitation';
  readonly target: IPAddress;
  readonly sourceLinkLayer: MacAddress | null;
}

export interface NeighborAdvertisement {
  readonly type: 'advertisement';
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  readonly target: IPAddress;
  readonly targetLinkLayer: MacAddress | null;
}

export type NdpMessage = NeighborSolicitation | NeighborAdvertisement;

export interface NdpFrame {
  readonly ethernet: EthernetHeader;
  readonly source: IPAddress;
  readonly destination: IPAddress;
  readonly hopLimit: number;
  readonly message: NdpMessage;
}

export function decodeNdpFrame(frame: Uint8Array): Result<NdpFrame, DecodeFailure> {
  const ethernet = decodeEthernet(frame);
  if (!ethernet.ok) return ethernet;
  if (ethernet.value.etherType !== ETHERTYPE_IPV6) {
    return err(decodeFailure('wrong-ethertype', `EtherType 0x${ethernet.value.etherType.toString(16)} is not IPv6`));
  }
  const packet = decodeIPv6(frame, ETHERNET_HEADER_LENGTH);
  if (!packet.ok) return packet;
  const { header, payload } = packet.value;
  if (header.nextHeader !== NEXT_HEADER_ICMPV6) {
    return err(decodeFailure('not-neighbor-discovery', `next header ${header.nextHeader} is not ICMPv6 (extension headers are not followed)`));
  }
  if (payload.length < 4) return err(decodeFailure('truncated', `ICMPv6 message of ${payload.length} bytes`));
  const type = payload[0]!;
  if (type !== TYPE_SOLICITATION && type !== TYPE_ADVERTISEMENT) {
    return err(decodeFailure('not-neighbor-discovery', `ICMPv6 type ${type}`));
  }
  if (header.hopLimit !== NDP_HOP_LIMIT) {
    return err(decodeFailure('bad-hop-limit', `hop limit ${header.hopLimit}, must be 255 (RFC 4861 §7.1.1)`));
  }
  if (icmpv6Checksum(header.source, header.destination, payload) !== 0) {
    return err(decodeFailure('bad-checksum', 'ICMPv6 checksum does not match'));
  }
  if (payload[1] !== 0) return err(decodeFailure('bad-code', `ICMPv6 code ${payload[1]}, must be 0`));
  if (payload.length < MESSAGE_LENGTH) {
    return err(decodeFailure('bad-length', `${payload.length}-byte neighbor discovery message, at least 24 required`));
  }
  const target = ipv6FromBytes(payload, 8);
  if (isMulticastIPv6(target)) return err(decodeFailure('invalid-address', `target ${target.text} is multicast`));
  // RFC 4291 §2.7: a multicast address is never a source. Found by the responder's property test:
  // answering one would send a "solicited" advertisement to a multicast group.
  if (isMulticastIPv6(header.source)) return err(decodeFailure('invalid-address', `source ${header.source.text} is multicast`));
  const options = decodeLinkLayerOptions(payload.subarray(MESSAGE_LENGTH));
  if (!options.ok) return options;

  const common = { ethernet: ethernet.value, source: header.source, destination: header.destination, hopLimit: header.hopLimit };
  if (type === TYPE_SOLICITATION) {
    if (header.source.value === 0n) {
      // Duplicate Address Detection probe (RFC 4861 §7.1.1).
      if (!isSolicitedNodeMulticast(header.destination)) {
        return err(decodeFailure('invalid-address', `DAD solicitation sent to ${header.destination.text}, not a solicited-node group`));
      }
      if (options.value.source !== null) return err(decodeFailure('bad-option', 'DAD solicitation carries a source link-layer address'));
    }
    return ok({ ...common, message: { type: 'solicitation', target, sourceLinkLayer: options.value.source } });
  }
  const flags = payload[4]!;
  const solicited = (flags & 0x40) !== 0;
  if (solicited && isMulticastIPv6(header.destination)) {
    return err(decodeFailure('invalid-address', 'solicited advertisement sent to a multicast address (RFC 4861 §7.1.2)'));
  }
  return ok({
    ...common,
    message: {
      type: 'advertisement',
      router: (flags & 0x80) !== 0,
      solicited,
      override: (flags & 0x20) !== 0,
      target,
      targetLinkLayer: options.value.target,
    },
  });
}

interface LinkLayerOptions {
  readonly source: MacAddress | null;
  readonly target: MacAddress | null;
}

function decodeLinkLayerOptions(bytes: Uint8Array): Result<LinkLayerOptions, DecodeFailure> {
  let source: MacAddress | null = null;
  let target: MacAddress | null = null;
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 2) return err(decodeFailure('bad-option', 'option header cut short'));
    const type = bytes[offset]!;
    const length = bytes[offset + 1]! * 8;
    if (length === 0) return err(decodeFailure('bad-option', `option ${type} has length 0 (RFC 4861 §7.1.1)`));
    if (offset + length > bytes.length) return err(decodeFailure('bad-option', `option ${type} runs past the message`));
    if (type === OPTION_SOURCE_LINK_LAYER || type === OPTION_TARGET_LINK_LAYER) {
      if (length !== LINK_LAYER_OPTION_LENGTH) {
        return err(decodeFailure('bad-option', `link-layer address option of ${length} bytes, Ethernet uses 8`));
      }
      const mac = copyBytes(bytes, offset + 2, offset + 8);
      if (type === OPTION_SOURCE_LINK_LAYER) source = mac;
      else target = mac;
    }
    // Other options (nonce, MTU, ...) are skipped, as §4.3/§4.4 require.
    offset += length;
  }
  return ok({ source, target });
}

export function encodeNdpFrame(frame: NdpFrame): Uint8Array {
  const { message } = frame;
  if (frame.source.family !== 6 || frame.destination.family !== 6 || message.target.family !== 6) {
    throw new Error('NDP carries IPv6 addresses only');
  }
  const linkLayer = message.type === 'solicitation' ? message.sourceLinkLayer : message.targetLinkLayer;
  const messageLength = MESSAGE_LENGTH + (linkLayer === null ? 0 : LINK_LAYER_OPTION_LENGTH);
  const bytes = new Uint8Array(ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH + messageLength);
  writeEthernetHeader(bytes, frame.ethernet);
  writeIPv6Header(
    bytes,
    ETHERNET_HEADER_LENGTH,
    { source: frame.source, destination: frame.destination, nextHeader: NEXT_HEADER_ICMPV6, hopLimit: frame.hopLimit },
    messageLength,
  );
  const icmp = bytes.subarray(ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH);
  if (message.type === 'solicitation') {
    icmp[0] = TYPE_SOLICITATION;
  } else {
    icmp[0] = TYPE_ADVERTISEMENT;
    icmp[4] = (message.router ? 0x80 : 0) | (message.solicited ? 0x40 : 0) | (message.override ? 0x20 : 0);
  }
  writeIP(icmp, 8, message.target);
  if (linkLayer !== null) {
    icmp[MESSAGE_LENGTH] = message.type === 'solicitation' ? OPTION_SOURCE_LINK_LAYER : OPTION_TARGET_LINK_LAYER;
    icmp[MESSAGE_LENGTH + 1] = 1;
    icmp.set(linkLayer, MESSAGE_LENGTH + 2);
  }
  const checksum = icmpv6Checksum(frame.source, frame.destination, icmp);
  icmp[2] = checksum >> 8;
  icmp[3] = checksum & 0xff;
  return bytes;
}

/**
 * The answer to a Neighbor Solicitation for an address we announce: unicast
 * to the solicitor with S=1, O=0 (as MetalLB answers; O=0 leaves an existing
 * different cache entry alone, takeovers are carried by the unsolicited NA
 * with O=1). Link-layer destination is the solicitor's source link-layer
 * option, or the frame's source MAC for a unicast NUD probe without one
 * (RFC 4861 §7.2.2 lets those omit it). The IPv6 source is the target
 * address itself, as Linux does for its own addresses, so no link-local
 * address is needed on the interface.
 *
 * A DAD probe (source ::) is answered per §7.2.4 with S=0 to all-nodes,
 * which is the unsolicited advertisement.
 */
export function buildSolicitedAdvertisement(solicitation: NdpFrame & { message: NeighborSolicitation }, ourMac: MacAddress): Uint8Array {
  const target = solicitation.message.target;
  if (solicitation.source.value === 0n) return buildUnsolicitedAdvertisement(target, ourMac);
  return encodeNdpFrame({
    ethernet: {
      destination: solicitation.message.sourceLinkLayer ?? solicitation.ethernet.source,
      source: ourMac,
      etherType: ETHERTYPE_IPV6,
    },
    source: target,
    destination: solicitation.source,
    hopLimit: NDP_HOP_LIMIT,
    message: { type: 'advertisement', router: false, solicited: true, override: false, target, targetLinkLayer: ourMac },
  });
}

/** Takeover announcement: NA to all-nodes (ff02::1) with O=1 so caches switch to `ourMac` (RFC 4861 §7.2.6). */
export function buildUnsolicitedAdvertisement(ip: IPAddress, ourMac: MacAddress): Uint8Array {
  return encodeNdpFrame({
    ethernet: { destination: multicastMacFor(ALL_NODES), source: ourMac, etherType: ETHERTYPE_IPV6 },
    source: ip,
    destination: ALL_NODES,
    hopLimit: NDP_HOP_LIMIT,
    message: { type: 'advertisement', router: false, solicited: false, override: true, target: ip, targetLinkLayer: ourMac },
  });
}

/**
 * A duplicate address detection probe (RFC 4862 §5.4.2): a Neighbor
 * Solicitation for `ip` from the unspecified address, to its solicited-node
 * group, without a link-layer option. Whoever holds the address answers with
 * an advertisement to all nodes (§7.2.4), which we then see.
 */
export function buildDadProbe(ip: IPAddress, ourMac: MacAddress): Uint8Array {
  return solicit(ip, UNSPECIFIED_IPV6, ourMac, null);
}

/** An ordinary solicitation for `ip` from `ourIP`, with our link-layer address (what a client on the LAN sends). */
export function buildNeighborSolicitation(ip: IPAddress, ourIP: IPAddress, ourMac: MacAddress): Uint8Array {
  return solicit(ip, ourIP, ourMac, ourMac);
}

function solicit(ip: IPAddress, source: IPAddress, ourMac: MacAddress, sourceLinkLayer: MacAddress | null): Uint8Array {
  const group = solicitedNodeMulticast(ip);
  return encodeNdpFrame({
    ethernet: { destination: multicastMacFor(group), source: ourMac, etherType: ETHERTYPE_IPV6 },
    source,
    destination: group,
    hopLimit: NDP_HOP_LIMIT,
    message: { type: 'solicitation', target: ip, sourceLinkLayer },
  });
}

const UNSPECIFIED_IPV6 = ipFromValue(6, 0n);
