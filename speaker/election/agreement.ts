// Agreement: a speaker claims an IP group only when every member it hears
// would elect it too. Each member's beats carry the view its own ownership
// was elected over; since owners are unique in any one view, no two speakers
// that hear a common member (or each other) can both claim a group. Pure.
//
// Rendezvous hashing makes the check cheap: in any view that holds us and no
// node outside our own view, we win whatever we win in ours (removing nodes
// never takes a group from a winner that stays). So only views with nodes we
// do not count can disagree, and one more election over our view plus those
// nodes tells which of our groups one of them would take.
import type { Election, GroupDecision } from './decision.ts';

export interface AgreementInput {
  readonly self: string;
  /** Ourselves and our members: what `election` was run over. */
  readonly view: ReadonlySet<string>;
  /** Each member's view as its last beat gave it; 'unknown' when it did not fit the beat. */
  readonly peerViews: ReadonlyMap<string, ReadonlySet<string> | 'unknown'>;
  readonly election: Election;
  /** The same election over another set of live speakers. */
  readonly electOver: (live: ReadonlySet<string>) => Election;
}

export interface Agreement {
  /** Key IPs (text) of the groups we own and every member agrees we own. */
  readonly agreed: ReadonlySet<string>;
  /** Why the rest of our groups wait, for the log: a member not counting us, or one that would win them. */
  readonly waiting: ReadonlyMap<string, string>;
}

export function agree(input: AgreementInput): Agreement {
  const own = input.election.groups.filter((g): g is GroupDecision & { owner: string } => g.owner === input.self);
  const agreed = new Set<string>();
  const waiting = new Map<string, string>();
  const blockAll = (why: string): Agreement => {
    for (const g of own) waiting.set(g.key.text, why);
    return { agreed, waiting };
  };

  const outside = new Set<string>();
  for (const [peer, view] of input.peerViews) {
    if (view === 'unknown') return blockAll(`the view of ${peer} did not fit its heartbeat`);
    if (!view.has(input.self)) return blockAll(`${peer} does not count this speaker yet`);
    for (const node of view) if (!input.view.has(node)) outside.add(node);
  }
  if (outside.size === 0) {
    for (const g of own) agreed.add(g.key.text);
    return { agreed, waiting };
  }
  const wider = input.electOver(new Set([...input.view, ...outside]));
  const widerOwner = new Map(wider.groups.map((g) => [g.key.text, g.owner]));
  for (const g of own) {
    const other = widerOwner.get(g.key.text);
    if (other === input.self) agreed.add(g.key.text);
    else waiting.set(g.key.text, `${other ?? 'another speaker'} would own it in a member's view`);
  }
  return { agreed, waiting };
}
