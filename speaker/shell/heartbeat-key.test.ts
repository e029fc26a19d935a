import { describe, expect, it } from 'vitest';
import { sameKeys } from './heartbeat-key.ts';

describe('sameKeys', () => {
  it('compares bytes and order', () => {
    const [a, b] = [new Uint8Array([1, 2]), new Uint8Array([3])];
    expect(sameKeys([a, b], [new Uint8Array([1, 2]), new Uint8Array([3])])).toBe(true);
    expect(sameKeys([a, b], [b, a])).toBe(false);
    expect(sameKeys([a], [a, b])).toBe(false);
  });
});
