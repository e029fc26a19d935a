import { describe, expect, it } from 'vitest';
import { measureFailover, percentile, type ProbeSample } from './probe-analysis.ts';

const ok = (at: number, node: string, ms = 2): ProbeSample => ({ at, r: { ok: true, body: `${node}\n`, ms } });
const fail = (at: number, ms = 100): ProbeSample => ({ at, r: { ok: false, ms } });

describe('measureFailover', () => {
  it('measures a link-down failover: failures until the new node answers', () => {
    const samples = [ok(990, 'a'), fail(1000), fail(1010), fail(1300), ok(1310, 'b'), ok(1320, 'b')];
    expect(measureFailover(samples, 1000, 'a')).toEqual({ takeoverMs: 312, outageMs: 312, failed: 3, answeredBy: ['b'] });
  });

  it('shows takeover without outage when the old node still forwards (speaker killed, node alive)', () => {
    const samples = [ok(1000, 'a'), ok(1010, 'a'), ok(1020, 'a'), ok(1030, 'b'), ok(1040, 'b')];
    const m = measureFailover(samples, 1005, 'a');
    expect(m.takeoverMs).toBe(27);
    expect(m.outageMs).toBe(10);
    expect(m.failed).toBe(0);
    expect(m.answeredBy).toEqual(['a', 'b']);
  });

  it('counts the tail as outage when nothing answers again', () => {
    expect(measureFailover([ok(990, 'a'), fail(1000, 500)], 1000, 'a')).toEqual({ takeoverMs: undefined, outageMs: 500, failed: 1, answeredBy: [] });
  });
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile([3, 1, 2], 100)).toBe(3);
    expect(percentile([], 50)).toBeNaN();
  });
});
