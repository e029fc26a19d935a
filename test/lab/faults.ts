// Faults injected on the lab's bridge, between the LAN's members: frames
// dropped by nftables' bridge family in the bridge namespace (each flooded
// copy passes the forward hook once per egress port, so a broadcast can be
// dropped towards some ports and delivered to others), and links flapped.
// Nothing here touches the host's network.
import { run, runQuiet, sleep } from './exec.ts';
import type { Lan, LabMember } from './lan.ts';

const TABLE = 'ballast_faults';

export class LanFaults {
  readonly #lan: Lan;
  #rules: string[] = [];

  constructor(lan: Lan) {
    this.#lan = lan;
  }

  /**
   * Node-to-node frames are dropped except ARP and ICMPv6 (neighbour
   * discovery): the nodes cannot hear each other's heartbeats, UDP or raw,
   * while every client still reaches every node — what port security or a
   * firewall that passes only IP and ARP between chosen hosts can do.
   */
  async isolateNodesExceptNeighbourDiscovery(): Promise<void> {
    const nodes = this.#ports(this.#lan.nodes);
    await this.#apply([
      `add rule bridge ${TABLE} forward iifname ${nodes} oifname ${nodes} ether type arp accept`,
      `add rule bridge ${TABLE} forward iifname ${nodes} oifname ${nodes} ether type ip6 ip6 nexthdr ipv6-icmp accept`,
      `add rule bridge ${TABLE} forward iifname ${nodes} oifname ${nodes} drop`,
    ]);
  }

  /** Every frame from `from` to the other nodes is dropped (one-way loss); the client still hears it. */
  async dropEgressToPeers(from: LabMember): Promise<void> {
    const others = this.#ports(this.#lan.nodes.filter((n) => n.ns !== from.ns));
    await this.#apply([`add rule bridge ${TABLE} forward iifname "${this.#lan.bridgePort(from)}" oifname ${others} drop`]);
  }

  /** Frames of one EtherType dropped between nodes (e.g. 0x88b5: a switch that drops unknown EtherTypes). */
  async dropEtherTypeBetweenNodes(etherType: number): Promise<void> {
    const nodes = this.#ports(this.#lan.nodes);
    await this.#apply([`add rule bridge ${TABLE} forward iifname ${nodes} oifname ${nodes} ether type 0x${etherType.toString(16)} drop`]);
  }

  /** Removes every fault rule. */
  async clear(): Promise<void> {
    this.#rules = [];
    await runQuiet(['ip', 'netns', 'exec', this.#lan.bridgeNs, 'nft', 'delete', 'table', 'bridge', TABLE]);
  }

  /** Takes a member's link down and up every `periodMs` for `durationMs`; ends with the link up. */
  async flapLink(member: LabMember, periodMs: number, durationMs: number): Promise<void> {
    const end = Date.now() + durationMs;
    let up = true;
    try {
      while (Date.now() < end) {
        up = !up;
        await this.#lan.setLinkOf(member, up);
        await sleep(periodMs);
      }
    } finally {
      if (!up) await this.#lan.setLinkOf(member, true);
    }
  }

  async #apply(rules: string[]): Promise<void> {
    this.#rules.push(...rules);
    const script = [
      `add table bridge ${TABLE}`,
      `add chain bridge ${TABLE} forward { type filter hook forward priority 0 ; policy accept ; }`,
      `flush chain bridge ${TABLE} forward`,
      ...this.#rules,
    ].join('\n');
    await run(['ip', 'netns', 'exec', this.#lan.bridgeNs, 'nft', '-f', '-'], { input: `${script}\n` });
  }

  #ports(members: readonly LabMember[]): string {
    return `{ ${members.map((m) => `"${this.#lan.bridgePort(m)}"`).join(', ')} }`;
  }
}
