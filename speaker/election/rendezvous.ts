// Rendezvous (highest-random-weight) hashing: every speaker ranks the same
// candidates the same way, and removing a node only moves the IPs it won.
import { hash } from 'node:crypto';
import type { IPAddress } from '../../shared/net/index.ts';

/**
 * sha256(node + "#" + ip) as lowercase hex, MetalLB's key
 * (speaker/layer2_controller.go), so an operator can predict the owner with
 * `printf 'node#ip' | sha256sum` and a cluster moved from MetalLB keeps its
 * owners. Lowest wins; hex strings order like the digest bytes. One-shot
 * crypto.hash with hex output is ~4× faster than createHash().digest() here,
 * which matters at 100 nodes × thousands of IPs per election.
 */
export function rendezvousScore(node: string, ip: IPAddress): string {
  return hash('sha256', `${node}#${ip.text}`);
}

/** Candidates best first; ties (a sha256 collision) broken by name so the order is total. */
export function rendezvousOrder(candidates: Iterable<string>, ip: IPAddress): string[] {
  return [...new Set(candidates)]
    .map((node) => ({ node, score: rendezvousScore(node, ip) }))
    .sort((a, b) => compareScored(a, b))
    .map((c) => c.node);
}

export function rendezvousWinner(candidates: Iterable<string>, ip: IPAddress): string | undefined {
  let best: { node: string; score: string } | undefined;
  for (const node of candidates) {
    const scored = { node, score: rendezvousScore(node, ip) };
    if (best === undefined || compareScored(scored, best) < 0) best = scored;
  }
  return best?.node;
}

function compareScored(a: { node: string; score: string }, b: { node: string; score: string }): number {
  if (a.score !== b.score) return a.score < b.score ? -1 : 1;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/**
 * Remembers, per key IP, the rendezvous order of every node, so that re-elections
 * after a liveness change (the failover path) hash nothing: the owner is the first
 * node in the remembered order that is still a candidate. Orders are recomputed
 * when the set of nodes changes and dropped when their IP is gone. Memory is
 * IPs × nodes references (5 000 groups × 100 nodes ≈ 4 MB).
 */
export class RendezvousMemo {
  #nodes = '';
  #orders = new Map<string, readonly string[]>();
  #used = new Set<string>();

  /** Call once per election with every node the election knows, before `winner`. */
  begin(allNodes: readonly string[]): void {
    const nodes = [...allNodes].sort().join('\n');
    if (nodes !== this.#nodes) {
      this.#nodes = nodes;
      this.#orders.clear();
    }
    this.#used.clear();
  }

  /** `candidates` must be among the nodes given to `begin`. */
  winner(candidates: readonly string[], ip: IPAddress): string | undefined {
    const wanted = new Set(candidates);
    return this.order(ip).find((node) => wanted.has(node));
  }

  /** Every node given to `begin`, best first for this key (remembered like `winner`'s). */
  order(ip: IPAddress): readonly string[] {
    let order = this.#orders.get(ip.text);
    if (!order) {
      order = rendezvousOrder(this.#nodes === '' ? [] : this.#nodes.split('\n'), ip);
      this.#orders.set(ip.text, order);
    }
    this.#used.add(ip.text);
    return order;
  }

  /** Call after the election: forgets the IPs it did not ask about. */
  end(): void {
    for (const ip of this.#orders.keys()) if (!this.#used.has(ip)) this.#orders.delete(ip);
  }

  get size(): number {
    return this.#orders.size;
  }
}
