// "Who has this IP?" from the host, on the kind network's bridge: one ARP
// request (IPv4) or Neighbor Solicitation (IPv6), and the distinct MACs that
// answer it. The same question as speaker/l2/lab/client-tool.ts's who-has,
// asked in-process over two sockets kept open: the e2e asks it every few
// hundred ms while watching a handover, and a Node.js process per question
// (≈1.5 s of CPU on a busy 2-core machine) both lagged and loaded the very
// machine whose timing it measured.
import { parseIP } from '../../shared/net/index.ts';
import { buildArpRequest, decodeArpFrame } from '../../speaker/l2/arp.ts';
import { ETHERTYPE_ARP, ETHERTYPE_IPV6, formatMac, macEquals } from '../../speaker/l2/ethernet.ts';
import { buildNeighborSolicitation, decodeNdpFrame } from '../../speaker/l2/ndp.ts';
import { openPacketSocket, type PacketSocket } from '../../speaker/l2/packet-socket.ts';

interface Question {
  readonly target: bigint;
  readonly macs: Set<string>;
}

/** One frame in which a MAC claimed an IP: an ARP reply (asked or gratuitous), a gratuitous ARP request, a Neighbor Advertisement. */
export interface Claim {
  /** Wall-clock ms from the kernel's receive timestamp. */
  readonly at: number;
  readonly ip: bigint;
  readonly mac: string;
}

const KEPT_CLAIMS = 20_000;

export class NeighbourProbe {
  readonly #arp: PacketSocket;
  readonly #ipv6: PacketSocket;
  readonly #ours: { 4: string; 6: string };
  readonly #open = new Set<Question>();
  readonly #claims: Claim[] = [];

  constructor(interfaceName: string, ours: { ipv4: string; ipv6: string }) {
    this.#ours = { 4: ours.ipv4, 6: ours.ipv6 };
    const open = (etherType: number, onFrame: (frame: Uint8Array, at: number) => void): PacketSocket => {
      const s = openPacketSocket({
        interfaceName,
        etherType,
        timestamps: true,
        onFrame: (frame, _type, receivedAtNs) => onFrame(frame, receivedAtNs === undefined ? performance.timeOrigin + performance.now() : Number(receivedAtNs) / 1e6),
        onError: (e) => process.stderr.write(`neighbours: ${e.message}\n`),
      });
      if (!s.ok) throw new Error(`packet socket on ${interfaceName}: ${s.error.message} (the kind e2e runs as root)`);
      return s.value;
    };
    this.#arp = open(ETHERTYPE_ARP, (frame, at) => {
      const d = decodeArpFrame(frame);
      if (!d.ok) return;
      const { operation, senderIP, senderMac, targetIP, targetMac } = d.value.arp;
      const mac = formatMac(senderMac);
      if (operation === 'reply' || senderIP.value === targetIP.value) this.#claim({ at, ip: senderIP.value, mac });
      // A gratuitous reply (to broadcast) announces; only a reply to us answers.
      if (operation === 'reply' && macEquals(targetMac, this.#arp.mac)) this.#answer(senderIP.value, mac);
    });
    this.#ipv6 = open(ETHERTYPE_IPV6, (frame, at) => {
      const d = decodeNdpFrame(frame);
      if (!d.ok || d.value.message.type !== 'advertisement') return;
      const mac = formatMac(d.value.message.targetLinkLayer ?? d.value.ethernet.source);
      this.#claim({ at, ip: d.value.message.target.value, mac });
      // An unsolicited NA (S=0, to all nodes) announces; only a solicited one answers.
      if (d.value.message.solicited) this.#answer(d.value.message.target.value, mac);
    });
  }

  #answer(target: bigint, mac: string): void {
    for (const q of this.#open) if (q.target === target) q.macs.add(mac);
  }

  #claim(c: Claim): void {
    this.#claims.push(c);
    if (this.#claims.length > KEPT_CLAIMS) this.#claims.splice(0, this.#claims.length - KEPT_CLAIMS);
  }

  /** The first frame since `since` (wall-clock ms) in which a MAC other than `except` claimed ip; heard passively, so exact to the frame. */
  firstClaimSince(ip: string, since: number, except: string): Claim | undefined {
    const target = parseIP(ip);
    if (!target.ok) throw new Error(target.error);
    this.#arp.drain();
    this.#ipv6.drain();
    return this.#claims.find((c) => c.at >= since && c.ip === target.value.value && c.mac !== except);
  }

  /** Asks once, listens for listenMs, returns the MACs that answered (sorted). */
  async whoHas(ip: string, listenMs = 300): Promise<string[]> {
    const target = parseIP(ip);
    if (!target.ok) throw new Error(target.error);
    const ours = parseIP(this.#ours[target.value.family]);
    if (!ours.ok) throw new Error(ours.error);
    const q: Question = { target: target.value.value, macs: new Set() };
    this.#open.add(q);
    try {
      const socket = target.value.family === 4 ? this.#arp : this.#ipv6;
      const mac = socket.mac;
      const frame = target.value.family === 4 ? buildArpRequest(target.value, ours.value, mac) : buildNeighborSolicitation(target.value, ours.value, mac);
      const sent = socket.send(frame);
      if (!sent.ok) throw new Error(`send: ${sent.error}`);
      await new Promise((r) => setTimeout(r, listenMs));
      // After an event-loop stall timers run before polled sockets: read what is queued first.
      socket.drain();
      return [...q.macs].sort();
    } finally {
      this.#open.delete(q);
    }
  }

  close(): void {
    this.#arp.close();
    this.#ipv6.close();
  }
}
