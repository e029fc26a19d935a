import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { claimedSpec, decideLease, microTime, releasedSpec, type ObservedLease } from './lease-record.ts';

const lease = (holder: string, durationS: number, observedAtMs: number, extra: Partial<ObservedLease['spec']> = {}): ObservedLease => ({
  resourceVersion: '1',
  spec: { holderIdentity: holder, leaseDurationSeconds: durationS, leaseTransitions: 3, acquireTime: 'a', renewTime: 'r', ...extra },
  observedAtMs,
});

describe('decideLease', () => {
  it('creates a lease that does not exist', () => {
    expect(decideLease(undefined, 'me', 0)).toEqual({ kind: 'create' });
  });

  it('renews its own lease and takes a released one', () => {
    expect(decideLease(lease('me', 15, 0), 'me', 100_000).kind).toBe('update');
    expect(decideLease(lease('', 1, 0), 'me', 0).kind).toBe('update');
    expect(decideLease({ resourceVersion: '1', spec: {}, observedAtMs: 0 }, 'me', 0).kind).toBe('update');
  });

  it('waits for another holder until leaseDuration after it last saw the lease change, then takes over', () => {
    expect(decideLease(lease('other', 15, 1_000), 'me', 15_999)).toEqual({ kind: 'wait', holder: 'other', expiresAtMs: 16_000 });
    expect(decideLease(lease('other', 15, 1_000), 'me', 16_000).kind).toBe('update');
  });

  it('never takes a lease another holder renewed less than its duration ago (on the observer clock)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), fc.nat(1e9), fc.nat(200_000), (durationS, observedAt, elapsed) => {
        const d = decideLease(lease('other', durationS, observedAt), 'me', observedAt + elapsed);
        expect(d.kind === 'update').toBe(elapsed >= durationS * 1000);
      }),
    );
  });
});

describe('claimedSpec / releasedSpec', () => {
  const now = '2026-01-01T00:00:00.000000Z';

  it('a renewal keeps acquireTime and the transition count', () => {
    expect(claimedSpec({ holderIdentity: 'me', acquireTime: 'then', leaseTransitions: 4 }, 'me', 15, now)).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: 'then',
      renewTime: now,
      leaseTransitions: 4,
    });
  });

  it('a takeover counts a transition; a first claim does not', () => {
    expect(claimedSpec({ holderIdentity: 'other', acquireTime: 'then', leaseTransitions: 4 }, 'me', 15, now)).toMatchObject({
      holderIdentity: 'me',
      acquireTime: now,
      leaseTransitions: 5,
    });
    expect(claimedSpec(undefined, 'me', 15, now)).toMatchObject({ leaseTransitions: 0, acquireTime: now });
  });

  it('a release empties the holder and keeps the transition count', () => {
    expect(releasedSpec({ holderIdentity: 'me', leaseTransitions: 2 }, now)).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 2,
    });
  });

  it('microTime has six fractional digits', () => {
    expect(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05.678000Z');
  });
});
