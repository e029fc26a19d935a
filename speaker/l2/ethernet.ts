import { err, ok, type Result } from '../../shared/result.ts';
import { decodeFailure, type DecodeFailure } from './decode-failure.ts';

/** A 48-bit Ethernet (EUI-48) address, 6 bytes. */
export type MacAddress = Uint8Array;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;

export const ETHERNET_HEADER_LENGTH = 14;
export const BROADCAST_MAC: MacAddress = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
export const ZERO_MAC: MacAddress = new Uint8Array(6);

export interface EthernetHeader {
  readonly destination: MacAddress;
  readonly source: MacAddress;
  readonly etherType: number;
}

/**
 * Decodes the 14-byte Ethernet II header. 802.1Q/802.1ad-tagged frames are
 * rejected as `vlan-tagged`: the kernel strips tags before a packet socket
 * bound to ARP/IPv6 sees a frame, and a tagged frame that still reaches us
 * belongs to a VLAN we have no interface for, so answering it on the untagged
 * interface would announce the IP on the wrong segment.
 */
export function decodeEthernet(frame: Uint8Array): Result<EthernetHeader, DecodeFailure> {
  if (frame.length < ETHERNET_HEADER_LENGTH) {
    return err(decodeFailure('truncated', `Ethernet header needs 14 bytes, frame has ${frame.length}`));
  }
  const etherType = (frame[12]! << 8) | frame[13]!;
  if (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ) {
    return err(decodeFailure('vlan-tagged', `VLAN tag (EtherType 0x${etherType.toString(16)})`));
  }
  return ok({ destination: copyBytes(frame, 0, 6), source: copyBytes(frame, 6, 12), etherType });
}

/** Writes an Ethernet II header at offset 0 of `frame`. */
export function writeEthernetHeader(frame: Uint8Array, header: EthernetHeader): void {
  frame.set(header.destination, 0);
  frame.set(header.source, 6);
  frame[12] = header.etherType >> 8;
  frame[13] = header.etherType & 0xff;
}

export const isMulticastMac = (mac: MacAddress): boolean => (mac[0]! & 1) === 1;
export const isZeroMac = (mac: MacAddress): boolean => mac.every((b) => b === 0);

export function macEquals(a: MacAddress, b: MacAddress): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function formatMac(mac: MacAddress): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function parseMac(text: string): Result<MacAddress> {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    return err(`"${text}" is not a 48-bit MAC address (aa:bb:cc:dd:ee:ff)`);
  }
  return ok(Uint8Array.from(parts, (p) => Number.parseInt(p, 16)));
}

/** A copy as a plain Uint8Array (Buffer#slice aliases, and slice keeps the Buffer species). */
export const copyBytes = (bytes: Uint8Array, start: number, end: number): Uint8Array => new Uint8Array(bytes.subarray(start, end));
