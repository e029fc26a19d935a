import { describe, expect, it } from 'vitest';
import { WorkQueue } from './work-queue.ts';

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('processes a key queued many times once, in first-queued order', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    ['a', 'b', 'a', 'c', 'b'].forEach((k) => q.add(k));
    const ac = new AbortController();
    const running = q.run(async (k) => (seen.push(k), true), ac.signal);
    await tick(5);
    ac.abort();
    await running;
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('runs a key again when it is re-queued while being processed', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    q.add('a');
    const ac = new AbortController();
    const running = q.run(async (k) => {
      seen.push(k);
      if (seen.length === 1) q.add('a');
      return true;
    }, ac.signal);
    await tick(5);
    ac.abort();
    await running;
    expect(seen).toEqual(['a', 'a']);
  });

  it('retries a failing key with growing delays and forgets the failures after a success', async () => {
    const q = new WorkQueue({ retryBackoff: { initialMs: 10, maxMs: 40, random: () => 1 } });
    const at: number[] = [];
    const t0 = Date.now();
    q.add('k');
    const ac = new AbortController();
    const running = q.run(async () => (at.push(Date.now() - t0), at.length >= 4), ac.signal);
    await tick(150);
    ac.abort();
    await running;
    expect(at.length).toBe(4);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[1]).toBeGreaterThanOrEqual(19);
    expect(gaps[2]).toBeGreaterThanOrEqual(39);
  });

  it('debounces delayed adds of one key', async () => {
    const q = new WorkQueue();
    let runs = 0;
    q.addAfter('p', 10);
    q.addAfter('p', 10);
    const ac = new AbortController();
    const running = q.run(async () => (runs++, true), ac.signal);
    await tick(40);
    ac.abort();
    await running;
    expect(runs).toBe(1);
  });
});

describe('WorkQueue concurrency', () => {
  it('runs up to N keys at once but never one key twice at once', async () => {
    const q = new WorkQueue();
    let inFlight = 0;
    let most = 0;
    const perKey = new Map<string, number>();
    let overlapSameKey = false;
    const runs: string[] = [];
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    const ac = new AbortController();
    const running = q.run(async (k) => {
      inFlight++;
      most = Math.max(most, inFlight);
      if ((perKey.get(k) ?? 0) > 0) overlapSameKey = true;
      perKey.set(k, (perKey.get(k) ?? 0) + 1);
      runs.push(k);
      if (k === 'a' && runs.filter((r) => r === 'a').length === 1) q.add('a'); // re-queued while running
      await tick(20);
      perKey.set(k, perKey.get(k)! - 1);
      inFlight--;
      return true;
    }, ac.signal, { concurrency: 3 });
    await tick(150);
    ac.abort();
    await running;
    expect(most).toBe(3);
    expect(overlapSameKey).toBe(false);
    expect(runs.filter((r) => r === 'a')).toHaveLength(2);
    expect([...runs].sort()).toEqual(['a', 'a', 'b', 'c', 'd', 'e']);
  });

  it('waits for the work in flight when aborted', async () => {
    const q = new WorkQueue();
    let finished = false;
    q.add('slow');
    const ac = new AbortController();
    const running = q.run(async () => {
      await tick(30);
      finished = true;
      return true;
    }, ac.signal, { concurrency: 2 });
    await tick(5);
    ac.abort();
    await running;
    expect(finished).toBe(true);
  });
});
