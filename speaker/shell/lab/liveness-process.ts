// Lab helper: one speaker's liveness (wire worker + membership) in a
// node namespace, without the rest of the speaker.
//   node liveness-process.ts <node> <interface> <key hex> <block ms>
// Prints one JSON line whenever the alive set changes. SIGUSR2 blocks the
// main thread (a busy loop, as a long relist or GC would) for <block ms>.
import { createLogger } from '../../../shared/observability/index.ts';
import { LivenessTracker } from '../liveness.ts';
import { Wire } from '../wire.ts';
import { monotonicMs } from '../wire-protocol.ts';

const [node = '', iface = '', keyHex = '', blockText = '1000'] = process.argv.slice(2);
const log = createLogger({ component: 'liveness-lab', level: 'warn' });
let last = '';
const report = (): void => {
  const now = monotonicMs();
  const alive = [...tracker.alive(now, [])].sort();
  const text = alive.join(',');
  if (text !== last) {
    last = text;
    process.stdout.write(`${JSON.stringify({ at: Date.now(), alive })}\n`);
  }
  tracker.armDeadline(now);
};
const bootId = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex');
const wire = new Wire({
  node,
  bootId,
  intervalMs: 100,
  rejoinHoldMs: 175,
  log,
  onBeat: (beat, heardAt) => tracker.receive(beat, heardAt),
  onCarrier: () => {},
  onMuted: (muted) => tracker.setMuted(muted),
});
const tracker: LivenessTracker = new LivenessTracker({
  node,
  bootId,
  intervalMs: 100,
  log,
  beats: wire,
  // As the speaker does: a deadline is judged at once, the rest on the next turn.
  onChange: (urgency) => (urgency === 'deadline' ? report() : setImmediate(report)),
});
tracker.setKeys([new Uint8Array(Buffer.from(keyHex, 'hex'))]);
wire.setInterfaces([iface], []);
tracker.start();
wire.start();
report();
process.on('SIGUSR2', () => {
  process.stdout.write(`${JSON.stringify({ at: Date.now(), blocking: Number(blockText) })}\n`);
  const until = performance.now() + Number(blockText);
  while (performance.now() < until) {
    // the main thread is busy; only the wire worker runs
  }
  process.stdout.write(`${JSON.stringify({ at: Date.now(), unblocked: true })}\n`);
});
process.on('SIGTERM', () => {
  tracker.stop();
  void wire.stop().then(() => process.exit(0));
});
