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
