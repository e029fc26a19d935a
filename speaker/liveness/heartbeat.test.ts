import { createHmac, createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeHeartbeat,
  encodeHeartbeat,
  HEARTBEAT_ETHERTYPE,
  MAX_HEARTBEAT_BYTES,
  nameHash,
  parseHeartbeatKey,
  peerCapacity,
  sequenceAfter,
  type Heartbeat,
  type PeerState,
} from './heartbeat.ts';

const keyBytes = new Uint8Array(32).fill(7);
const key = createSecretKey(keyBytes);
const otherKey = createSecretKey(new Uint8Array(32).fill(9));
const beat: Heartbeat = {
  node: 'node-a.lab',
  incarnation: '0011223344556677',
  sequence: 41,
  intervalMs: 100,
  state: 'joining',
  leaseMs: 0,
  truncated: false,
  macs: ['02:ba:57:00:00:01'],
  peers: [{ hash: nameHash('node-b.lab'), sequence: 0xffff_fff0, hears: true, inView: false }],
};

/** Re-signs a frame after a test edits it, to reach the checks that come after the MAC. */
function resign(bytes: Uint8Array, k: Uint8Array = keyBytes): Uint8Array {
  const signed = bytes.length - 16;
  bytes.set(createHmac('sha256', k).update(bytes.subarray(0, signed)).digest().subarray(0, 16), signed);
  return bytes;
}

const arbName = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?(\.[a-z0-9]{1,20}){0,3}$/);
const arbBeat: fc.Arbitrary<Heartbeat> = fc
  .record({
    node: arbName,
    incarnation: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex')),
    sequence: fc.nat({ max: 0xffff_ffff }),
    intervalMs: fc.integer({ min: 10, max: 10_000 }),
    state: fc.constantFrom<PeerState>('joining', 'active', 'detached', 'leaving'),
    leaseMs: fc.nat({ max: 0xffff }),
    truncated: fc.boolean(),
    macs: fc.array(fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':')), { maxLength: 8 }),
    peers: fc.array(
      fc.record({ hash: arbName.map(nameHash), sequence: fc.nat({ max: 0xffff_ffff }), hears: fc.boolean(), inView: fc.boolean() }),
      { maxLength: 60 },
    ),
  });

