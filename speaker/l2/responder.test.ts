import { describe, expect, it } from 'vitest';
import { buildArpProbe, buildGratuitousArp, decodeArpFrame, encodeArpFrame } from './arp.ts';
import { BROADCAST_MAC, formatMac } from './ethernet.ts';
import { solicitedNodeMulticast, multicastMacFor } from './ipv6.ts';
import { buildDadProbe, buildUnsolicitedAdvertisement, decodeNdpFrame, encodeNdpFrame } from './ndp.ts';
import type { AllowedInterfaces, OwnershipTable } from './ownership.ts';
import { PacketType } from './packet-type.ts';
import { answerArp, answerNeighborSolicitation, type LinkIdentity } from './responder.ts';
import { ip, LINUX_ARP_REQUEST } from './fixtures.test-util.ts';

const ETH0: LinkIdentity = { name: 'eth0', mac: Uint8Array.of(2, 0, 0, 0, 0, 0x0b) };
const ETH1: LinkIdentity = { name: 'eth1', mac: Uint8Array.of(2, 0, 0, 0, 1, 0x0b) };
const CLIENT_MAC = Uint8Array.of(2, 0, 0, 0, 0, 0x0a);
const table: OwnershipTable = new Map<string, AllowedInterfaces>([
  ['203.0.113.10', 'all'],
  ['203.0.113.11', new Set(['eth1'])],
  ['2001:db8:100::10', 'all'],
  ['2001:db8:100::11', new Set(['eth1'])],
]);

function arpRequest(target: string, options: { sender?: string; senderMac?: Uint8Array; to?: Uint8Array } = {}): Uint8Array {
  const senderMac = options.senderMac ?? CLIENT_MAC;
  return encodeArpFrame({
    ethernet: { destination: options.to ?? BROADCAST_MAC, source: senderMac, etherType: 0x0806 },
    arp: { operation: 'request', senderMac, senderIP: ip(options.sender ?? '198.51.100.1'), targetMac: new Uint8Array(6), targetIP: ip(target) },
  });
}

function neighborSolicitation(target: string, options: { to?: string; from?: string; sll?: boolean; fromMac?: Uint8Array } = {}): Uint8Array {
  const destination = options.to === undefined ? solicitedNodeMulticast(ip(target)) : ip(options.to);
  const fromMac = options.fromMac ?? CLIENT_MAC;
  return encodeNdpFrame({
    ethernet: { destination: destination.value >> 120n === 0xffn ? multicastMacFor(destination) : ETH0.mac, source: fromMac, etherType: 0x86dd },
    source: ip(options.from ?? '2001:db8:1::1'),
    destination,
    hopLimit: 255,
    message: { type: 'solicitation', target: ip(target), sourceLinkLayer: options.sll === false ? null : fromMac },
  });
}

