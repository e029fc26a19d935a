import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildGratuitousArp } from './arp.ts';
import { buildUnsolicitedAdvertisement } from './ndp.ts';
import { PacketType } from './packet-type.ts';
import { arpFilter, encodeBpfProgram, neighborDiscoveryFilter, payloadPrefixFilter, runBpf } from './socket-filters.ts';
import { ip, LINUX_ARP_REQUEST, LINUX_DAD_SOLICITATION, LINUX_NEIGHBOR_SOLICITATION } from './fixtures.test-util.ts';

const MAC = Uint8Array.of(2, 0, 0, 0, 0, 1);

describe('socket filters', () => {
  it('pass ARP requests and replies, and drop outgoing copies, short frames and other EtherTypes', () => {
    const [garpRequest, garpReply] = buildGratuitousArp(ip('203.0.113.10'), MAC);
    expect(runBpf(arpFilter, LINUX_ARP_REQUEST, PacketType.broadcast)).toBeGreaterThan(0);
    expect(runBpf(arpFilter, garpRequest, PacketType.broadcast)).toBeGreaterThan(0);
    expect(runBpf(arpFilter, garpReply, PacketType.host)).toBeGreaterThan(0);
    expect(runBpf(arpFilter, LINUX_ARP_REQUEST, PacketType.outgoing)).toBe(0);
    expect(runBpf(arpFilter, LINUX_ARP_REQUEST.subarray(0, 11), PacketType.broadcast)).toBe(0);
    expect(runBpf(arpFilter, LINUX_NEIGHBOR_SOLICITATION, PacketType.multicast)).toBe(0);
  });

  it('pass Neighbor Solicitations and Advertisements, and drop other ICMPv6 and other traffic', () => {
    expect(runBpf(neighborDiscoveryFilter, LINUX_NEIGHBOR_SOLICITATION, PacketType.multicast)).toBeGreaterThan(0);
    expect(runBpf(neighborDiscoveryFilter, LINUX_DAD_SOLICITATION, PacketType.multicast)).toBeGreaterThan(0);
    const na = buildUnsolicitedAdvertisement(ip('2001:db8::1'), MAC);
    expect(runBpf(neighborDiscoveryFilter, na, PacketType.multicast)).toBeGreaterThan(0);
    const routerSolicitation = na.slice();
    routerSolicitation[54] = 133;
    expect(runBpf(neighborDiscoveryFilter, routerSolicitation, PacketType.multicast)).toBe(0);
    expect(runBpf(neighborDiscoveryFilter, LINUX_NEIGHBOR_SOLICITATION, PacketType.outgoing)).toBe(0);
    expect(runBpf(neighborDiscoveryFilter, LINUX_ARP_REQUEST, PacketType.broadcast)).toBe(0);
  });

  it('pass only frames of the EtherType whose payload starts with the prefix', () => {
    const filter = payloadPrefixFilter(0x88b5, Uint8Array.of(0x42, 0x4c, 0x48, 0x42, 2));
    const frame = new Uint8Array(80);
    frame.set([0x88, 0xb5], 12);
    frame.set([0x42, 0x4c, 0x48, 0x42, 2], 14);
    expect(runBpf(filter, frame, PacketType.broadcast)).toBeGreaterThan(0);
    expect(runBpf(filter, frame, PacketType.outgoing)).toBe(0);
    fc.assert(
      fc.property(fc.integer({ min: 12, max: 18 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const bad = frame.slice();
        bad[at]! ^= flip;
        expect(runBpf(filter, bad, PacketType.broadcast)).toBe(0);
      }),
    );
    expect(runBpf(filter, frame.subarray(0, 18), PacketType.broadcast)).toBe(0);
  });

  it('encode as 8-byte struct sock_filter entries', () => {
    const bytes = encodeBpfProgram(arpFilter);
    expect(bytes.length).toBe(arpFilter.length * 8);
    expect(bytes.readUInt16LE(0)).toBe(arpFilter[0]!.code);
  });
});
