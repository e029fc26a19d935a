import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IPv4, IPv6, Validator, collapseIPv6Number } from 'ip-num';
import { formatIP, parseIP } from './index.ts';

describe('parseIP', () => {
  it('parses IPv4 and gives its value', () => {
    const r = parseIP(' 198.51.100.7 ');
    expect(r).toEqual({ ok: true, value: { family: 4, value: 0xc6336407n, text: '198.51.100.7' } });
  });

  it('canonicalises IPv6 text (RFC 5952: lower case, longest zero run compressed)', () => {
    const r = parseIP('2001:DB8:0:0:0:0:0:1');
    expect(r.ok && r.value.text).toBe('2001:db8::1');
    expect(r.ok && r.value.family).toBe(6);
  });

  it.each([
    ['', 'empty'],
    ['198.51.100', 'not a valid IPv4'],
    ['198.51.100.256', 'not a valid IPv4'],
    ['198.051.100.1', 'not a valid IPv4'],
    ['2001:db8::g', 'not a valid IPv6'],
    ['fe80::1%eth0', 'zone index'],
    ['::ffff:198.51.100.1', 'IPv4-mapped'],
    ['::ffff:c633:6401', 'IPv4-mapped'],
    ['198.51.100.0/24', 'not a valid IPv4'],
  ])('rejects %j with a specific reason', (input, reason) => {
    const r = parseIP(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(reason);
  });

  it('round-trips every IPv4 and IPv6 value through its text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (v) => {
        const r = parseIP(formatIP(4, v));
        return r.ok && r.value.value === v && r.value.family === 4;
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
        const r = parseIP(formatIP(6, v));
        return r.ok && r.value.value === v && r.value.family === 6;
      }),
    );
  });

  it('formats IPv6 exactly as ip-num does (RFC 5952), zero runs included', () => {
    const group = fc.oneof(fc.constant(0n), fc.constant(0n), fc.bigInt({ min: 1n, max: 0xffffn }));
    const value = fc.array(group, { minLength: 8, maxLength: 8 }).map((gs) => gs.reduce((v, g) => (v << 16n) | g, 0n));
    fc.assert(
      fc.property(fc.oneof(value, fc.bigInt({ min: 0n, max: (1n << 128n) - 1n })), (v) => {
        expect(formatIP(6, v)).toBe(collapseIPv6Number(IPv6.fromBigInt(v).toString()));
      }),
      { numRuns: 2000 },
    );
    expect(formatIP(6, 0n)).toBe('::');
    expect(formatIP(6, 1n)).toBe('::1');
    expect(formatIP(6, 0x20010db8000000010000000000000001n)).toBe('2001:db8:0:1::1');
  });

  it('parses exactly what ip-num parses, to the same value (ip-num is the reference; the code does not load it)', () => {
    const hexGroup = fc.stringMatching(/^[0-9a-fA-F]{1,4}$/);
    const v6Text = fc.oneof(
      fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((v) => IPv6.fromBigInt(v).toString()),
      fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((v) => formatIP(6, v)),
      fc.array(hexGroup, { minLength: 1, maxLength: 9 }).chain((gs) => fc.nat(gs.length).map((i) => [...gs.slice(0, i), '', ...gs.slice(i)].join(':'))),
      fc.array(hexGroup, { minLength: 0, maxLength: 9 }).map((gs) => gs.join(':')),
    );
    fc.assert(
      fc.property(v6Text, (text) => {
        const ours = parseIP(text);
        const [valid] = Validator.isValidIPv6String(text);
        expect(ours.ok, text).toBe(valid);
        if (ours.ok) expect(ours.value.value).toBe(IPv6.fromString(text).getValue());
      }),
      { numRuns: 2_000 },
    );
    const v4Text = fc.oneof(
      fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }).map((v) => IPv4.fromNumber(v).toString()),
      fc.array(fc.oneof(fc.nat(300).map(String), fc.stringMatching(/^0\d{1,2}$/), fc.constant('')), { minLength: 3, maxLength: 5 }).map((ps) => ps.join('.')),
    );
    fc.assert(
      fc.property(v4Text, (text) => {
        const ours = parseIP(text);
        const [valid] = Validator.isValidIPv4String(text);
        // ip-num accepts leading zeros ("010"), which we refuse on purpose.
        expect(ours.ok, text).toBe(valid && !/(^|\.)0\d/.test(text));
        if (ours.ok) expect(ours.value.value).toBe(IPv4.fromString(text).getValue());
      }),
      { numRuns: 2_000 },
    );
  });
});
