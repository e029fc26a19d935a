// Lab helper: one speaker's liveness (the wire worker and its membership) in a
// node namespace, without the rest of the speaker.
//   node liveness-process.ts <node> <interface> <key hex> <block ms>
// Prints one JSON line whenever the alive set (itself once it has listened,
// and its members) changes. SIGUSR2 blocks the main thread (a busy loop, as a
// long relist or GC would) for <block ms>.
import { createLogger } from '../../../shared/observability/index.ts';
import { Wire } from '../wire.ts';
import type { LivenessSnapshot } from '../wire-protocol.ts';

const [node = '', iface = '', keyHex = '', blockText = '1000'] = process.argv.slice(2);
const log = createLogger({ component: 'liveness-lab', level: 'warn' });
let last = '';
let muted = false;
let snapshot: LivenessSnapshot | undefined;
const report = (): void => {
  if (snapshot === undefined) return;
  const alive = [...(snapshot.listening || muted ? [] : [node]), ...snapshot.members].sort();
  const text = alive.join(',');
  if (text !== last) {
    last = text;
    process.stdout.write(`${JSON.stringify({ at: Date.now(), alive })}\n`);
  }
};
const wire = new Wire({
  node,
  intervalMs: 100,
  port: 7947,
  log,
  onLiveness: (s) => {
    snapshot = s;
    report();
  },
  onCarrier: () => {},
  onMuted: (m) => {
    muted = m;
    report();
  },
  // As the speaker's main thread does: a fence that goes up drops the worker's table (it beats
  // JOINING meanwhile), and the next table, sent after hearing of it, ends that.
  onFence: (fenced) => {
    if (fenced) wire.setClaiming(claiming);
  },
});
wire.setKeys([new Uint8Array(Buffer.from(keyHex, 'hex'))]);
wire.setInterfaces([iface], []);
// Claiming nothing, but as a speaker that may (a waiting one beats JOINING, and peers do not count it as a member).
const claiming = { table: new Map(), view: [], fence: { majority: 1, tieAt: null, leaseUntil: null }, mode: 'agreed', awaitingAcksSince: null } as const;
wire.setClaiming(claiming);
wire.start();
process.on('SIGUSR2', () => {
  process.stdout.write(`${JSON.stringify({ at: Date.now(), blocking: Number(blockText) })}\n`);
  const until = performance.now() + Number(blockText);
  while (performance.now() < until) {
    // the main thread is busy; only the wire worker runs
  }
  process.stdout.write(`${JSON.stringify({ at: Date.now(), unblocked: true })}\n`);
});
process.on('SIGTERM', () => {
  void wire.stop().then(() => process.exit(0));
});