describe('answerArp', () => {
  it('replies to a broadcast request for an owned IP with the receiving interface MAC', () => {
    const decision = answerArp(arpRequest('203.0.113.10'), PacketType.broadcast, ETH0, table);
    expect(decision.kind).toBe('reply');
    if (decision.kind !== 'reply') return;
    expect(decision.ip.text).toBe('203.0.113.10');
    const reply = decodeArpFrame(decision.frame);
    expect(reply.ok && formatMac(reply.value.arp.senderMac)).toBe('02:00:00:00:00:0b');
    expect(reply.ok && formatMac(reply.value.ethernet.destination)).toBe('02:00:00:00:00:0a');
    const onEth1 = answerArp(arpRequest('203.0.113.10'), PacketType.broadcast, ETH1, table);
    expect(onEth1.kind === 'reply' && decodeArpFrame(onEth1.frame)).toMatchObject({ ok: true, value: { arp: { senderMac: ETH1.mac } } });
  });

  it('replies to a unicast refresh addressed to our MAC (Linux NUD probe for IPv4)', () => {
    expect(answerArp(arpRequest('203.0.113.10', { to: ETH0.mac }), PacketType.host, ETH0, table).kind).toBe('reply');
  });

  it.each([
    ['an IP nobody here owns', arpRequest('203.0.113.99'), PacketType.broadcast, ETH0, 'not-owned'],
    ['an IP owned on another interface only', arpRequest('203.0.113.11'), PacketType.broadcast, ETH0, 'wrong-interface'],
    ['a copy of an outgoing frame', arpRequest('203.0.113.10'), PacketType.outgoing, ETH0, 'outgoing'],
    ['a request unicast to another host', arpRequest('203.0.113.10'), PacketType.otherHost, ETH0, 'not-for-us'],
    ['a reply about an IP we do not hold', buildGratuitousArp(ip('203.0.113.99'), CLIENT_MAC)[1], PacketType.broadcast, ETH0, 'not-a-request'],
    ['a gratuitous request from another host for an IP we do not hold', buildGratuitousArp(ip('203.0.113.99'), CLIENT_MAC)[0], PacketType.broadcast, ETH0, 'gratuitous'],
    ['our own request looped back', arpRequest('203.0.113.10', { senderMac: ETH0.mac }), PacketType.broadcast, ETH0, 'own-frame'],
    ['a request from a multicast MAC', arpRequest('203.0.113.10', { senderMac: Uint8Array.of(1, 0, 0x5e, 0, 0, 1) }), PacketType.broadcast, ETH0, 'bad-sender'],
  ])('ignores %s', (_name, frame, packetType, link, reason) => {
    expect(answerArp(frame, packetType, link, table)).toMatchObject({ kind: 'ignore', reason });
  });

  it('sees another host claiming an IP we hold: its reply to our probe, its gratuitous ARP, a request sent from it', () => {
    const [garpRequest, garpReply] = buildGratuitousArp(ip('203.0.113.10'), CLIENT_MAC);
    for (const frame of [garpRequest, garpReply, arpRequest('198.51.100.1', { sender: '203.0.113.10' })]) {
      expect(answerArp(frame, PacketType.broadcast, ETH0, table)).toMatchObject({ kind: 'claim', ip: ip('203.0.113.10'), mac: CLIENT_MAC });
    }
    // Held but not answered (probing, or backed off): still a claim.
    expect(answerArp(garpReply, PacketType.broadcast, ETH0, new Map(), table).kind).toBe('claim');
    // Held on another interface only: not ours there.
    expect(answerArp(buildGratuitousArp(ip('203.0.113.11'), CLIENT_MAC)[1], PacketType.broadcast, ETH0, table).kind).toBe('ignore');
  });

  it('answers a probe (sender 0.0.0.0): that is how a prober learns the address is taken', () => {
    const probe = buildArpProbe(ip('203.0.113.10'), CLIENT_MAC);
    const decision = answerArp(probe, PacketType.broadcast, ETH0, table);
    expect(decision.kind).toBe('reply');
    if (decision.kind === 'reply') expect(decodeArpFrame(decision.frame)).toMatchObject({ ok: true, value: { arp: { targetMac: CLIENT_MAC, senderMac: ETH0.mac } } });
  });

  it('answers on the allowed interface only', () => {
    expect(answerArp(arpRequest('203.0.113.11'), PacketType.broadcast, ETH1, table).kind).toBe('reply');
  });

  it('reports garbled frames with the decoder reason', () => {
    expect(answerArp(LINUX_ARP_REQUEST.subarray(0, 30), PacketType.broadcast, ETH0, table)).toMatchObject({
      kind: 'garbled',
      failure: { reason: 'truncated' },
    });
  });

  it('follows a replaced table at once', () => {
    const empty: OwnershipTable = new Map();
    expect(answerArp(arpRequest('203.0.113.10'), PacketType.broadcast, ETH0, empty)).toMatchObject({ kind: 'ignore', reason: 'not-owned' });
  });
});

