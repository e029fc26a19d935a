// ARP for IPv4 over Ethernet (RFC 826), and gratuitous ARP (RFC 5227 §3).
import { ipFromValue, type IPAddress } from '../../shared/net/index.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import { decodeFailure, type DecodeFailure } from './decode-failure.ts';
import {
  BROADCAST_MAC,
  decodeEthernet,
  ETHERNET_HEADER_LENGTH,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  writeEthernetHeader,
  copyBytes,
  ZERO_MAC,
  type EthernetHeader,
  type MacAddress,
} from './ethernet.ts';
import { ipv4FromBytes, writeIP } from './ip-bytes.ts';

const HARDWARE_ETHERNET = 1;
const OP_REQUEST = 1;
const OP_REPLY = 2;
const ARP_LENGTH = 28;
/** Ethernet header + ARP body; shorter than the 60-byte Ethernet minimum, which drivers pad. */
export const ARP_FRAME_LENGTH = ETHERNET_HEADER_LENGTH + ARP_LENGTH;

export type ArpOperation = 'request' | 'reply';

export interface ArpPacket {
  readonly operation: ArpOperation;
  readonly senderMac: MacAddress;
  readonly senderIP: IPAddress;
  readonly targetMac: MacAddress;
  readonly targetIP: IPAddress;
}

export interface ArpFrame {
  readonly ethernet: EthernetHeader;
  readonly arp: ArpPacket;
}

export function decodeArpFrame(frame: Uint8Array): Result<ArpFrame, DecodeFailure> {
  const ethernet = decodeEthernet(frame);
  if (!ethernet.ok) return ethernet;
  if (ethernet.value.etherType !== ETHERTYPE_ARP) {
    return err(decodeFailure('wrong-ethertype', `EtherType 0x${ethernet.value.etherType.toString(16)} is not ARP`));
  }
  // Trailing bytes are Ethernet padding (frames are at least 60 bytes on the wire).
  if (frame.length < ARP_FRAME_LENGTH) {
    return err(decodeFailure('truncated', `ARP frame needs ${ARP_FRAME_LENGTH} bytes, has ${frame.length}`));
  }
  const o = ETHERNET_HEADER_LENGTH;
  const hardwareType = (frame[o]! << 8) | frame[o + 1]!;
  const protocolType = (frame[o + 2]! << 8) | frame[o + 3]!;
  const hardwareLength = frame[o + 4]!;
  const protocolLength = frame[o + 5]!;
  if (hardwareType !== HARDWARE_ETHERNET || protocolType !== ETHERTYPE_IPV4 || hardwareLength !== 6 || protocolLength !== 4) {
    return err(
      decodeFailure(
        'unsupported-format',
        `ARP hardware type ${hardwareType}/length ${hardwareLength}, protocol 0x${protocolType.toString(16)}/length ${protocolLength}; only Ethernet/IPv4 is handled`,
      ),
    );
  }
  const opcode = (frame[o + 6]! << 8) | frame[o + 7]!;
  if (opcode !== OP_REQUEST && opcode !== OP_REPLY) {
    return err(decodeFailure('unsupported-format', `ARP operation ${opcode} is neither request (1) nor reply (2)`));
  }
  return ok({
    ethernet: ethernet.value,
    arp: {
      operation: opcode === OP_REQUEST ? 'request' : 'reply',
      senderMac: copyBytes(frame, o + 8, o + 14),
      senderIP: ipv4FromBytes(frame, o + 14),
      targetMac: copyBytes(frame, o + 18, o + 24),
      targetIP: ipv4FromBytes(frame, o + 24),
    },
  });
}

export function encodeArpFrame({ ethernet, arp }: ArpFrame): Uint8Array {
  if (arp.senderIP.family !== 4 || arp.targetIP.family !== 4) {
    throw new Error(`ARP carries IPv4 addresses only, got ${arp.senderIP.text} and ${arp.targetIP.text}`);
  }
  const frame = new Uint8Array(ARP_FRAME_LENGTH);
  writeEthernetHeader(frame, ethernet);
  const o = ETHERNET_HEADER_LENGTH;
  frame[o + 1] = HARDWARE_ETHERNET;
  frame[o + 2] = ETHERTYPE_IPV4 >> 8;
  frame[o + 3] = ETHERTYPE_IPV4 & 0xff;
  frame[o + 4] = 6;
  frame[o + 5] = 4;
  frame[o + 7] = arp.operation === 'request' ? OP_REQUEST : OP_REPLY;
  frame.set(arp.senderMac, o + 8);
  writeIP(frame, o + 14, arp.senderIP);
  frame.set(arp.targetMac, o + 18);
  writeIP(frame, o + 24, arp.targetIP);
  return frame;
}

/**
 * The reply to `request`, claiming its target IP for `ourMac`, sent to the
 * requester's hardware address (as Linux does). A DAD probe (sender IP
 * 0.0.0.0, RFC 5227 §2.1.1) gets its reply too, which is what tells the
 * prober that the address is taken.
 */
export function buildArpReply(request: ArpPacket, ourMac: MacAddress): Uint8Array {
  return encodeArpFrame({
    ethernet: { destination: request.senderMac, source: ourMac, etherType: ETHERTYPE_ARP },
    arp: {
      operation: 'reply',
      senderMac: ourMac,
      senderIP: request.targetIP,
      targetMac: request.senderMac,
      targetIP: request.senderIP,
    },
  });
}

/**
 * Gratuitous ARP for a takeover, as MetalLB sends it: a broadcast request and
 * a broadcast reply, both with sender IP = target IP = `ip`. Some stacks only
 * act on one of the two. The request's target MAC is zero (RFC 5227 §3); the
 * reply's is broadcast, which Linux (>= 4.11, arp_is_garp) accepts as
 * gratuitous and so applies even inside the 1 s neighbour locktime.
 */
export function buildGratuitousArp(ip: IPAddress, ourMac: MacAddress): readonly [request: Uint8Array, reply: Uint8Array] {
  const ethernet = { destination: BROADCAST_MAC, source: ourMac, etherType: ETHERTYPE_ARP };
  const announce = (operation: ArpOperation, targetMac: MacAddress): Uint8Array =>
    encodeArpFrame({ ethernet, arp: { operation, senderMac: ourMac, senderIP: ip, targetMac, targetIP: ip } });
  return [announce('request', ZERO_MAC), announce('reply', BROADCAST_MAC)];
}

/**
 * An ARP probe (RFC 5227 §2.1.1): who has `ip`, asked with sender IP 0.0.0.0
 * so that no host's neighbour table learns anything from it. Whoever holds
 * the address answers it to our MAC.
 */
export function buildArpProbe(ip: IPAddress, ourMac: MacAddress): Uint8Array {
  return encodeArpFrame({
    ethernet: { destination: BROADCAST_MAC, source: ourMac, etherType: ETHERTYPE_ARP },
    arp: { operation: 'request', senderMac: ourMac, senderIP: UNSPECIFIED_IPV4, targetMac: ZERO_MAC, targetIP: ip },
  });
}

/** An ordinary who-has `ip`, asked from `ourIP` (what a client on the LAN sends; the lab's and kind's probes). */
export function buildArpRequest(ip: IPAddress, ourIP: IPAddress, ourMac: MacAddress): Uint8Array {
  return encodeArpFrame({
    ethernet: { destination: BROADCAST_MAC, source: ourMac, etherType: ETHERTYPE_ARP },
    arp: { operation: 'request', senderMac: ourMac, senderIP: ourIP, targetMac: ZERO_MAC, targetIP: ip },
  });
}

const UNSPECIFIED_IPV4 = ipFromValue(4, 0n);
