import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipFromValue } from '../../shared/net/index.ts';
import { formatMac } from './ethernet.ts';
import { icmpv6Checksum } from './ipv6.ts';
import {
  buildNeighborSolicitation,
  buildSolicitedAdvertisement,
  buildUnsolicitedAdvertisement,
  decodeNdpFrame,
  encodeNdpFrame,
  type NdpFrame,
  type NeighborSolicitation,
} from './ndp.ts';
import { ip, LINUX_DAD_SOLICITATION, LINUX_NEIGHBOR_SOLICITATION } from './fixtures.test-util.ts';

const OUR_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x0b);

function solicitation(frame: Uint8Array): NdpFrame & { message: NeighborSolicitation } {
  const decoded = decodeNdpFrame(frame);
  if (!decoded.ok || decoded.value.message.type !== 'solicitation') throw new Error('not a solicitation');
  return decoded.value as NdpFrame & { message: NeighborSolicitation };
}

/** Sets bytes of a copy of the frame and, unless told otherwise, fixes the ICMPv6 checksum up again. */
function edit(frame: Uint8Array, edits: Record<number, number>, fixChecksum = true): Uint8Array {
  const copy = frame.slice();
  for (const [at, value] of Object.entries(edits)) copy[Number(at)] = value;
  if (fixChecksum) {
    const payloadLength = (copy[18]! << 8) | copy[19]!;
    const message = copy.subarray(54, 54 + payloadLength);
    message[2] = 0;
    message[3] = 0;
    const src = ipFromValue(6, BigInt('0x' + Buffer.from(copy.subarray(22, 38)).toString('hex')));
    const dst = ipFromValue(6, BigInt('0x' + Buffer.from(copy.subarray(38, 54)).toString('hex')));
    const sum = icmpv6Checksum(src, dst, message);
    message[2] = sum >> 8;
    message[3] = sum & 0xff;
  }
  return copy;
}

describe('buildNeighborSolicitation', () => {
  it('solicits byte for byte as Linux does (checksum included)', () => {
    const mac = Uint8Array.from([2, 0, 0, 0, 0, 0x0a]);
    expect(Buffer.from(buildNeighborSolicitation(ip('2001:db8:1::2'), ip('2001:db8:1::1'), mac)).toString('hex')).toBe(Buffer.from(LINUX_NEIGHBOR_SOLICITATION).toString('hex'));
  });
});

describe('decodeNdpFrame', () => {
  it('decodes a Neighbor Solicitation captured from Linux', () => {
    const ns = solicitation(LINUX_NEIGHBOR_SOLICITATION);
    expect(ns.source.text).toBe('2001:db8:1::1');
    expect(ns.destination.text).toBe('ff02::1:ff00:2');
    expect(ns.hopLimit).toBe(255);
    expect(ns.message.target.text).toBe('2001:db8:1::2');
    expect(ns.message.sourceLinkLayer && formatMac(ns.message.sourceLinkLayer)).toBe('02:00:00:00:00:0a');
  });

  it('decodes a DAD probe, skipping its nonce option', () => {
    const ns = solicitation(LINUX_DAD_SOLICITATION);
    expect(ns.source.text).toBe('::');
    expect(ns.message.target.text).toBe('fe80::ff:fe00:a');
    expect(ns.message.sourceLinkLayer).toBeNull();
  });

  it('ignores Ethernet padding beyond the IPv6 payload length', () => {
    const padded = new Uint8Array(LINUX_NEIGHBOR_SOLICITATION.length + 10);
    padded.set(LINUX_NEIGHBOR_SOLICITATION);
    expect(decodeNdpFrame(padded)).toEqual(decodeNdpFrame(LINUX_NEIGHBOR_SOLICITATION));
  });

  it.each([
    ['a hop limit below 255 (RFC 4861 §7.1.1: it crossed a router)', edit(LINUX_NEIGHBOR_SOLICITATION, { 21: 254 }), 'bad-hop-limit'],
    ['a wrong checksum', edit(LINUX_NEIGHBOR_SOLICITATION, { 80: 0x99 }, false), 'bad-checksum'],
    ['ICMP code 1', edit(LINUX_NEIGHBOR_SOLICITATION, { 55: 1 }), 'bad-code'],
    ['a multicast target', edit(LINUX_NEIGHBOR_SOLICITATION, { 62: 0xff }), 'invalid-address'],
    ['an option of length 0', edit(LINUX_NEIGHBOR_SOLICITATION, { 79: 0 }), 'bad-option'],
    ['a link-layer option of 16 bytes', edit(LINUX_NEIGHBOR_SOLICITATION, { 79: 2 }), 'bad-option'],
    ['a payload length past the frame', edit(LINUX_NEIGHBOR_SOLICITATION, { 19: 0x28 }, false), 'truncated'],
    ['a frame cut in the IPv6 header', LINUX_NEIGHBOR_SOLICITATION.subarray(0, 50), 'truncated'],
    ['IP version 4 in an IPv6 frame', edit(LINUX_NEIGHBOR_SOLICITATION, { 14: 0x40 }), 'unsupported-format'],
    ['an ICMPv6 echo request', edit(LINUX_NEIGHBOR_SOLICITATION, { 54: 128 }), 'not-neighbor-discovery'],
    ['a hop-by-hop extension header', edit(LINUX_NEIGHBOR_SOLICITATION, { 20: 0 }, false), 'not-neighbor-discovery'],
    ['a DAD probe carrying a source link-layer option', edit(LINUX_DAD_SOLICITATION, { 78: 1 }), 'bad-option'],
    ['a DAD probe to a unicast address', edit(LINUX_DAD_SOLICITATION, { 38: 0x20, 39: 0x01 }), 'invalid-address'],
    ['a message shorter than 24 bytes', edit(LINUX_NEIGHBOR_SOLICITATION, { 19: 20 }), 'bad-length'],
  ])('rejects %s', (_name, frame, reason) => {
    expect(decodeNdpFrame(frame)).toMatchObject({ ok: false, error: { reason } });
  });
});

