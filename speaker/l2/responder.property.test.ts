// The responder's decisions under arbitrary frames (fast-check): whatever the
// wire gives, it never throws, never answers for an IP it is not told to, never
// answers with another MAC, and never calls its own frames a claim.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildArpProbe, buildGratuitousArp, decodeArpFrame, encodeArpFrame } from './arp.ts';
import { BROADCAST_MAC, macEquals } from './ethernet.ts';
import { multicastMacFor, solicitedNodeMulticast } from './ipv6.ts';
import { buildDadProbe, buildUnsolicitedAdvertisement, decodeNdpFrame, encodeNdpFrame } from './ndp.ts';
import type { AllowedInterfaces, OwnershipTable } from './ownership.ts';
import { PacketType } from './packet-type.ts';
import { answerArp, answerNeighborSolicitation, type LinkIdentity } from './responder.ts';
import { ip } from './fixtures.test-util.ts';
import { ipFromValue } from '../../shared/net/index.ts';

const LINK: LinkIdentity = { name: 'eth0', mac: Uint8Array.of(2, 0, 0, 0, 0, 0x0b) };
const OWNED = ['203.0.113.10', '203.0.113.11', '2001:db8:100::10'];
const answering: OwnershipTable = new Map<string, AllowedInterfaces>(OWNED.map((t) => [ip(t).text, 'all']));
const held: OwnershipTable = new Map<string, AllowedInterfaces>([...answering, [ip('203.0.113.12').text, 'all']]);

const arbMac = fc.uint8Array({ minLength: 6, maxLength: 6 });
const arbV4 = fc.oneof(fc.constantFrom(...OWNED.slice(0, 2), '203.0.113.12', '0.0.0.0'), fc.ipV4()).map(ip);
const arbV6 = fc.oneof(fc.constantFrom('2001:db8:100::10', '2001:db8:1::1', '::').map(ip), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((v) => ipFromValue(6, v)));
const arbPacketType = fc.constantFrom(PacketType.host, PacketType.broadcast, PacketType.multicast, PacketType.otherHost, PacketType.outgoing);

const arbArpFrame = fc.oneof(
  fc.record({ op: fc.constantFrom<'request' | 'reply'>('request', 'reply'), senderMac: arbMac, senderIP: arbV4, targetIP: arbV4, to: fc.oneof(fc.constant(BROADCAST_MAC), arbMac) }).map((f) =>
    encodeArpFrame({
      ethernet: { destination: f.to, source: f.senderMac, etherType: 0x0806 },
      arp: { operation: f.op, senderMac: f.senderMac, senderIP: f.senderIP, targetMac: new Uint8Array(6), targetIP: f.targetIP },
    }),
  ),
  fc.tuple(arbV4, arbMac).map(([a, m]) => buildGratuitousArp(a, m)[0]),
  fc.tuple(arbV4, arbMac).map(([a, m]) => buildArpProbe(a, m)),
);

const arbNdpFrame = fc.oneof(
  fc.record({ target: arbV6, source: arbV6, mac: arbMac, sll: fc.boolean() }).map((f) => {
    const group = solicitedNodeMulticast(f.target);
    return encodeNdpFrame({
      ethernet: { destination: multicastMacFor(group), source: f.mac, etherType: 0x86dd },
      source: f.source,
      destination: group,
      hopLimit: 255,
      message: { type: 'solicitation', target: f.target, sourceLinkLayer: f.sll ? f.mac : null },
    });
  }),
  fc.tuple(arbV6, arbMac).map(([a, m]) => buildUnsolicitedAdvertisement(a, m)),
  fc.tuple(arbV6, arbMac).map(([a, m]) => buildDadProbe(a, m)),
);

/** Some frames as built, some with a byte changed or cut short. */
const mangled = (frames: fc.Arbitrary<Uint8Array>) =>
  fc.oneof(
    frames,
    fc.tuple(frames, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([f, at, x]) => {
      const copy = f.slice();
      copy[at % copy.length]! ^= x;
      return copy;
    }),
    fc.tuple(frames, fc.nat()).map(([f, n]) => f.subarray(0, n % (f.length + 1))),
    fc.uint8Array({ maxLength: 120 }),
  );

describe('responder decisions (property)', () => {
  it('ARP: replies only for IPs it answers, from our MAC, to the asker; claims only other MACs on held IPs', () => {
    fc.assert(
      fc.property(mangled(arbArpFrame), arbPacketType, (frame, packetType) => {
        const d = answerArp(frame, packetType, LINK, answering, held);
        if (d.kind === 'reply') {
          expect(answering.has(d.ip.text)).toBe(true);
          const reply = decodeArpFrame(d.frame);
          expect(reply.ok).toBe(true);
          if (reply.ok) {
            expect(macEquals(reply.value.arp.senderMac, LINK.mac)).toBe(true);
            expect(reply.value.arp.senderIP.text).toBe(d.ip.text);
          }
        }
        if (d.kind === 'claim') {
          expect(held.has(d.ip.text)).toBe(true);
          expect(macEquals(d.mac, LINK.mac)).toBe(false);
        }
        if (packetType === PacketType.outgoing) expect(d.kind).toBe('ignore');
      }),
      { numRuns: 2_000 },
    );
  });

  it('NDP: replies only for IPs it answers, with our MAC; claims only other MACs on held IPs', () => {
    fc.assert(
      fc.property(mangled(arbNdpFrame), arbPacketType, (frame, packetType) => {
        const d = answerNeighborSolicitation(frame, packetType, LINK, answering, held);
        if (d.kind === 'reply') {
          expect(answering.has(d.ip.text)).toBe(true);
          const na = decodeNdpFrame(d.frame);
          expect(na.ok).toBe(true);
          if (na.ok && na.value.message.type === 'advertisement') expect(macEquals(na.value.message.targetLinkLayer!, LINK.mac)).toBe(true);
        }
        if (d.kind === 'claim') {
          expect(held.has(d.ip.text)).toBe(true);
          expect(macEquals(d.mac, LINK.mac)).toBe(false);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('an empty table answers nothing and claims nothing', () => {
    const empty: OwnershipTable = new Map();
    fc.assert(
      fc.property(mangled(fc.oneof(arbArpFrame, arbNdpFrame)), arbPacketType, (frame, packetType) => {
        expect(['ignore', 'garbled']).toContain(answerArp(frame, packetType, LINK, empty).kind);
        expect(['ignore', 'garbled']).toContain(answerNeighborSolicitation(frame, packetType, LINK, empty).kind);
      }),
    );
    expect(ipFromValue(4, 0n).text).toBe('0.0.0.0');
  });
});