describe('heartbeat codec', () => {
  it('uses the IEEE local experimental EtherType and a fixed, documented layout', () => {
    expect(HEARTBEAT_ETHERTYPE).toBe(0x88b5);
    const bytes = encodeHeartbeat(beat, key);
    expect(bytes.length).toBe(23 + 'node-a.lab'.length + 1 + 6 + 2 + 11 + 16);
    expect(Buffer.from(bytes.subarray(0, 8)).toString('hex')).toBe('424c4842' + '02' + '02' + '0064');
    expect(Buffer.from(bytes.subarray(8, 16)).toString('hex')).toBe(beat.incarnation);
    expect(Buffer.from(bytes.subarray(16, 20)).toString('hex')).toBe('00000029');
    expect(Buffer.from(bytes.subarray(23, 33)).toString('latin1')).toBe('node-a.lab');
    expect(Buffer.from(bytes.subarray(34, 40)).toString('hex')).toBe('02ba57000001');
    expect(Buffer.from(bytes.subarray(42, 48)).toString('hex')).toBe(nameHash('node-b.lab'));
    expect(bytes[52]).toBe(1);
  });

  it('round-trips every valid heartbeat', () => {
    fc.assert(
      fc.property(arbBeat, (b) => {
        const expected = { ...b, leaseMs: b.leaseMs };
        expect(decodeHeartbeat(encodeHeartbeat(b, key), [key])).toEqual({ ok: true, value: expected });
      }),
    );
  });

  it('rejects a frame signed with another key (forged), and accepts any key it is given (a rotation)', () => {
    const frame = encodeHeartbeat(beat, otherKey);
    expect(decodeHeartbeat(frame, [key])).toEqual({ ok: false, error: 'bad-mac' });
    expect(decodeHeartbeat(frame, [key, otherKey]).ok).toBe(true);
    expect(decodeHeartbeat(frame, []).ok).toBe(false);
  });

  it('rejects any single flipped bit', () => {
    const frame = encodeHeartbeat(beat, key);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: frame.length * 8 - 1 }), (bit) => {
        const copy = frame.slice();
        copy[bit >> 3]! ^= 1 << (bit & 7);
        expect(decodeHeartbeat(copy, [key]).ok).toBe(false);
      }),
    );
  });

  it('rejects truncated and extended frames', () => {
    const frame = encodeHeartbeat(beat, key);
    for (let len = 0; len < frame.length; len++) expect(decodeHeartbeat(frame.subarray(0, len), [key]).ok).toBe(false);
    const longer = new Uint8Array(frame.length + 1);
    longer.set(frame);
    expect(decodeHeartbeat(longer, [key])).toEqual({ ok: false, error: 'bad-size' });
    expect(decodeHeartbeat(new Uint8Array(2000), [key])).toEqual({ ok: false, error: 'bad-size' });
  });

  it('never throws on garbage, and garbage never passes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1600 }), fc.boolean(), (bytes, withMagic) => {
        if (withMagic && bytes.length >= 5) bytes.set([0x42, 0x4c, 0x48, 0x42, 2]);
        expect(decodeHeartbeat(bytes, [key]).ok).toBe(false);
      }),
    );
  });

  it('names what was wrong when the MAC is right but a field is not', () => {
    const version1 = encodeHeartbeat(beat, key);
    version1[4] = 1;
    expect(decodeHeartbeat(resign(version1), [key])).toEqual({ ok: false, error: 'bad-version' });
    const zeroInterval = encodeHeartbeat(beat, key);
    zeroInterval.set([0, 0], 6);
    expect(decodeHeartbeat(resign(zeroInterval), [key])).toEqual({ ok: false, error: 'bad-field' });
    const leavingAndJoining = encodeHeartbeat(beat, key);
    leavingAndJoining[5] = 3;
    expect(decodeHeartbeat(resign(leavingAndJoining), [key])).toEqual({ ok: false, error: 'bad-field' });
    const upperName = encodeHeartbeat(beat, key);
    upperName[23] = 'N'.charCodeAt(0);
    expect(decodeHeartbeat(resign(upperName), [key])).toEqual({ ok: false, error: 'bad-name' });
    const tooManyMacs = encodeHeartbeat({ ...beat, macs: [], peers: [] }, key);
    // m = 9 with the peer count where the MACs would end: lengths agree, the field does not.
    const nine = new Uint8Array(tooManyMacs.length + 54);
    nine.set(tooManyMacs.subarray(0, 33));
    nine[33] = 9;
    expect(decodeHeartbeat(resign(nine), [key])).toEqual({ ok: false, error: 'bad-field' });
  });

  it('reads the lease only with its flag, and ignores flag bits it does not know (they are still covered by the MAC)', () => {
    const frame = encodeHeartbeat({ ...beat, state: 'active', leaseMs: 0 }, key);
    frame.set([0x12, 0x34], 20);
    frame[5] = 0x80;
    const r = decodeHeartbeat(resign(frame), [key]);
    expect(r.ok && [r.value.state, r.value.leaseMs]).toEqual(['active', 0]);
    frame[5] = 0x88;
    const leased = decodeHeartbeat(resign(frame), [key]);
    expect(leased.ok && leased.value.leaseMs).toBe(0x1234);
  });

  it('refuses to encode what it could not decode (a bug in the caller)', () => {
    expect(() => encodeHeartbeat({ ...beat, node: 'Node_A' }, key)).toThrow(RangeError);
    expect(() => encodeHeartbeat({ ...beat, incarnation: 'abc' }, key)).toThrow(RangeError);
    expect(() => encodeHeartbeat({ ...beat, intervalMs: 5 }, key)).toThrow(RangeError);
    expect(() => encodeHeartbeat({ ...beat, sequence: 2 ** 32 }, key)).toThrow(RangeError);
    expect(() => encodeHeartbeat({ ...beat, macs: ['02:BA:57:00:00:01'] }, key)).toThrow(RangeError);
    const tooMany = Array.from({ length: peerCapacity(beat.node.length, 1) + 1 }, (_, i) => ({ hash: nameHash(`n${i}`), sequence: i, hears: true, inView: true }));
    expect(() => encodeHeartbeat({ ...beat, peers: tooMany }, key)).toThrow(RangeError);
    expect(encodeHeartbeat({ ...beat, peers: tooMany.slice(1) }, key).length).toBeLessThanOrEqual(MAX_HEARTBEAT_BYTES);
  });

  it('fits about a hundred peers beside the longest node name', () => {
    expect(peerCapacity(253, 8)).toBeGreaterThanOrEqual(100);
    expect(peerCapacity(20, 2)).toBeGreaterThanOrEqual(125);
  });

  it('wants a key of at least 128 bits', () => {
    expect(parseHeartbeatKey(new Uint8Array(15)).ok).toBe(false);
    const parsed = parseHeartbeatKey(new Uint8Array(16).fill(7));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(decodeHeartbeat(encodeHeartbeat(beat, parsed.value), [createSecretKey(new Uint8Array(16).fill(7))]).ok).toBe(true);
  });

  it('orders sequences as RFC 1982 serial numbers, across the wrap', () => {
    expect(sequenceAfter(5, 4)).toBe(true);
    expect(sequenceAfter(4, 5)).toBe(false);
    expect(sequenceAfter(4, 4)).toBe(false);
    expect(sequenceAfter(2, 0xffff_fffe)).toBe(true);
    expect(sequenceAfter(0xffff_fffe, 2)).toBe(false);
    fc.assert(
      fc.property(fc.nat({ max: 0xffff_ffff }), fc.integer({ min: 1, max: 0x7fff_ffff }), (a, d) => {
        const b = (a + d) >>> 0;
        expect(sequenceAfter(b, a)).toBe(true);
        expect(sequenceAfter(a, b)).toBe(false);
      }),
    );
  });

  it('hashes names to 12 hex digits, stably', () => {
    expect(nameHash('node-a.lab')).toMatch(/^[0-9a-f]{12}$/);
    expect(nameHash('node-a.lab')).toBe(nameHash('node-a.lab'));
    expect(nameHash('node-a.lab')).not.toBe(nameHash('node-b.lab'));
  });
});
