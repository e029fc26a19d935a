import { describe, expect, it } from 'vitest';
import { buildGratuitousArp } from './arp.ts';
import { buildUnsolicitedAdvertisement } from './ndp.ts';
import { PacketType } from './packet-type.ts';
import { arpRequestFilter, encodeBpfProgram, neighborSolicitationFilter, runBpf } from './socket-filters.ts';
import { ip, LINUX_ARP_REQUEST, LINUX_DAD_SOLICITATION, LINUX_NEIGHBOR_SOLICITATION } from './fixtures.test-util.ts';

const MAC = Uint8Array.of(2, 0, 0, 0, 0, 1);

describe('socket filters', () => {
  it('pass ARP requests and drop replies, outgoing copies and short frames', () => {
    const [garpRequest, garpReply] = buildGratuitousArp(ip('203.0.113.10'), MAC);
    expect(runBpf(arpRequestFilter, LINUX_ARP_REQUEST, PacketType.broadcast)).toBeGreaterThan(0);
    expect(runBpf(arpRequestFilter, garpRequest, PacketType.broadcast)).toBeGreaterThan(0);
    expect(runBpf(arpRequestFilter, garpReply, PacketType.broadcast)).toBe(0);
    expect(runBpf(arpRequestFilter, LINUX_ARP_REQUEST, PacketType.outgoing)).toBe(0);
    expect(runBpf(arpRequestFilter, LINUX_ARP_REQUEST.subarray(0, 21), PacketType.broadcast)).toBe(0);
    expect(runBpf(arpRequestFilter, LINUX_NEIGHBOR_SOLICITATION, PacketType.multicast)).toBe(0);
  });

  it('pass Neighbor Solicitations and drop advertisements and other traffic', () => {
    expect(runBpf(neighborSolicitationFilter, LINUX_NEIGHBOR_SOLICITATION, PacketType.multicast)).toBeGreaterThan(0);
    expect(runBpf(neighborSolicitationFilter, LINUX_DAD_SOLICITATION, PacketType.multicast)).toBeGreaterThan(0);
    expect(runBpf(neighborSolicitationFilter, buildUnsolicitedAdvertisement(ip('2001:db8::1'), MAC), PacketType.multicast)).toBe(0);
    expect(runBpf(neighborSolicitationFilter, LINUX_NEIGHBOR_SOLICITATION, PacketType.outgoing)).toBe(0);
    expect(runBpf(neighborSolicitationFilter, LINUX_ARP_REQUEST, PacketType.broadcast)).toBe(0);
  });

  it('encode as 8-byte struct sock_filter entries', () => {
    const bytes = encodeBpfProgram(arpRequestFilter);
    expect(bytes.length).toBe(arpRequestFilter.length * 8);
    expect(bytes.readUInt16LE(0)).toBe(arpRequestFilter[0]!.code);
  });
});
