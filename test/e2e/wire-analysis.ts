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
  /** Longest stretch in which nobody answered. */
  readonly longestGapMs: number;
  /** Total time nobody answered. */
  readonly gapMs: number;
  /** The MACs that answered alone, in the order they took over (repeats collapsed). */
  readonly owners: readonly string[];
  /** Who answered in the last round. */
  readonly finally: readonly string[];
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
  return {
    duplicateMs: duplicate * watch.intervalMs,
    longestGapMs: longest * watch.intervalMs,
    gapMs: gap * watch.intervalMs,
    owners,
    finally: last,
  };
}

/** The worst of every VIP: the figures a fault is judged by. */
export function worstOf(watch: WireWatch, window: { fromMs?: number; toMs?: number } = {}): { duplicateMs: number; longestGapMs: number; byVip: Record<string, VipFigures> } {
  const byVip: Record<string, VipFigures> = {};
  let duplicateMs = 0;
  let longestGapMs = 0;
  for (const vip of Object.keys(watch.vips)) {
    const f = figures(watch, vip, window);
    byVip[vip] = f;
    duplicateMs = Math.max(duplicateMs, f.duplicateMs);
    longestGapMs = Math.max(longestGapMs, f.longestGapMs);
  }
  return { duplicateMs, longestGapMs, byVip };
}
