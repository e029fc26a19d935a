// Lab helper, inside a namespace with veth pair c0 <-> d0 (`ip netns exec <ns>
// node drain-checks.ts`): drain() delivers queued frames synchronously, and a
// worker thread ended with its sockets open neither aborts the process nor
// leaks their file descriptors. Prints one JSON object.
import { readdirSync, readlinkSync } from 'node:fs';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { ipFromValue } from '../../../shared/net/index.ts';
import { buildGratuitousArp } from '../arp.ts';
import { ETHERTYPE_ARP } from '../ethernet.ts';
import { openPacketSocket } from '../packet-socket.ts';

const open = (name: string, onFrame: () => void = () => {}) => {
  const s = openPacketSocket({ interfaceName: name, etherType: ETHERTYPE_ARP, onFrame, onError: () => {} });
  if (!s.ok) throw new Error(s.error.message);
  return s.value;
};

if (!isMainThread) {
  open('c0');
  open('d0');
  parentPort!.postMessage('open');
} else {
  const result: Record<string, unknown> = {};
  let received = 0;
  const receiver = open('d0', () => void received++);
  const sender = open('c0');
  const [garp] = buildGratuitousArp(ipFromValue(4, 0xcb00710an), sender.mac);
  for (let i = 0; i < 3; i++) sender.send(garp);
  // The event loop does not turn here: only drain() can deliver the frames.
  const until = performance.now() + 50;
  while (performance.now() < until) {
    // wait for the frames to reach d0's queue
  }
  result.beforeDrain = received;
  receiver.drain();
  result.afterDrain = received;
  receiver.close();
  sender.close();

  // Sockets only: a thread's own descriptors (epoll, eventfd) close on their own schedule.
  const fds = (): number =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  const before = fds();
  const worker = new Worker(new URL(import.meta.url));
  await new Promise((resolve) => worker.once('message', resolve));
  result.openInWorker = fds() - before;
  await worker.terminate();
  result.leftAfterTerminate = fds() - before;
  result.survived = true;
  console.log(JSON.stringify(result));
}
