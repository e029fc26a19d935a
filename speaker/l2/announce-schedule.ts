// When to send gratuitous ARP / unsolicited NA after taking an IP over.
// Pure: the takeover time and the current time come in, the next send time
// goes out.
import { err, ok, type Result } from '../../shared/result.ts';

export interface AnnouncePolicy {
  /** Offsets from the takeover, ascending, in ms; 0 means at once. */
  readonly burstMs: readonly number[];
  /** After the burst, repeat this often (ms), or never when null. */
  readonly refreshIntervalMs: number | null;
}

/**
 * 0 ms: at once, to bring the outage to an end.
 * 250 ms: a second copy if the first was lost, e.g. while a switch was still
 *   learning the new port or the old owner's last reply was in flight; still
 *   well inside the 1 s failover target.
 * 1100, 2200, 4400 ms: past Linux's 1 s neighbour `locktime`, for stacks that
 *   apply it to gratuitous ARP (Linux before 4.11, metallb#172; others) and for
 *   clients that updated from a late reply of the old owner less than 1 s ago.
 *   MetalLB sends every 1.1 s for 5 s; three late copies cover the same window.
 * No periodic refresh by default; switches whose FDB ages out before the
 * router's ARP entry (metallb#2910) need one, e.g. refreshIntervalMs 60 000
 * against a 300 s FDB ageing time.
 */
export const DEFAULT_ANNOUNCE_POLICY: AnnouncePolicy = { burstMs: [0, 250, 1100, 2200, 4400], refreshIntervalMs: null };

/** The first send time strictly after `after`; null once the schedule is over. */
export function nextAnnouncement(policy: AnnouncePolicy, takeoverAt: number, after: number): number | null {
  return firstSendTime(policy, takeoverAt, after, false);
}

/** Every send time in [from, to], for inspection and tests. */
export function announcementTimes(policy: AnnouncePolicy, takeoverAt: number, from: number, to: number): number[] {
  const times: number[] = [];
  for (let t = firstSendTime(policy, takeoverAt, from, true); t !== null && t <= to; t = nextAnnouncement(policy, takeoverAt, t)) {
    times.push(t);
  }
  return times;
}

function firstSendTime(policy: AnnouncePolicy, takeoverAt: number, t: number, inclusive: boolean): number | null {
  const due = (time: number): boolean => (inclusive ? time >= t : time > t);
  for (const offset of policy.burstMs) {
    if (due(takeoverAt + offset)) return takeoverAt + offset;
  }
  const interval = policy.refreshIntervalMs;
  if (interval === null) return null;
  const lastBurst = takeoverAt + (policy.burstMs.at(-1) ?? 0);
  const periods = (t - lastBurst) / interval;
  const k = Math.max(1, inclusive ? Math.ceil(periods) : Math.floor(periods) + 1);
  return lastBurst + k * interval;
}

/** Checks a policy from configuration: offsets ascending and non-negative, refresh positive. */
export function announcePolicy(burstMs: readonly number[], refreshIntervalMs: number | null): Result<AnnouncePolicy> {
  if (burstMs.length === 0) return err('the announcement burst needs at least one send time');
  for (let i = 0; i < burstMs.length; i++) {
    const offset = burstMs[i]!;
    if (!Number.isFinite(offset) || offset < 0) return err(`burst offset ${offset} ms must be a non-negative number`);
    if (i > 0 && offset <= burstMs[i - 1]!) return err(`burst offsets must ascend, ${offset} ms follows ${burstMs[i - 1]} ms`);
  }
  if (refreshIntervalMs !== null && !(Number.isFinite(refreshIntervalMs) && refreshIntervalMs >= 100)) {
    return err(`refresh interval ${refreshIntervalMs} ms must be at least 100 ms`);
  }
  return ok({ burstMs: [...burstMs], refreshIntervalMs });
}
