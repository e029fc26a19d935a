import { describe, expect, it } from 'vitest';
import { measureFailover, outageBeyondStalls, outageGaps, percentile, type ProbeSample } from './probe-analysis.ts';

const ok = (at: number, node: string, ms = 2): ProbeSample => ({ at, r: { ok: true, body: `${node}\n`, ms } });
const fail = (at: number, ms = 100): ProbeSample => ({ at, r: { ok: false, ms } });

describe('measureFailover', () => {
  it('measures a link-down failover: failures until the new node answers', () => {
    const samples = [ok(990, 'a'), fail(1000), fail(1010), fail(1300), ok(1310, 'b'), ok(1320, 'b')];
    expect(measureFailover(samples, 1000, 'a')).toMatchObject({ takeoverMs: 312, outageMs: 312, failed: 3, failedAfterTakeover: 0, answeredBy: ['b'] });
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
    expect(measureFailover([ok(990, 'a'), fail(1000, 500)], 1000, 'a')).toMatchObject({ takeoverMs: undefined, outageMs: 500, failed: 1, failedAfterTakeover: 0, answeredBy: [] });
  });

  it('tells a connection reset by the move from a failure once the new node answers', () => {
    const reset = (at: number): ProbeSample => ({ at, r: { ok: false, error: 'read ECONNRESET', ms: 3 } });
    const samples = [ok(1000, 'a'), reset(1010), ok(1020, 'b'), reset(1030), ok(1040, 'b')];
    const m = measureFailover(samples, 1005, 'a');
    expect(m.failed).toBe(2);
    expect(m.failedAfterTakeover).toBe(1);
    expect(m.failures).toEqual(['+5 ms for 3 ms: read ECONNRESET', '+25 ms for 3 ms: read ECONNRESET']);
  });
});

describe('outageGaps', () => {
  it('lists the stretches without a completion after the event, the tail included', () => {
    const samples = [ok(990, 'a'), ok(1000, 'a', 5), fail(1010), ok(1100, 'b', 3), fail(1110, 150)];
    expect(outageGaps(samples, 1000)).toEqual([[1000, 1005], [1005, 1103], [1103, 1260]]);
  });
});

describe('outageBeyondStalls', () => {
  /** A control probe answered every 10 ms from `from` to `to`, except during the stalls. */
  const control = (from: number, to: number, stalls: Array<[number, number]> = []): ProbeSample[] => {
    const out: ProbeSample[] = [];
    for (let t = from; t <= to; t += 10) if (!stalls.some(([a, b]) => t > a && t < b)) out.push(ok(t, 'c', 0));
    return out;
  };
  // The real probe: nothing completes between 1000 and 1400.
  const real = [ok(1000, 'a', 0), fail(1010, 150), ok(1400, 'b', 0), ok(1410, 'b', 0)];

  it('takes out the time the prober itself was stalled (the control saw nothing either)', () => {
    expect(measureFailover(real, 1000, 'a').outageMs).toBe(400);
    expect(outageBeyondStalls(real, control(1000, 1410, [[1100, 1350]]), 1000)).toBe(150);
  });

  it('keeps an outage the control did not share, and ignores the control\'s normal spacing', () => {
    expect(outageBeyondStalls(real, control(1000, 1410), 1000)).toBe(400);
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
