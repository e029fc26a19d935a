// Per-frame cost of the heartbeat path: node speaker/liveness/heartbeat.bench.ts
import { createSecretKey } from 'node:crypto';
import { BeatSource, decodeHeartbeat, encodeHeartbeat, Membership } from './index.ts';

const key = createSecretKey(new Uint8Array(32).fill(1));
const peers = Array.from({ length: 100 }, (_, i) => new BeatSource({ node: `worker-node-${i}.cluster.example`, bootId: i.toString(16).padStart(32, '0'), intervalMs: 100 }));
const membership = new Membership({ self: 'self', selfBootId: 'f'.repeat(32), startedAt: 0 });
const count = 100_000;
const frames = Array.from({ length: count }, (_, i) => encodeHeartbeat(peers[i % peers.length]!.next(1e12 + i), key));

let started = performance.now();
for (let i = 0; i < count; i++) encodeHeartbeat(peers[i % peers.length]!.next(2e12 + i), key);
const encodeUs = ((performance.now() - started) / count) * 1000;
started = performance.now();
for (let i = 0; i < count; i++) {
  const beat = decodeHeartbeat(frames[i]!, [key]);
  if (beat.ok) membership.receive(beat.value, i);
}
const receiveUs = ((performance.now() - started) / count) * 1000;
console.log(`encode ${encodeUs.toFixed(2)} µs/frame; decode + membership ${receiveUs.toFixed(2)} µs/frame; ${frames[0]!.length}-byte payload`);
console.log(`100 peers × 10 beats/s × 2 interfaces = 2000 frames/s ≈ ${((2000 * receiveUs) / 1000).toFixed(1)} ms CPU per second`);
