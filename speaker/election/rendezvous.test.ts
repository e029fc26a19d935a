import { describe, expect, it } from 'vitest';
import { rendezvousOrder, rendezvousWinner } from './rendezvous.ts';
import { ip } from './test-fixtures.ts';

// Known answers from `printf 'node-a#198.51.100.7' | sha256sum` (coreutils), so
// the ranking matches MetalLB's sha256(node + "#" + ip) byte order:
//   node-a#198.51.100.7 0fe8…  node-b#… a41b…  node-c#… fe35…
//   node-a#2001:db8::7  f39f…  node-b#… 9225…  node-c#… 0a61…
describe('rendezvous hashing', () => {
  it('ranks by sha256(node#ip), lowest first, as MetalLB does', () => {
    expect(rendezvousOrder(['node-c', 'node-a', 'node-b'], ip('198.51.100.7'))).toEqual(['node-a', 'node-b', 'node-c']);
    expect(rendezvousOrder(['node-a', 'node-b', 'node-c'], ip('2001:db8::7'))).toEqual(['node-c', 'node-b', 'node-a']);
  });

  it('hashes the canonical IPv6 text, whatever spelling came in', () => {
    expect(rendezvousWinner(['node-a', 'node-b', 'node-c'], ip('2001:DB8:0::0:7'))).toBe('node-c');
  });

  it('the winner is the head of the order; no candidates, no winner', () => {
    const nodes = Array.from({ length: 20 }, (_, i) => `n${i}`);
    for (const text of ['198.51.100.1', '203.0.113.9', '2001:db8::1']) {
      expect(rendezvousWinner(nodes, ip(text))).toBe(rendezvousOrder(nodes, ip(text))[0]);
    }
    expect(rendezvousWinner([], ip('198.51.100.1'))).toBeUndefined();
  });
});
