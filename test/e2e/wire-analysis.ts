// What a host on the LAN saw while a fault ran, from client-tool.ts `watch`:
// per VIP and per round (one ARP request / NS every few ms), the distinct MACs
// that answered. Two or more MACs in a round is a duplicate answer (clients
// flip between nodes); none is a gap. A round the watcher could not send in
// (it was starved of CPU) says nothing: it is neither, but a gap that runs
// through it lasts from the last answer before to the first answer after.
// Pure: the tool's JSON in, figures out.

export interface WireWatch {
  readonly intervalMs: number;
  readonly rounds: number;
  /** Wall-clock ms when round 0 started. */
  readonly startedAt: number;
  readonly sendFailures: number;
  /** Per VIP: [rounds, "mac,mac"] runs; "" is a round nobody answered, "?" one the watcher did not ask in. */
  readonly vips: Readonly<Record<string, ReadonlyArray<readonly [number, string]>>>;
}

export interface VipFigures {
  /** Total time two or more MACs answered. */
  readonly duplicateMs: number;
  /**
   * The part of duplicateMs that is not a hand-over. At most two rounds with
   * two MACs between two different single owners (X alone, then X and Y,
   * then Y alone) are the old owner's last answers arriving in the round of
   * the new owner's first: the hand-over is acknowledged, so X stopped
   * before Y started, but a round is 10 ms. Any other round with two MACs
   * (one popping up in another's ownership, or a longer overlap) is a node
   * answering when it should not.
   */
  readonly strayDuplicateMs: number;
  /** Each run of duplicate rounds, for a failure message: ms from the window's start, MACs before, during, after. */
  readonly duplicateRuns: readonly string[];
  /** Longest stretch in which nobody answered. */
  readonly longestGapMs: number;
  /** Total time nobody answered. */
  readonly gapMs: number;
  /** The MACs that answered alone, in the order they took over (repeats collapsed). */
  readonly owners: readonly string[];
  /** Who answered in the last round. */
  readonly finally: readonly string[];
  /** Who answered in the last round anybody answered (a round unanswered now and then is scheduling noise). */
  readonly lastAnswered: readonly string[];
}

/** Rounds as MAC lists (null: not asked), optionally only those starting in [fromMs, toMs) wall clock. */
export function roundsOf(watch: WireWatch, vip: string, window: { fromMs?: number; toMs?: number } = {}): Array<string[] | null> {
  const runs = watch.vips[vip];
  if (runs === undefined) throw new Error(`the watch did not cover ${vip}`);
  const rounds: Array<string[] | null> = [];
  for (const [n, key] of runs) for (let i = 0; i < n; i++) rounds.push(key === '?' ? null : key === '' ? [] : key.split(','));
  const first = window.fromMs === undefined ? 0 : Math.max(0, Math.ceil((window.fromMs - watch.startedAt) / watch.intervalMs));
  const last = window.toMs === undefined ? rounds.length : Math.min(rounds.length, Math.ceil((window.toMs - watch.startedAt) / watch.intervalMs));
  return rounds.slice(first, last);
}

export function figures(watch: WireWatch, vip: string, window: { fromMs?: number; toMs?: number } = {}): VipFigures {
  const rounds = roundsOf(watch, vip, window);
  let duplicate = 0;
  let gap = 0;
  // A gap run: rounds since the last answered one, and whether any of them was asked and unanswered.
  let run = 0;
  let runHasEmpty = false;
  let longest = 0;
  const owners: string[] = [];
  for (const macs of rounds) {
    if (macs === null) {
      run++;
      continue;
    }
    if (macs.length >= 2) duplicate++;
    if (macs.length === 0) {
      gap++;
      run++;
      runHasEmpty = true;
    } else {
      if (runHasEmpty) longest = Math.max(longest, run);
      run = 0;
      runHasEmpty = false;
    }
    if (macs.length === 1 && owners.at(-1) !== macs[0]) owners.push(macs[0]!);
  }
  if (runHasEmpty) longest = Math.max(longest, run);
  const last = [...rounds].reverse().find((r) => r !== null) ?? [];
  const { stray, runs } = duplicateRunsOf(rounds, watch.intervalMs);
  return {
    duplicateMs: duplicate * watch.intervalMs,
    strayDuplicateMs: stray * watch.intervalMs,
    duplicateRuns: runs,
    longestGapMs: longest * watch.intervalMs,
    gapMs: gap * watch.intervalMs,
    owners,
    finally: last,
    lastAnswered: [...rounds].reverse().find((r) => r !== null && r.length > 0) ?? [],
  };
}

/**
 * Runs of rounds with two or more MACs (answered rounds only; a run ends at
 * a round one MAC answered alone), and how many of their rounds are stray:
 * not between X alone and Y alone with only X and Y answering in between.
 */
const HAND_OVER_ROUNDS = 2;

function duplicateRunsOf(rounds: ReadonlyArray<string[] | null>, intervalMs: number): { stray: number; runs: string[] } {
  let stray = 0;
  const runs: string[] = [];
  let before: string[] | undefined;
  let run: { from: number; rounds: number; macs: Set<string> } | undefined;
  const close = (after: string[] | undefined): void => {
    if (run === undefined) return;
    const [x, y] = [before?.length === 1 ? before[0] : undefined, after?.length === 1 ? after[0] : undefined];
    const handOver = run.rounds <= HAND_OVER_ROUNDS && x !== undefined && y !== undefined && x !== y && [...run.macs].every((m) => m === x || m === y);
    if (!handOver) stray += run.rounds;
    runs.push(`${run.from * intervalMs} ms: ${before?.join('+') || '-'} → ${[...run.macs].join('+')} ×${run.rounds} → ${after?.join('+') || '-'}${handOver ? ' (hand-over)' : ''}`);
    run = undefined;
  };
  rounds.forEach((macs, i) => {
    if (macs === null || macs.length === 0) return;
    if (macs.length === 1) {
      close(macs);
      before = macs;
      return;
    }
    run ??= { from: i, rounds: 0, macs: new Set() };
    run.rounds++;
    for (const m of macs) run.macs.add(m);
  });
  close(undefined);
  return { stray, runs };
}

/** The worst of every VIP: the figures a fault is judged by. */
export function worstOf(watch: WireWatch, window: { fromMs?: number; toMs?: number } = {}): { duplicateMs: number; strayDuplicateMs: number; longestGapMs: number; byVip: Record<string, VipFigures> } {
  const byVip: Record<string, VipFigures> = {};
  let duplicateMs = 0;
  let strayDuplicateMs = 0;
  let longestGapMs = 0;
  for (const vip of Object.keys(watch.vips)) {
    const f = figures(watch, vip, window);
    byVip[vip] = f;
    duplicateMs = Math.max(duplicateMs, f.duplicateMs);
    strayDuplicateMs = Math.max(strayDuplicateMs, f.strayDuplicateMs);
    longestGapMs = Math.max(longestGapMs, f.longestGapMs);
  }
  return { duplicateMs, strayDuplicateMs, longestGapMs, byVip };
}