describe('building advertisements', () => {
  it('answers an NS unicast to the solicitor with S=1, O=0, our MAC as target link-layer address', () => {
    const reply = decodeNdpFrame(buildSolicitedAdvertisement(solicitation(LINUX_NEIGHBOR_SOLICITATION), OUR_MAC));
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    expect(formatMac(reply.value.ethernet.destination)).toBe('02:00:00:00:00:0a');
    expect(formatMac(reply.value.ethernet.source)).toBe('02:00:00:00:00:0b');
    expect(reply.value.source.text).toBe('2001:db8:1::2');
    expect(reply.value.destination.text).toBe('2001:db8:1::1');
    expect(reply.value.hopLimit).toBe(255);
    expect(reply.value.message).toEqual({
      type: 'advertisement',
      router: false,
      solicited: true,
      override: false,
      target: ip('2001:db8:1::2'),
      targetLinkLayer: OUR_MAC,
    });
  });

  it('answers a NUD probe without a source link-layer option to the frame source MAC', () => {
    const probe = encodeNdpFrame({
      ethernet: { destination: OUR_MAC, source: Uint8Array.of(2, 0, 0, 0, 0, 0x0c), etherType: 0x86dd },
      source: ip('2001:db8:1::c'),
      destination: ip('2001:db8:100::10'),
      hopLimit: 255,
      message: { type: 'solicitation', target: ip('2001:db8:100::10'), sourceLinkLayer: null },
    });
    const reply = decodeNdpFrame(buildSolicitedAdvertisement(solicitation(probe), OUR_MAC));
    expect(reply.ok && formatMac(reply.value.ethernet.destination)).toBe('02:00:00:00:00:0c');
    expect(reply.ok && reply.value.destination.text).toBe('2001:db8:1::c');
  });

  it('answers a DAD probe for our address with an advertisement to all nodes, S=0', () => {
    const reply = decodeNdpFrame(buildSolicitedAdvertisement(solicitation(LINUX_DAD_SOLICITATION), OUR_MAC));
    expect(reply).toMatchObject({ ok: true, value: { destination: ip('ff02::1'), message: { solicited: false, override: true } } });
  });

  it('announces a takeover to ff02::1 (33:33:00:00:00:01) with O=1, S=0', () => {
    const frame = decodeNdpFrame(buildUnsolicitedAdvertisement(ip('2001:db8:100::10'), OUR_MAC));
    expect(frame.ok).toBe(true);
    if (!frame.ok) return;
    expect(formatMac(frame.value.ethernet.destination)).toBe('33:33:00:00:00:01');
    expect(frame.value.destination.text).toBe('ff02::1');
    expect(frame.value.message).toMatchObject({ type: 'advertisement', solicited: false, override: true, targetLinkLayer: OUR_MAC });
  });
});

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
const unicast6 = fc.bigInt({ min: 0n, max: (0xfen << 120n) - 1n }).map((v) => ipFromValue(6, v));

describe('NDP properties', () => {
  it('decode never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        decodeNdpFrame(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('decode never throws on mutations of a valid NS, with or without a repaired checksum', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(85), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.boolean(), fc.nat(86), (edits, fix, cut) => {
        const frame = edit(LINUX_NEIGHBOR_SOLICITATION, Object.fromEntries(edits), fix).subarray(0, cut);
        decodeNdpFrame(frame);
      }),
    );
  });

  it('build then decode gives back an NS', () => {
    // A DAD probe (source ::) has its own rules, covered above.
    const specified = unicast6.filter((a) => a.value !== 0n);
    fc.assert(
      fc.property(mac, mac, specified, unicast6, unicast6, fc.option(mac, { nil: null }), (dst, src, from, to, target, sll) => {
        const frame: NdpFrame = {
          ethernet: { destination: dst, source: src, etherType: 0x86dd },
          source: from,
          destination: to,
          hopLimit: 255,
          message: { type: 'solicitation', target, sourceLinkLayer: sll },
        };
        expect(decodeNdpFrame(encodeNdpFrame(frame))).toEqual({ ok: true, value: frame });
      }),
    );
  });

  it('build then decode gives back an NA', () => {
    fc.assert(
      fc.property(mac, mac, unicast6, unicast6, unicast6, fc.boolean(), fc.boolean(), fc.boolean(), fc.option(mac, { nil: null }), (dst, src, from, to, target, router, solicited, override, tll) => {
        const frame: NdpFrame = {
          ethernet: { destination: dst, source: src, etherType: 0x86dd },
          source: from,
          destination: to,
          hopLimit: 255,
          message: { type: 'advertisement', router, solicited, override, target, targetLinkLayer: tll },
        };
        expect(decodeNdpFrame(encodeNdpFrame(frame))).toEqual({ ok: true, value: frame });
      }),
    );
  });
});
