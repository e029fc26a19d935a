// Lab helper: exercises the packet-socket addon's error paths inside a
// throwaway network namespace that has veth pair a0 <-> b0
// (`ip netns exec <ns> node socket-checks.ts`). Prints one JSON object.
import { execFileSync } from 'node:child_process';
import { buildGratuitousArp } from '../arp.ts';
import { ETHERTYPE_ARP } from '../ethernet.ts';
import { ipFromValue } from '../../../shared/net/index.ts';
import { openPacketSocket, type SocketError } from '../packet-socket.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const ip = (...args: string[]): void => void execFileSync('ip', args);
const result: Record<string, unknown> = {};

const missing = openPacketSocket({ interfaceName: 'nosuch0', etherType: ETHERTYPE_ARP, onFrame: () => {}, onError: () => {} });
result.missingInterface = missing.ok ? 'opened' : missing.error.code;
const tooLong = openPacketSocket({ interfaceName: 'x'.repeat(20), etherType: ETHERTYPE_ARP, onFrame: () => {}, onError: () => {} });
result.longName = tooLong.ok ? 'opened' : tooLong.error.code;

const errors: SocketError[] = [];
let received = 0;
const receiver = openPacketSocket({ interfaceName: 'b0', etherType: ETHERTYPE_ARP, onFrame: () => void received++, onError: (e) => errors.push(e) });
const sender = openPacketSocket({ interfaceName: 'a0', etherType: ETHERTYPE_ARP, onFrame: () => {}, onError: () => {} });
if (!receiver.ok || !sender.ok) throw new Error('could not open sockets on the veth pair');
const [garp] = buildGratuitousArp(ipFromValue(4, 0xcb00710an), sender.value.mac);

result.sendUp = sender.value.send(garp).ok;
await sleep(100);
result.receivedUp = received;

// Send deadlines, on process.hrtime's clock: before it the frame goes out, after it nothing does.
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
received = 0;
result.sendBeforeDeadline = sender.value.send(garp, monotonicMs() + 1_000).ok;
const late = sender.value.send(garp, monotonicMs() - 1);
result.sendAfterDeadline = late.ok ? 'sent' : late.error;
await sleep(100);
result.receivedWithDeadlines = received;

ip('link', 'set', 'a0', 'down');
const down = sender.value.send(garp);
result.sendWhileDown = down.ok ? 'sent' : down.error;
ip('link', 'set', 'b0', 'down');
await sleep(100);
result.receiverErrorsWhileDown = errors.map((e) => `${e.code}${e.fatal ? ' fatal' : ''}`);

ip('link', 'set', 'a0', 'up');
ip('link', 'set', 'b0', 'up');
await sleep(300);
received = 0;
result.sendAfterUp = sender.value.send(garp).ok;
await sleep(100);
result.receivedAfterUp = received;

ip('link', 'del', 'a0');
await sleep(100);
const gone = sender.value.send(garp);
result.sendAfterDelete = gone.ok ? 'sent' : gone.error;

receiver.value.close();
receiver.value.close();
const closed = receiver.value.send(garp);
result.sendAfterClose = closed.ok ? 'sent' : closed.error;
sender.value.close();
console.log(JSON.stringify(result));
