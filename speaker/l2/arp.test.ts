import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIP } from '../../shared/net/index.ts';
import { buildArpReply, buildArpRequest, buildGratuitousArp, decodeArpFrame, encodeArpFrame, type ArpFrame } from './arp.ts';
import { formatMac } from './ethernet.ts';
import { hex, ip, LINUX_ARP_REQUEST } from './fixtures.test-util.ts';

const OUR_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x0b);

describe('decodeArpFrame', () => {
  it('decodes a request captured from Linux (RFC 826 field layout)', () => {
    const decoded = decodeArpFrame(LINUX_ARP_REQUEST);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(formatMac(decoded.value.ethernet.destination)).toBe('ff:ff:ff:ff:ff:ff');
    expect(decoded.value.arp.operation).toBe('request');
    expect(formatMac(decoded.value.arp.senderMac)).toBe('02:00:00:00:00:0a');
    expect(decoded.value.arp.senderIP).toEqual(ip('198.51.100.1'));
    expect(decoded.value.arp.targetIP).toEqual(ip('198.51.100.2'));
  });

  it('ignores Ethernet padding after the 28-byte ARP body', () => {
    const padded = new Uint8Array(60);
    padded.set(LINUX_ARP_REQUEST);
    expect(decodeArpFrame(padded)).toEqual(decodeArpFrame(LINUX_ARP_REQUEST));
  });

  it.each([
    ['a frame cut inside the ARP body', LINUX_ARP_REQUEST.subarray(0, 41), 'truncated'],
    ['a frame shorter than an Ethernet header', LINUX_ARP_REQUEST.subarray(0, 10), 'truncated'],
    ['an 802.1Q-tagged frame', hex('ffffffffffff02000000000a8100006408060001'), 'vlan-tagged'],
    ['an IPv4 frame', hex('ffffffffffff02000000000a0800' + '00'.repeat(28)), 'wrong-ethertype'],
  ])('rejects %s', (_name, frame, reason) => {
    const decoded = decodeArpFrame(frame);
    expect(decoded).toMatchObject({ ok: false, error: { reason } });
  });

  it.each([
    ['hardware type 6 (IEEE 802)', 14, 0x06],
    ['protocol length 16', 19, 16],
    ['hardware length 8', 18, 8],
    ['operation 3 (RARP)', 21, 3],
  ])('rejects %s as unsupported-format', (_name, offset, value) => {
    const frame = LINUX_ARP_REQUEST.slice();
    frame[offset] = value;
    expect(decodeArpFrame(frame)).toMatchObject({ ok: false, error: { reason: 'unsupported-format' } });
  });
});

describe('building ARP frames', () => {
  it('asks who has an IP byte for byte as Linux does', () => {
    const mac = Uint8Array.from([2, 0, 0, 0, 0, 0x0a]);
    expect(Buffer.from(buildArpRequest(ip('198.51.100.2'), ip('198.51.100.1'), mac)).toString('hex')).toBe(Buffer.from(LINUX_ARP_REQUEST).toString('hex'));
  });

  it('replies to the requester with our MAC as the owner of the target IP', () => {
    const request = decodeArpFrame(LINUX_ARP_REQUEST);
    if (!request.ok) throw new Error('vector does not decode');
    const reply = buildArpReply(request.value.arp, OUR_MAC);
    expect(Buffer.from(reply).toString('hex')).toBe(
      '02000000000a' + '02000000000b' + '0806' + '0001080006040002' + '02000000000b' + 'c6336402' + '02000000000a' + 'c6336401',
    );
  });

  it('answers a DAD probe (sender 0.0.0.0) back to the prober', () => {
    const probe: ArpFrame['arp'] = {
      operation: 'request',
      senderMac: Uint8Array.of(2, 0, 0, 0, 0, 0x0c),
      senderIP: ip('0.0.0.0'),
      targetMac: new Uint8Array(6),
      targetIP: ip('203.0.113.10'),
    };
    const reply = decodeArpFrame(buildArpReply(probe, OUR_MAC));
    expect(reply).toMatchObject({ ok: true, value: { arp: { operation: 'reply', senderIP: ip('203.0.113.10'), targetIP: ip('0.0.0.0') } } });
  });

  it('sends gratuitous ARP as a broadcast request and a broadcast reply with sender = target = VIP', () => {
    const frames = buildGratuitousArp(ip('203.0.113.10'), OUR_MAC).map((f) => decodeArpFrame(f));
    expect(frames.map((f) => (f.ok ? [f.value.arp.operation, formatMac(f.value.ethernet.destination)] : null))).toEqual([
      ['request', 'ff:ff:ff:ff:ff:ff'],
      ['reply', 'ff:ff:ff:ff:ff:ff'],
    ]);
    for (const f of frames) {
      if (!f.ok) throw new Error('gratuitous frame does not decode');
      expect(f.value.arp.senderIP.text).toBe('203.0.113.10');
      expect(f.value.arp.targetIP.text).toBe('203.0.113.10');
      expect(f.value.arp.senderMac).toEqual(OUR_MAC);
    }
    const [request, reply] = frames;
    expect(request?.ok && formatMac(request.value.arp.targetMac)).toBe('00:00:00:00:00:00');
    // Linux's arp_is_garp wants a reply's target MAC to be the sender's or broadcast.
    expect(reply?.ok && formatMac(reply.value.arp.targetMac)).toBe('ff:ff:ff:ff:ff:ff');
  });

  it('refuses to put an IPv6 address in ARP (a bug, so it throws)', () => {
    expect(() => buildGratuitousArp(ip('2001:db8::1'), OUR_MAC)).toThrow(/IPv4/);
  });
});

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
const ipv4 = fc.integer({ min: 0, max: 0xffff_ffff }).map((n) => {
  const parsed = parseIP([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
});

describe('ARP properties', () => {
  it('decode never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        decodeArpFrame(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('decode never throws on mutations of a valid request', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(41), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(42), (edits, cut) => {
        const frame = LINUX_ARP_REQUEST.slice(0, Math.max(cut, 0));
        for (const [at, value] of edits) if (at < frame.length) frame[at] = value;
        const decoded = decodeArpFrame(frame);
        if (decoded.ok) expect(decoded.value.arp.targetIP.family).toBe(4);
      }),
    );
  });

  it('build then decode gives back the frame', () => {
    fc.assert(
      fc.property(mac, mac, fc.constantFrom('request' as const, 'reply' as const), mac, ipv4, mac, ipv4, (dst, src, operation, sha, spa, tha, tpa) => {
        const frame: ArpFrame = {
          ethernet: { destination: dst, source: src, etherType: 0x0806 },
          arp: { operation, senderMac: sha, senderIP: spa, targetMac: tha, targetIP: tpa },
        };
        expect(decodeArpFrame(encodeArpFrame(frame))).toEqual({ ok: true, value: frame });
      }),
    );
  });
});
