import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { announcementTimes, announcePolicy, DEFAULT_ANNOUNCE_POLICY, nextAnnouncement } from './announce-schedule.ts';

describe('announcement schedule', () => {
  it('sends at once, again quickly, and past the 1 s neighbour locktime', () => {
    expect(announcementTimes(DEFAULT_ANNOUNCE_POLICY, 10_000, 10_000, 20_000)).toEqual([10_000, 10_250, 11_100, 12_200, 14_400]);
    expect(nextAnnouncement(DEFAULT_ANNOUNCE_POLICY, 10_000, 14_400)).toBeNull();
  });

  it('has at least one send later than 1 s after the takeover (Linux locktime)', () => {
    expect(DEFAULT_ANNOUNCE_POLICY.burstMs.some((t) => t > 1000)).toBe(true);
  });

  it('refreshes periodically after the burst when asked to (metallb#2910)', () => {
    const policy = { burstMs: [0, 1100], refreshIntervalMs: 30_000 };
    expect(announcementTimes(policy, 0, 0, 100_000)).toEqual([0, 1100, 31_100, 61_100, 91_100]);
  });

  it('skips sends a late timer missed instead of bursting to catch up', () => {
    expect(nextAnnouncement(DEFAULT_ANNOUNCE_POLICY, 0, 2500)).toBe(4400);
    const policy = { burstMs: [0], refreshIntervalMs: 1000 };
    expect(nextAnnouncement(policy, 0, 5300)).toBe(6000);
  });

  it('always moves forward', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 8 }).map((a) => a.sort((x, y) => x - y)),
        fc.option(fc.integer({ min: 100, max: 100_000 }), { nil: null }),
        fc.integer({ min: 0, max: 1e9 }),
        fc.double({ min: -1000, max: 1e6, noNaN: true }),
        (burstMs, refreshIntervalMs, takeoverAt, offset) => {
          const policy = { burstMs, refreshIntervalMs };
          const after = takeoverAt + offset;
          const next = nextAnnouncement(policy, takeoverAt, after);
          if (next === null) {
            expect(refreshIntervalMs).toBeNull();
            expect(after).toBeGreaterThanOrEqual(takeoverAt + burstMs.at(-1)!);
          } else {
            expect(next).toBeGreaterThan(after);
          }
        },
      ),
    );
  });

  it('checks policies from configuration', () => {
    expect(announcePolicy([0, 500, 1500], 60_000)).toEqual({ ok: true, value: { burstMs: [0, 500, 1500], refreshIntervalMs: 60_000 } });
    expect(announcePolicy([], null)).toMatchObject({ ok: false });
    expect(announcePolicy([0, 500, 500], null)).toMatchObject({ ok: false, error: expect.stringContaining('ascend') });
    expect(announcePolicy([-1], null)).toMatchObject({ ok: false });
    expect(announcePolicy([0], 10)).toMatchObject({ ok: false, error: expect.stringContaining('100 ms') });
  });
});
