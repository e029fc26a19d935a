// CPU cost of one responder decision (decode, ownership lookup, reply build),
// without sockets: `node speaker/l2/lab/decision-cost.ts [owned IPs=10000]`.
import { ipFromValue } from '../../../shared/net/index.ts';
import { encodeArpFrame } from '../arp.ts';
import { BROADCAST_MAC } from '../ethernet.ts';
import { multicastMacFor, solicitedNodeMulticast } from '../ipv6.ts';
import { encodeNdpFrame } from '../ndp.ts';
import type { AllowedInterfaces } from '../ownership.ts';
import { PacketType } from '../packet-type.ts';
import { answerArp, answerNeighborSolicitation } from '../responder.ts';

const owned = Number(process.argv[2] ?? 10_000);
const v4Base = (203n << 24n) | (0n << 16n) | (113n << 8n);
const v6Base = 0x2001_0db8_0100n << 80n;
const table = new Map<string, AllowedInterfaces>();
for (let i = 0; i < owned; i++) {
  table.set(ipFromValue(4, v4Base + BigInt(i % 256) + (BigInt(Math.floor(i / 256)) << 8n)).text, 'all');
  table.set(ipFromValue(6, v6Base + BigInt(i)).text, 'all');
}
const link = { name: 'eth0', mac: Uint8Array.of(2, 0, 0, 0, 0, 1) };
const client = Uint8Array.of(2, 0, 0, 0, 0, 2);
const arp = encodeArpFrame({
  ethernet: { destination: BROADCAST_MAC, source: client, etherType: 0x0806 },
  arp: { operation: 'request', senderMac: client, senderIP: ipFromValue(4, (198n << 24n) | (51n << 16n) | (100n << 8n) | 1n), targetMac: new Uint8Array(6), targetIP: ipFromValue(4, v4Base + 7n) },
});
const target = ipFromValue(6, v6Base + 7n);
const ns = encodeNdpFrame({
  ethernet: { destination: multicastMacFor(solicitedNodeMulticast(target)), source: client, etherType: 0x86dd },
  source: ipFromValue(6, (0x2001_0db8_0001n << 80n) | 1n),
  destination: solicitedNodeMulticast(target),
  hopLimit: 255,
  message: { type: 'solicitation', target, sourceLinkLayer: client },
});

function measure(name: string, decide: () => { kind: string }): void {
  for (let i = 0; i < 20_000; i++) decide();
  const n = 200_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (decide().kind !== 'reply') throw new Error(`${name}: no reply`);
  const ns = Number(process.hrtime.bigint() - start) / n;
  console.log(`${name}: ${(ns / 1000).toFixed(2)} µs per request (${owned} owned IPs per family)`);
}

measure('ARP request -> reply', () => answerArp(arp, PacketType.broadcast, link, table));
measure('NS -> NA', () => answerNeighborSolicitation(ns, PacketType.multicast, link, table));
