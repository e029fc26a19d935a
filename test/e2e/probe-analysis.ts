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
//   speaker is gone (SIGKILL of the speaker alone) shows a takeover but no outage.

export interface ProbeSample {
  /** Wall-clock ms when the request started. */
  readonly at: number;
  readonly r: { readonly ok: boolean; readonly body?: string; readonly ms: number };
}

export interface FailoverMeasure {
  readonly takeoverMs: number | undefined;
  readonly outageMs: number;
  /** Requests started after the event that failed (timeouts, resets). */
  readonly failed: number;
  /** Nodes that answered after the event, in order of first answer. */
  readonly answeredBy: readonly string[];
}

export function measureFailover(samples: readonly ProbeSample[], eventAt: number, failedNode: string): FailoverMeasure {
  const done = samples.map((s) => ({ start: s.at, end: s.at + s.r.ms, ok: s.r.ok, node: s.r.body?.trim() })).sort((a, b) => a.end - b.end);
  const successes = done.filter((d) => d.ok && d.end >= eventAt);
  const takeover = successes.find((d) => d.node !== failedNode);
  let outage = 0;
  let previous = eventAt;
  for (const s of successes) {
    outage = Math.max(outage, s.end - previous);
    previous = s.end;
  }
  const lastEnd = done.reduce((m, d) => Math.max(m, d.end), eventAt);
  outage = Math.max(outage, lastEnd - previous);
  const answeredBy: string[] = [];
  for (const s of successes) if (s.node !== undefined && !answeredBy.includes(s.node)) answeredBy.push(s.node);
  return {
    takeoverMs: takeover === undefined ? undefined : takeover.end - eventAt,
    outageMs: outage,
    failed: done.filter((d) => d.start >= eventAt && !d.ok).length,
    answeredBy,
  };
}

/** The p-th percentile (nearest rank) of values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
