import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipFromValue } from '../../shared/net/index.ts';
import { formatMac } from './ethernet.ts';
import { ipBytes, ipv4FromBytes, ipv6FromBytes } from './ip-bytes.ts';
import { icmpv6Checksum, isSolicitedNodeMulticast, multicastMacFor, solicitedNodeMulticast } from './ipv6.ts';
import { ip, LINUX_NEIGHBOR_SOLICITATION } from './fixtures.test-util.ts';


describe('solicited-node multicast', () => {
  it('maps the low 24 bits into ff02::1:ff00:0/104 (RFC 4291 §2.7.1 example)', () => {
    expect(solicitedNodeMulticast(ip('4037::1:800:200e:8c6c')).text).toBe('ff02::1:ff0e:8c6c');
    expect(solicitedNodeMulticast(ip('2001:db8:100::10')).text).toBe('ff02::1:ff00:10');
    expect(isSolicitedNodeMulticast(ip('ff02::1:ff00:10'))).toBe(true);
    expect(isSolicitedNodeMulticast(ip('ff02::1'))).toBe(false);
  });

  it('maps a group to 33:33 and its low 32 bits (RFC 2464 §7)', () => {
    expect(formatMac(multicastMacFor(ip('ff02::1:ff0e:8c6c')))).toBe('33:33:ff:0e:8c:6c');
    expect(formatMac(multicastMacFor(ip('ff02::1')))).toBe('33:33:00:00:00:01');
  });
});

describe('icmpv6Checksum', () => {
  it('sums to zero over a message carrying the checksum Linux computed', () => {
    const message = LINUX_NEIGHBOR_SOLICITATION.subarray(54);
    expect(icmpv6Checksum(ip('2001:db8:1::1'), ip('ff02::1:ff00:2'), message)).toBe(0);
  });

  it('reproduces the checksum Linux computed (0x1c1c) when the field is zeroed', () => {
    const message = LINUX_NEIGHBOR_SOLICITATION.slice(54);
    message[2] = 0;
    message[3] = 0;
    expect(icmpv6Checksum(ip('2001:db8:1::1'), ip('ff02::1:ff00:2'), message)).toBe(0x1c1c);
  });

  it('handles odd lengths and sums past 2^31 without bitwise overflow', () => {
    expect(icmpv6Checksum(ip('::'), ip('::'), Uint8Array.of(0xff))).toBe(~(0xff00 + 1 + 58) & 0xffff);
    const big = new Uint8Array(65_535).fill(0xff);
    const sum = icmpv6Checksum(ip('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), ip('::'), big);
    expect(sum).toBeGreaterThanOrEqual(0);
    expect(sum).toBeLessThanOrEqual(0xffff);
  });
});

describe('address bytes', () => {
  it('round-trips IPv6 through bytes with shared/net canonical text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (value) => {
        const address = ipFromValue(6, value);
        expect(ipv6FromBytes(ipBytes(address), 0)).toEqual(address);
      }),
    );
  });

  it('builds IPv4 text identical to shared/net', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (n) => {
        const address = ipFromValue(4, BigInt(n));
        expect(ipv4FromBytes(ipBytes(address), 0)).toEqual(address);
      }),
    );
  });
});
