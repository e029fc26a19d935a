// Per-frame cost of the heartbeat path: node speaker/liveness/heartbeat.bench.ts
// A beat from each of 100 peers, each listing 100 peers (the largest that fits
// comfortably), encoded, then decoded and applied to a Membership.
import { createSecretKey } from 'node:crypto';
import { BeatSource, decodeHeartbeat, encodeHeartbeat, Membership, nameHash } from './index.ts';

const key = createSecretKey(new Uint8Array(32).fill(1));
const names = Array.from({ length: 100 }, (_, i) => `worker-node-${i}.cluster.example`);
const peers = names.map((node, i) => new BeatSource({ node, incarnation: i.toString(16).padStart(16, '0'), firstSequence: i * 1000, intervalMs: 100 }));
const membership = new Membership({ self: 'self', incarnation: 'f'.repeat(16), startedAt: 0 });
membership.sent(7, 0);
const entries = [{ hash: nameHash('self'), sequence: 7, hears: true, inView: true }, ...names.slice(1).map((n, i) => ({ hash: nameHash(n), sequence: i, hears: true, inView: true }))];
const content = { state: 'active' as const, leaseMs: 0, macs: ['02:00:00:00:00:01'], truncated: false, peers: entries };
const count = 20_000;
const frames = Array.from({ length: count }, (_, i) => encodeHeartbeat(peers[i % peers.length]!.next(content), key));

let started = performance.now();
for (let i = 0; i < count; i++) encodeHeartbeat(peers[i % peers.length]!.next(content), key);
const encodeUs = ((performance.now() - started) / count) * 1000;
started = performance.now();
for (let i = 0; i < count; i++) {
  const beat = decodeHeartbeat(frames[i]!, [key]);
  if (beat.ok) membership.receive(beat.value, i / 100);
}
const receiveUs = ((performance.now() - started) / count) * 1000;
console.log(`encode ${encodeUs.toFixed(2)} µs/beat; decode + membership ${receiveUs.toFixed(2)} µs/beat; ${frames[0]!.length}-byte payload with 100 peer entries`);
console.log(`100 peers × 10 beats/s × 2 paths = 2000 beats/s ≈ ${((2000 * receiveUs) / 1000).toFixed(1)} ms CPU per second`);
