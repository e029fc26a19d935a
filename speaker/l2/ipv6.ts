// The IPv6 fixed header (RFC 8200 §3) and the ICMPv6 checksum (RFC 4443 §2.3),
// as far as Neighbor Discovery needs them.
import { ipFromValue, type IPAddress } from '../../shared/net/index.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import { decodeFailure, type DecodeFailure } from './decode-failure.ts';
import type { MacAddress } from './ethernet.ts';
import { ipv6FromBytes, lazyIPv6, writeIP } from './ip-bytes.ts';

export const IPV6_HEADER_LENGTH = 40;
export const NEXT_HEADER_ICMPV6 = 58;

export const ALL_NODES: IPAddress = ipFromValue(6, 0xff02n << 112n | 1n);
export const UNSPECIFIED: IPAddress = ipFromValue(6, 0n);

export interface IPv6Header {
  readonly source: IPAddress;
  readonly destination: IPAddress;
  readonly nextHeader: number;
  readonly hopLimit: number;
}

export interface IPv6Packet {
  readonly header: IPv6Header;
  /** Exactly `payload length` bytes; any Ethernet padding after them is dropped. */
  readonly payload: Uint8Array;
}

/** Decodes the IPv6 header that starts at `offset`. Extension headers are not followed. */
export function decodeIPv6(frame: Uint8Array, offset: number): Result<IPv6Packet, DecodeFailure> {
  if (frame.length < offset + IPV6_HEADER_LENGTH) {
    return err(decodeFailure('truncated', `IPv6 header needs 40 bytes, ${Math.max(0, frame.length - offset)} present`));
  }
  const version = frame[offset]! >> 4;
  if (version !== 6) return err(decodeFailure('unsupported-format', `IP version ${version} in an IPv6 frame`));
  const payloadLength = (frame[offset + 4]! << 8) | frame[offset + 5]!;
  const available = frame.length - offset - IPV6_HEADER_LENGTH;
  if (payloadLength > available) {
    return err(decodeFailure('truncated', `IPv6 payload length ${payloadLength}, ${available} bytes present`));
  }
  const start = offset + IPV6_HEADER_LENGTH;
  return ok({
    header: {
      nextHeader: frame[offset + 6]!,
      hopLimit: frame[offset + 7]!,
      source: ipv6FromBytes(frame, offset + 8),
      destination: ipv6FromBytes(frame, offset + 24),
    },
    payload: frame.subarray(start, start + payloadLength),
  });
}

export function writeIPv6Header(frame: Uint8Array, offset: number, header: IPv6Header, payloadLength: number): void {
  frame.fill(0, offset, offset + 4);
  frame[offset] = 0x60;
  frame[offset + 4] = payloadLength >> 8;
  frame[offset + 5] = payloadLength & 0xff;
  frame[offset + 6] = header.nextHeader;
  frame[offset + 7] = header.hopLimit;
  writeIP(frame, offset + 8, header.source);
  writeIP(frame, offset + 24, header.destination);
}

/**
 * The ICMPv6 checksum over the pseudo-header (source, destination, upper-layer
 * length, next header 58) and `message`. Computing it over a message whose
 * checksum field holds a correct checksum yields 0.
 */
export function icmpv6Checksum(source: IPAddress, destination: IPAddress, message: Uint8Array): number {
  let sum = addressWords(source) + addressWords(destination) + (message.length >>> 16) + (message.length & 0xffff) + NEXT_HEADER_ICMPV6;
  const even = message.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (message[i]! << 8) | message[i + 1]!;
  if (message.length & 1) sum += message[even]! << 8;
  // Plain arithmetic, not bitwise: a jumbo message can push the sum past 2^31.
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function addressWords(ip: IPAddress): number {
  let sum = 0;
  let value = ip.value;
  for (let i = 0; i < 8; i++) {
    sum += Number(value & 0xffffn);
    value >>= 16n;
  }
  return sum;
}

export const isMulticastIPv6 = (ip: IPAddress): boolean => ip.family === 6 && ip.value >> 120n === 0xffn;

const SOLICITED_NODE_PREFIX = 0xff02_0000_0000_0000_0000_0001_ff00_0000n;

/** ff02::1:ffXX:XXXX, the group an NS for `ip` is sent to (RFC 4291 §2.7.1). */
export function solicitedNodeMulticast(ip: IPAddress): IPAddress {
  return lazyIPv6(SOLICITED_NODE_PREFIX | (ip.value & 0xff_ffffn));
}

export const isSolicitedNodeMulticast = (ip: IPAddress): boolean =>
  ip.family === 6 && ip.value >> 24n === SOLICITED_NODE_PREFIX >> 24n;

/** 33:33 followed by the group's low 32 bits (RFC 2464 §7). */
export function multicastMacFor(group: IPAddress): MacAddress {
  const low = Number(group.value & 0xffff_ffffn);
  return Uint8Array.of(0x33, 0x33, low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff);
}
