// One fault, observed from the client: the VIPs are watched (client-tool.ts
// `watch`, a request per VIP every 10 ms) from before the fault until well
// after it ends, and judged by what the client saw — never by the speakers'
// own reports. Used by faults.lab.test.ts (the invariants) and bench/faults.ts
// (the figures in docs/benchmarks.md).
import { sleep, waitFor } from '../lab/index.ts';
import type { E2ECluster } from './cluster.ts';
import { figures, worstOf, type WireWatch } from './wire-analysis.ts';

export interface FaultPlan {
  /** Watched before the fault starts (a clean baseline). */
  readonly settleMs?: number;
  /** How long the fault lasts (between inject and heal). */
  readonly faultMs?: number;
  /** Watched after healing: the cluster must settle to one MAC per VIP within this. */
  readonly afterMs?: number;
  readonly inject: () => Promise<void>;
  readonly heal?: () => Promise<void>;
  /** What this fault in particular must not show, beyond the common figures: one line per problem found. */
  readonly verify?: (watch: WireWatch) => string[];
}

export interface FaultFigures {
  /** Worst VIP: total time with two or more MACs answering, from the fault's start to the end of the watch. */
  readonly duplicateMs: number;
  /** Worst VIP: the part of duplicateMs that is not a hand-over between two owners (wire-analysis.ts). */
  readonly strayDuplicateMs: number;
  /** Every VIP's runs of duplicate rounds, with what was answered before and after (ms from the fault). */
  readonly duplicateRuns: readonly string[];
  /** Worst VIP: longest time nobody answered in that span. */
  readonly longestGapMs: number;
  /**
   * VIPs answered by several MACs, or unanswered for more than 200 ms, in the last second of the watch, or
   * whose last answered round there was not one MAC (a hand-back in that second is fine; a round unanswered
   * now and then is scheduling noise, and a VIP dark at the end shows as the gap). Each with what was seen.
   */
  readonly unsettled: readonly string[];
  /** What the plan's own verify found. */
  readonly problems: readonly string[];
  readonly watch: WireWatch;
  readonly faultAt: number;
  readonly healedAt: number;
}

/** Every VIP answered by exactly one MAC: the state a fault starts from. */
export async function waitSettled(cluster: E2ECluster, vips: readonly string[], timeoutMs = 15_000): Promise<void> {
  await waitFor(`each of ${vips.length} VIPs answered by exactly one MAC`, async () => {
    for (const vip of vips) if ((await cluster.whoHas(vip, 60)).length !== 1) return false;
    return true;
  }, { timeoutMs, intervalMs: 100 });
}

/** After settleMs of baseline: inject, hold the fault for faultMs (or as long as inject took), and heal, also when inject failed. */
async function injectAndHeal(plan: FaultPlan, settleMs: number, faultMs: number): Promise<{ faultAt: number; healedAt: number }> {
  await sleep(settleMs + 200);
  const faultAt = Date.now();
  try {
    await plan.inject();
    await sleep(Math.max(0, faultAt + faultMs - Date.now()));
  } finally {
    await plan.heal?.();
  }
  return { faultAt, healedAt: Date.now() };
}

/** The longest a fault may be watched (inject, fault, heal and after): within the suite's 120 s per test. */
const MAX_WATCH_MS = 100_000;

export async function runFault(cluster: E2ECluster, vips: readonly string[], plan: FaultPlan): Promise<FaultFigures> {
  const settleMs = plan.settleMs ?? 1_000;
  const faultMs = plan.faultMs ?? 4_000;
  const afterMs = plan.afterMs ?? 4_000;
  // The watch lasts until afterMs past the heal, however long inject and heal took (a roll of every
  // speaker, a flood process ending on a loaded machine): a fixed length could end it mid-fault.
  const watching = cluster.startWireWatch(vips, MAX_WATCH_MS);
  const { faultAt, healedAt } = await injectAndHeal(plan, settleMs, faultMs).catch(async (e: unknown) => {
    await watching.stop().catch(() => undefined);
    throw e;
  });
  await sleep(afterMs);
  const watch = await watching.stop();
  const span = worstOf(watch, { fromMs: faultAt });
  const endMs = watch.startedAt + watch.rounds * watch.intervalMs;
  if (endMs < healedAt + afterMs) throw new Error(`the watch ended ${Math.round(endMs - healedAt)} ms after the fault healed (${afterMs} ms wanted): the fault outlasted ${MAX_WATCH_MS} ms`);
  const unsettled = vips.flatMap((vip) => {
    const last = figures(watch, vip, { fromMs: endMs - 1_000 });
    const settled = last.lastAnswered.length === 1 && last.duplicateMs === 0 && last.longestGapMs <= 200;
    return settled ? [] : [`${vip} (last second: last answered by ${last.lastAnswered.join('+') || 'nobody'}, duplicates ${last.duplicateMs} ms, longest gap ${last.longestGapMs} ms, finally ${last.finally.join('+') || 'nobody'})`];
  });
  const duplicateRuns = Object.entries(span.byVip).flatMap(([vip, f]) => f.duplicateRuns.map((r) => `${vip} ${r}`));
  const problems = plan.verify?.(watch) ?? [];
  return { duplicateMs: span.duplicateMs, strayDuplicateMs: span.strayDuplicateMs, duplicateRuns, longestGapMs: span.longestGapMs, unsettled, problems, watch, faultAt, healedAt };
}

/** One line for a log or a table: the worst VIP's figures. */
export function describeFault(name: string, f: FaultFigures): string {
  const runs = f.duplicateRuns.length ? ` (stray ${f.strayDuplicateMs} ms; ${f.duplicateRuns.join('; ')})` : '';
  return `${name}: duplicates ${f.duplicateMs} ms${runs}, longest gap ${f.longestGapMs} ms${f.unsettled.length ? `, unsettled ${f.unsettled.join(' ')}` : ''}${f.problems.length ? `; ${f.problems.join('; ')}` : ''}`;
}
