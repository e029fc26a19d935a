// What a client saw during a failover: from the lab agent's probe samples
// (a request every few ms from the client namespace) and the moment of the
// event (a kill, a link going down), the takeover time and the outage.
//
// Definitions (the numbers in docs/benchmarks.md):
// - takeover: from the event to the first successful answer (its completion)
//   from a node other than the one that failed;
// - outage: the longest stretch after the event during which no request
//   succeeded, measured between completions of successful requests, the first
//   stretch starting at the event. A node that still forwards traffic while its
//   speaker is gone (SIGKILL of the speaker alone) shows a takeover but no outage;
// - failed after takeover: requests that failed although they started once the
//   new node was answering (the start of its first answered request). A TCP
//   connection open at the moment the client's neighbour entry moves sends its
//   next segment to the new node, which has no such connection and resets it:
//   every layer-2 failover (MetalLB's too) breaks the connections in flight at
//   the move. Nothing that starts after the move may fail.

export interface ProbeSample {
  /** Wall-clock ms when the request started. */
  readonly at: number;
  readonly r: { readonly ok: boolean; readonly body?: string; readonly error?: string; readonly ms: number };
}

export interface FailoverMeasure {
  readonly takeoverMs: number | undefined;
  readonly outageMs: number;
  /** Requests started after the event that failed (timeouts, resets). */
  readonly failed: number;
  /** Of those, the ones started once the new node answered (see the definitions above). */
  readonly failedAfterTakeover: number;
  /** Each failure after the event, for a test's message: start relative to the event, and the error. */
  readonly failures: readonly string[];
  /** Nodes that answered after the event, in order of first answer. */
  readonly answeredBy: readonly string[];
}

export function measureFailover(samples: readonly ProbeSample[], eventAt: number, failedNode: string): FailoverMeasure {
  const done = samples.map((s) => ({ start: s.at, end: s.at + s.r.ms, ok: s.r.ok, node: s.r.body?.trim(), error: s.r.error })).sort((a, b) => a.end - b.end);
  const successes = done.filter((d) => d.ok && d.end >= eventAt);
  const bySuccessor = successes.filter((d) => d.node !== failedNode);
  const takeover = bySuccessor[0];
  const movedAt = Math.min(...bySuccessor.map((d) => d.start));
  const failures = done.filter((d) => d.start >= eventAt && !d.ok).sort((a, b) => a.start - b.start);
  const outage = Math.max(0, ...outageGaps(samples, eventAt).map(([from, to]) => to - from));
  const answeredBy: string[] = [];
  for (const s of successes) if (s.node !== undefined && !answeredBy.includes(s.node)) answeredBy.push(s.node);
  return {
    takeoverMs: takeover === undefined ? undefined : takeover.end - eventAt,
    outageMs: outage,
    failed: failures.length,
    failedAfterTakeover: failures.filter((d) => d.start >= movedAt).length,
    failures: failures.map((d) => `+${Math.round(d.start - eventAt)} ms for ${Math.round(d.end - d.start)} ms: ${d.error ?? 'failed'}`),
    answeredBy,
  };
}

/**
 * The stretches after `from` with no successful completion, as [from, to]
 * wall-clock intervals: between successive completions, the first starting at
 * `from`, the last ending with the last request's end (answered or not).
 */
export function outageGaps(samples: readonly ProbeSample[], from: number): Array<[number, number]> {
  const ends = samples.filter((s) => s.r.ok && s.at + s.r.ms >= from).map((s) => s.at + s.r.ms).sort((a, b) => a - b);
  const lastEnd = samples.reduce((m, s) => Math.max(m, s.at + s.r.ms), from);
  const gaps: Array<[number, number]> = [];
  let previous = from;
  for (const end of [...ends, lastEnd]) {
    if (end > previous) gaps.push([previous, end]);
    previous = Math.max(previous, end);
  }
  return gaps;
}

/**
 * The longest outage of `samples` after `from` once the prober's own stalls
 * are taken out: the stretches longer than `stallMs` in which a control probe
 * (the same process asking a server of its own, every few ms) saw no
 * completion either. A busy machine delays every timer and callback of the
 * prober alike; only what the control did not share is the network's.
 */
export function outageBeyondStalls(samples: readonly ProbeSample[], control: readonly ProbeSample[], from: number, stallMs = 30): number {
  const stalls = outageGaps(control, from).filter(([c, d]) => d - c > stallMs);
  const overlap = (a: number, b: number): number => stalls.reduce((sum, [c, d]) => sum + Math.max(0, Math.min(b, d) - Math.max(a, c)), 0);
  return Math.max(0, ...outageGaps(samples, from).map(([a, b]) => b - a - overlap(a, b)));
}

/** The p-th percentile (nearest rank) of values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
