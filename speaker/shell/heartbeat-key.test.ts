import { describe, expect, it } from 'vitest';
import { keysFromSecret, sameKeys } from './heartbeat-key.ts';

const b64 = (bytes: number, fill: number) => Buffer.alloc(bytes, fill).toString('base64');

describe('keysFromSecret', () => {
  it('takes `key` to sign, and `previous-key` to accept during a rotation', () => {
    const keys = keysFromSecret({ data: { key: b64(32, 1), 'previous-key': b64(32, 2), other: 'x' } });
    expect(keys.ok && keys.value.map((k) => k[0])).toEqual([1, 2]);
    expect(keysFromSecret({ data: { key: b64(32, 1) } }).ok && true).toBe(true);
  });

  it('refuses a Secret without a key, or with a short one', () => {
    expect(keysFromSecret({ data: {} })).toEqual({ ok: false, error: 'has no "key"' });
    expect(keysFromSecret({ data: { key: b64(8, 1) } })).toEqual({ ok: false, error: '"key": heartbeat key has 8 bytes; it needs at least 16' });
    expect(keysFromSecret({ data: { key: b64(32, 1), 'previous-key': '' } }).ok).toBe(false);
  });
});

describe('sameKeys', () => {
  it('compares bytes and order', () => {
    const [a, b] = [new Uint8Array([1, 2]), new Uint8Array([3])];
    expect(sameKeys([a, b], [new Uint8Array([1, 2]), new Uint8Array([3])])).toBe(true);
    expect(sameKeys([a, b], [b, a])).toBe(false);
    expect(sameKeys([a], [a, b])).toBe(false);
  });
});
