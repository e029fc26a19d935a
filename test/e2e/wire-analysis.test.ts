import { describe, expect, it } from 'vitest';
import { figures, roundsOf, worstOf, type WireWatch } from './wire-analysis.ts';

const A = '02:ba:57:00:00:01';
const B = '02:ba:57:00:00:02';

const watch: WireWatch = {
  intervalMs: 10,
  rounds: 12,
  startedAt: 1_000,
  sendFailures: 0,
  vips: {
    '203.0.113.10': [[3, A], [2, `${A},${B}`], [1, ''], [2, B], [3, ''], [1, B]],
    '203.0.113.11': [[12, B]],
  },
};

describe('wire analysis', () => {
  it('counts duplicate rounds, gaps and owners as a client saw them', () => {
    const f = figures(watch, '203.0.113.10');
    expect(f.duplicateMs).toBe(20);
    expect(f.gapMs).toBe(40);
    expect(f.longestGapMs).toBe(30);
    expect(f.owners).toEqual([A, B]);
    expect(f.finally).toEqual([B]);
    expect(f.lastAnswered).toEqual([B]);
    expect(figures({ ...watch, rounds: 13, vips: { '203.0.113.10': [[12, B], [1, '']] } }, '203.0.113.10').lastAnswered).toEqual([B]);
  });

  it('limits the figures to a wall-clock window', () => {
    expect(roundsOf(watch, '203.0.113.10', { fromMs: 1_030, toMs: 1_050 })).toEqual([[A, B], [A, B]]);
    expect(figures(watch, '203.0.113.10', { fromMs: 1_080 }).longestGapMs).toBe(30);
    expect(figures(watch, '203.0.113.10', { toMs: 1_030 }).duplicateMs).toBe(0);
  });

  it('judges a fault by the worst VIP', () => {
    const w = worstOf(watch);
    expect(w.duplicateMs).toBe(20);
    expect(w.longestGapMs).toBe(30);
    expect(w.byVip['203.0.113.11']!.owners).toEqual([B]);
  });

  it('counts rounds the watcher could not ask in as neither answered nor a gap, unless a gap runs through them', () => {
    const starved: WireWatch = { ...watch, vips: { v: [[2, A], [5, '?'], [2, A], [1, ''], [3, '?'], [1, ''], [1, B]] } };
    const f = figures(starved, 'v');
    expect(f.gapMs).toBe(20);
    // The gap runs from the last answer to the next, through the unknown rounds inside it.
    expect(f.longestGapMs).toBe(50);
    expect(f.owners).toEqual([A, B]);
    expect(figures({ ...watch, vips: { v: [[2, A], [5, '?'], [2, A]] } }, 'v').longestGapMs).toBe(0);
  });

  it('tells a hand-over (X alone, X and Y, Y alone) from a node answering in the middle of another one\'s ownership', () => {
    const C = '02:ba:57:00:00:03';
    const w: WireWatch = { ...watch, vips: {
      handOver: [[3, A], [1, `${A},${B}`], [1, ''], [3, B]],
      stray: [[3, B], [2, `${A},${B}`], [3, B]],
      third: [[3, A], [1, `${A},${C}`], [3, B]],
      atStart: [[1, `${A},${B}`], [3, B]],
      long: [[3, A], [3, `${A},${B}`], [3, B]],
    } };
    expect(figures(w, 'handOver')).toMatchObject({ duplicateMs: 10, strayDuplicateMs: 0, duplicateRuns: [`30 ms: ${A} → ${A}+${B} ×1 → ${B} (hand-over)`] });
    expect(figures(w, 'stray')).toMatchObject({ duplicateMs: 20, strayDuplicateMs: 20 });
    expect(figures(w, 'third').strayDuplicateMs).toBe(10);
    expect(figures(w, 'atStart').strayDuplicateMs).toBe(10);
    // Three rounds is more than an answer in flight.
    expect(figures(w, 'long').strayDuplicateMs).toBe(30);
    expect(worstOf(w).strayDuplicateMs).toBe(30);
  });

  it('refuses a VIP it did not watch', () => {
    expect(() => figures(watch, '203.0.113.99')).toThrow(/did not cover/);
  });
});
