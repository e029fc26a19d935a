import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyRotationStep, heartbeatKeys, nextRotationStep, type SecretData } from './heartbeat-keys.ts';

const b64 = (bytes: number, fill: number) => Buffer.alloc(bytes, fill).toString('base64');

describe('heartbeat keys', () => {
  it('signs with key and accepts next-key and previous-key', () => {
    const keys = heartbeatKeys({ key: b64(32, 1), 'previous-key': b64(32, 2), 'next-key': b64(32, 3), other: 'x' });
    expect(keys.ok && keys.value.map((k) => k[0])).toEqual([1, 3, 2]);
  });

  it('refuses a Secret without a key, or with a short or garbled one', () => {
    expect(heartbeatKeys({})).toEqual({ ok: false, error: 'has no "key"' });
    expect(heartbeatKeys({ key: b64(8, 1) })).toEqual({ ok: false, error: '"key": heartbeat key has 8 bytes; it needs at least 16' });
    expect(heartbeatKeys({ key: b64(32, 1), 'previous-key': '' }).ok).toBe(false);
    expect(heartbeatKeys({ key: '*'.repeat(40) }).ok).toBe(false);
  });

  it('rotates in three steps, and at every step each key in use is accepted by everyone', () => {
    const [oldKey, newKey] = [b64(32, 1), b64(32, 2)];
    let data: SecretData = { key: oldKey };
    const accepted = (d: SecretData) => new Set((heartbeatKeys(d) as { value: Uint8Array[] }).value.map((k) => Buffer.from(k).toString('base64')));
    const signing = (d: SecretData) => d.key!;
    const steps: Array<'stage' | 'promote' | 'retire'> = ['stage', 'promote', 'retire'];
    for (const step of steps) {
      const next = applyRotationStep(data, step, newKey);
      if (!next.ok) throw new Error(next.error);
      // Speakers still on the old data and those on the new data hear each other.
      expect(accepted(data).has(signing(next.value))).toBe(true);
      expect(accepted(next.value).has(signing(data))).toBe(true);
      data = next.value;
      expect(nextRotationStep(data)).toBe(step === 'stage' ? 'promote' : step === 'promote' ? 'retire' : 'done');
    }
    expect(data).toEqual({ key: newKey });
  });

  it('refuses a second rotation over an unfinished one, and a promote with nothing staged', () => {
    expect(applyRotationStep({ key: 'a', 'next-key': 'b' }, 'stage', 'c').ok).toBe(false);
    expect(applyRotationStep({ key: 'a' }, 'promote').ok).toBe(false);
    expect(applyRotationStep({}, 'retire').ok).toBe(false);
  });

  it('keeps data it does not know', () => {
    fc.assert(
      fc.property(fc.string(), (v) => {
        const r = applyRotationStep({ key: 'a', extra: v }, 'stage', 'b');
        expect(r.ok && r.value.extra).toBe(v);
      }),
    );
  });
});
