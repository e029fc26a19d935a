// May this speaker claim IPs on its own view (agreed with its peers), or must
// it fall back to the API's view? Pure: counts in, a verdict out.
//
// The cluster is every speaker the API shows Ready, plus every peer we hear
// both ways (a speaker whose Pod is not Ready yet is still a speaker), plus
// ourselves. We may act on our own view only while a majority of it vouches
// for us (supporters, ourselves included): two majorities always share a
// node, and a node never vouches for two speakers that each think they own
// the same IP (agreement, speaker/election/agreement.ts). With an even
// cluster split in halves, the half that holds the tie-break Lease counts as
// the majority. Without a majority, and without an API view to count with,
// the speaker is detached: it claims only what the API's view gives it, and
// only after checking on the wire that nobody else answers (speaker/l2).

export interface QuorumInput {
  readonly self: string;
  /** Speakers whose Pods the API shows Ready; undefined while the API view is unknown. */
  readonly readyInAPI: ReadonlySet<string> | undefined;
  /** Peers we hear and that hear us (any state but leaving). */
  readonly mutual: ReadonlySet<string>;
  /** Mutual peers that vouch for us (supporters in membership.ts). */
  readonly supporters: ReadonlySet<string>;
  /** We hold the tie-break Lease, or a supporter says it does. */
  readonly tieLease: boolean;
}

export type QuorumVerdict =
  | { readonly mode: 'agreed'; readonly via: 'majority' | 'lease'; readonly cluster: number; readonly vouched: number }
  | { readonly mode: 'detached'; readonly why: 'minority' | 'tie' | 'no-api-view'; readonly cluster: number; readonly vouched: number };

export function quorum(input: QuorumInput): QuorumVerdict {
  const vouched = input.supporters.size + 1;
  if (input.readyInAPI === undefined) return { mode: 'detached', why: 'no-api-view', cluster: input.mutual.size + 1, vouched };
  const cluster = new Set([...input.readyInAPI, ...input.mutual, input.self]).size;
  if (vouched > cluster / 2) return { mode: 'agreed', via: 'majority', cluster, vouched };
  if (vouched * 2 === cluster) return input.tieLease ? { mode: 'agreed', via: 'lease', cluster, vouched } : { mode: 'detached', why: 'tie', cluster, vouched };
  return { mode: 'detached', why: 'minority', cluster, vouched };
}

/** The fewest vouching speakers (ourselves included) that make a majority of `cluster`. */
export function majorityOf(cluster: number): number {
  return Math.floor(cluster / 2) + 1;
}
