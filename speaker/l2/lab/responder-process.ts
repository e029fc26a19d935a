// Lab helper: runs the L2 announcer on one interface inside a node network
// namespace (`ip netns exec <ns> node responder-process.ts <interface>`).
// Commands arrive as JSON lines on stdin, answers and counters leave as JSON
// lines on stdout. Exits when stdin closes.
import { createInterface } from 'node:readline';
import { chooseInterfaces, L2Announcer, readInterfaces, type AllowedInterfaces } from '../index.ts';

const interfaceName = process.argv[2];
if (interfaceName === undefined) throw new Error('usage: responder-process.ts <interface>');

const counts: Record<string, number> = {};
const count = (key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};
const print = (message: object): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};

const announcer = new L2Announcer({
  counters: {
    requestReceived: (protocol, ip) => count(`request ${protocol} ${ip}`),
    replySent: (protocol, ip) => count(`reply ${protocol} ${ip}`),
    gratuitousSent: (protocol, ip) => count(`gratuitous ${protocol} ${ip}`),
    garbled: (protocol, reason) => count(`garbled ${protocol} ${reason}`),
    sendFailed: (protocol, code) => count(`send-failed ${protocol} ${code}`),
    foreignAnnouncement: (protocol, ip) => count(`foreign ${protocol} ${ip}`),
  },
  onEvent: (event) => print({ op: 'event', event }),
});

const choice = chooseInterfaces(await readInterfaces(), { only: [interfaceName] });
const failures = announcer.setInterfaces(choice.eligible);
const lan = choice.eligible.find((i) => i.name === interfaceName);
print({ op: 'ready', mac: lan?.mac ?? null, eligible: choice.eligible.map((i) => i.name), skipped: choice.skipped, failures });

type Command = { op: 'own'; table: [string, 'all' | string[]][] } | { op: 'stats' };

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const command = JSON.parse(line) as Command;
    if (command.op === 'own') {
      announcer.setOwnership(
        new Map(command.table.map(([ip, allowed]) => [ip, { allowed: (allowed === 'all' ? 'all' : new Set(allowed)) as AllowedInterfaces, mode: 'agreed' as const }])),
      );
      print({ op: 'own' });
    } else {
      print({ op: 'stats', counts, rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed });
    }
  })
  .on('close', () => {
    announcer.close();
    process.exit(0);
  });
