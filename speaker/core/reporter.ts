// Who speaks for a Service when nobody announces it: one speaker, so a
// cluster-wide problem becomes one Warning, not one per node, and one speaker
// cleans up ServiceL2Status objects nobody owns. Rendezvous hashing over the
// live speakers (as election does for IPs): every speaker picks the same one,
// and the choice moves only when that speaker dies.
import { hash } from 'node:crypto';

export function reporterFor(serviceKey: string, alive: Iterable<string>): string | undefined {
  let best: { node: string; score: string } | undefined;
  for (const node of alive) {
    const score = hash('sha256', `${node}#${serviceKey}`);
    if (best === undefined || score < best.score || (score === best.score && node < best.node)) best = { node, score };
  }
  return best?.node;
}
