import { createHmac, createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeHeartbeat, encodeHeartbeat, HEARTBEAT_ETHERTYPE, parseHeartbeatKey, type Heartbeat } from './heartbeat.ts';

const keyBytes = new Uint8Array(32).fill(7);
const key = createSecretKey(keyBytes);
const otherKey = createSecretKey(new Uint8Array(32).fill(9));
const beat: Heartbeat = {
  node: 'node-a.lab',
  bootId: '00112233445566778899aabbccddeeff',
  sequence: 41,
  intervalMs: 100,
  sentAt: 1_760_000_000_123,
  leaving: false,
  joining: true,
};

/** Re-signs a frame after a test edits it, to reach the checks that come after the MAC. */
function resign(bytes: Uint8Array, k: Uint8Array = keyBytes): Uint8Array {
  const n = bytes[40]!;
  bytes.set(createHmac('sha256', k).update(bytes.subarray(0, 41 + n)).digest().subarray(0, 16), 41 + n);
  return bytes;
}

const arbBeat: fc.Arbitrary<Heartbeat> = fc.record({
  node: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?(\.[a-z0-9]{1,20}){0,3}$/),
  bootId: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex')),
  sequence: fc.maxSafeNat(),
  intervalMs: fc.integer({ min: 10, max: 10_000 }),
  sentAt: fc.maxSafeNat(),
  leaving: fc.boolean(),
  joining: fc.boolean(),
});

describe('heartbeat codec', () => {
  it('uses the IEEE local experimental EtherType and a fixed, documented layout', () => {
    expect(HEARTBEAT_ETHERTYPE).toBe(0x88b5);
    const bytes = encodeHeartbeat(beat, key);
    expect(bytes.length).toBe(41 + 'node-a.lab'.length + 16);
    expect(Buffer.from(bytes.subarray(0, 8)).toString('hex')).toBe('424c4842' + '01' + '02' + '0064');
    expect(Buffer.from(bytes.subarray(24, 40)).toString('hex')).toBe(beat.bootId);
    expect(Buffer.from(bytes.subarray(41, 51)).toString('latin1')).toBe('node-a.lab');
  });

  it('round-trips every valid heartbeat', () => {
    fc.assert(
      fc.property(arbBeat, (b) => {
        expect(decodeHeartbeat(encodeHeartbeat(b, key), [key])).toEqual({ ok: true, value: b });
      }),
    );
  });

  it('rejects a frame signed with another key (forged), and accepts either key during a rotation', () => {
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
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, withMagic) => {
        if (withMagic && bytes.length >= 5) bytes.set([0x42, 0x4c, 0x48, 0x42, 1]);
        expect(decodeHeartbeat(bytes, [key]).ok).toBe(false);
      }),
    );
  });

  it('names what was wrong when the MAC is right but a field is not', () => {
    const version2 = encodeHeartbeat(beat, key);
    version2[4] = 2;
    expect(decodeHeartbeat(resign(version2), [key])).toEqual({ ok: false, error: 'bad-version' });
    const zeroInterval = encodeHeartbeat(beat, key);
    zeroInterval.set([0, 0], 6);
    expect(decodeHeartbeat(resign(zeroInterval), [key])).toEqual({ ok: false, error: 'bad-field' });
    const hugeSequence = encodeHeartbeat(beat, key);
    hugeSequence.fill(0xff, 8, 16);
    expect(decodeHeartbeat(resign(hugeSequence), [key])).toEqual({ ok: false, error: 'bad-field' });
    const upperName = encodeHeartbeat(beat, key);
    upperName[41] = 'N'.charCodeAt(0);
    expect(decodeHeartbeat(resign(upperName), [key])).toEqual({ ok: false, error: 'bad-name' });
  });

  it('ignores flag bits it does not know (they are still covered by the MAC)', () => {
    const frame = encodeHeartbeat({ ...beat, joining: false }, key);
    frame[5] = 0x81;
    const r = decodeHeartbeat(resign(frame), [key]);
    expect(r.ok && [r.value.leaving, r.value.joining]).toEqual([true, false]);
  });

  it('refuses to encode what it could not decode (a bug in the caller)', () => {
    expect(() => encodeHeartbeat({ ...beat, node: 'Node_A' }, key)).toThrow(RangeError);
    expect(() => encodeHeartbeat({ ...beat, bootId: 'abc' }, key)).toThrow(RangeError);
    expect(() => encodeHeartbeat({ ...beat, intervalMs: 5 }, key)).toThrow(RangeError);
    expect(() => encodeHeartbeat({ ...beat, sequence: -1 }, key)).toThrow(RangeError);
  });

  it('wants a key of at least 128 bits', () => {
    expect(parseHeartbeatKey(new Uint8Array(15)).ok).toBe(false);
    const parsed = parseHeartbeatKey(new Uint8Array(16).fill(7));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(decodeHeartbeat(encodeHeartbeat(beat, parsed.value), [createSecretKey(new Uint8Array(16).fill(7))]).ok).toBe(true);
  });
});