describe('answerNeighborSolicitation', () => {
  it('answers an NS to the solicited-node group with a solicited NA from our MAC', () => {
    const decision = answerNeighborSolicitation(neighborSolicitation('2001:db8:100::10'), PacketType.multicast, ETH0, table);
    expect(decision.kind).toBe('reply');
    if (decision.kind !== 'reply') return;
    const na = decodeNdpFrame(decision.frame);
    expect(na).toMatchObject({ ok: true, value: { destination: ip('2001:db8:1::1'), message: { solicited: true, targetLinkLayer: ETH0.mac } } });
  });

  it('answers a unicast NUD probe to the VIP itself, even without a source link-layer option (metallb#2920)', () => {
    const probe = neighborSolicitation('2001:db8:100::10', { to: '2001:db8:100::10', sll: false });
    const decision = answerNeighborSolicitation(probe, PacketType.host, ETH0, table);
    expect(decision.kind).toBe('reply');
    if (decision.kind !== 'reply') return;
    expect(decodeNdpFrame(decision.frame)).toMatchObject({ ok: true, value: { ethernet: { destination: CLIENT_MAC } } });
  });

  it.each([
    ['an IP nobody here owns', neighborSolicitation('2001:db8:100::99'), ETH0, 'not-owned'],
    ['an IP owned on another interface only', neighborSolicitation('2001:db8:100::11'), ETH0, 'wrong-interface'],
    ['an NS sent to an unrelated group', neighborSolicitation('2001:db8:100::10', { to: 'ff02::1' }), ETH0, 'not-for-us'],
    ['an advertisement for an IP we do not hold', buildUnsolicitedAdvertisement(ip('2001:db8:100::99'), CLIENT_MAC), ETH0, 'not-a-request'],
    ['our own advertisement looped back', buildUnsolicitedAdvertisement(ip('2001:db8:100::10'), ETH0.mac), ETH0, 'own-frame'],
    ['our own NS looped back', neighborSolicitation('2001:db8:100::10', { fromMac: ETH0.mac }), ETH0, 'own-frame'],
  ])('ignores %s', (_name, frame, link, reason) => {
    expect(answerNeighborSolicitation(frame, PacketType.multicast, link, table)).toMatchObject({ kind: 'ignore', reason });
  });

  it('sees another host claiming an IP we hold: its advertisement, or a solicitation sent from it', () => {
    expect(answerNeighborSolicitation(buildUnsolicitedAdvertisement(ip('2001:db8:100::10'), CLIENT_MAC), PacketType.multicast, ETH0, table)).toMatchObject({
      kind: 'claim',
      ip: ip('2001:db8:100::10'),
      mac: CLIENT_MAC,
    });
    expect(answerNeighborSolicitation(neighborSolicitation('2001:db8:1::1', { from: '2001:db8:100::10' }), PacketType.multicast, ETH0, table)).toMatchObject({ kind: 'claim' });
  });

  it('defends against a duplicate address detection probe with an advertisement to all nodes', () => {
    const decision = answerNeighborSolicitation(buildDadProbe(ip('2001:db8:100::10'), CLIENT_MAC), PacketType.multicast, ETH0, table);
    expect(decision.kind).toBe('reply');
    if (decision.kind === 'reply') expect(decodeNdpFrame(decision.frame)).toMatchObject({ ok: true, value: { destination: ip('ff02::1'), message: { solicited: false, targetLinkLayer: ETH0.mac } } });
  });

  it('counts a solicitation with a broken checksum as garbled', () => {
    const frame = neighborSolicitation('2001:db8:100::10');
    frame[frame.length - 1]! ^= 0xff;
    expect(answerNeighborSolicitation(frame, PacketType.multicast, ETH0, table)).toMatchObject({
      kind: 'garbled',
      failure: { reason: 'bad-checksum' },
    });
  });
});
