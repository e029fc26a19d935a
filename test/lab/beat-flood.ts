// Lab tool: floods a LAN with heartbeats, from the client namespace.
//   node beat-flood.ts <interface> <key hex | -> <rate per s> <duration ms> <node>... -- <address>...
// Half the frames go out raw (EtherType 0x88B5, broadcast: every node gets
// them), half as UDP datagrams to the addresses, round robin. With a key the
// beats are validly signed, naming the given nodes with made-up incarnations
// and state LEAVING, plus one name no node has; without ('-') they are signed
// with a random key. Prints one JSON line: what it sent.
import { createSecretKey, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { BROADCAST_MAC, ETHERNET_HEADER_LENGTH, openPacketSocket, writeEthernetHeader } from '../../speaker/l2/index.ts';
import { encodeHeartbeat, HEARTBEAT_ETHERTYPE, nameHash, type Heartbeat } from '../../speaker/liveness/index.ts';

const [iface = '', keyHex = '-', rateText = '100000', durationText = '4000', ...rest] = process.argv.slice(2);
const split = rest.indexOf('--');
const nodes = split < 0 ? rest : rest.slice(0, split);
const addresses = split < 0 ? [] : rest.slice(split + 1);
const key = createSecretKey(keyHex === '-' ? randomBytes(32) : Buffer.from(keyHex, 'hex'));
const rate = Number(rateText);
const durationMs = Number(durationText);

const names = [...nodes, 'no-such-node'];
const frames: Uint8Array[] = Array.from({ length: 512 }, (_, i) => {
  const beat: Heartbeat = {
    node: names[i % names.length]!,
    incarnation: randomBytes(8).toString('hex'),
    sequence: i,
    intervalMs: 100,
    state: 'leaving',
    leaseMs: 0,
    truncated: false,
    macs: [],
    peers: nodes.map((n) => ({ hash: nameHash(n), sequence: i, hears: true, inView: false })),
  };
  return encodeHeartbeat(beat, key);
});

const raw = openPacketSocket({ interfaceName: iface, etherType: HEARTBEAT_ETHERTYPE, onFrame: () => {}, onError: () => {} });
if (!raw.ok) throw new Error(raw.error.message);
const rawFrames = frames.map((payload) => {
  const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + payload.length);
  writeEthernetHeader(frame, { destination: BROADCAST_MAC, source: raw.value.mac, etherType: HEARTBEAT_ETHERTYPE });
  frame.set(payload, ETHERNET_HEADER_LENGTH);
  return frame;
});
const udp = createSocket({ type: 'udp6', ipv6Only: false });
const targets = addresses.map((a) => (a.includes(':') ? a : `::ffff:${a}`));

let sent = 0;
let failed = 0;
const started = performance.now();
await new Promise<void>((resolve) => {
  const tick = (): void => {
    const elapsed = performance.now() - started;
    if (elapsed >= durationMs) return resolve();
    const due = Math.floor((elapsed / 1000) * rate);
    while (sent < due) {
      const i = sent % frames.length;
      if (sent % 2 === 0 || targets.length === 0) {
        if (!raw.value.send(rawFrames[i]!).ok) failed++;
      } else {
        udp.send(frames[i]!, 7947, targets[(sent >> 1) % targets.length]!, (e) => e && failed++);
      }
      sent++;
    }
    setImmediate(tick);
  };
  tick();
});
raw.value.close();
udp.close();
process.stdout.write(`${JSON.stringify({ sent, failed, perSecond: Math.round(sent / (durationMs / 1000)) })}\n`);
