import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BeatSource } from './beat-source.ts';
import type { Heartbeat } from './heartbeat.ts';
import { Membership } from './membership.ts';

const BOOT_A = 'aa'.repeat(16);
const BOOT_B = 'bb'.repeat(16);
const BOOT_SELF = '55'.repeat(16);

/** Started at 0 with 100 ms beats and a 350 ms window, so listening ends at 350. */
const fresh = (options: Partial<ConstructorParameters<typeof Membership>[0]> = {}) =>
  new Membership({ self: 'self', selfBootId: BOOT_SELF, startedAt: 0, ...options });

const beatFrom = (node: string, sequence: number, extra: Partial<Heartbeat> = {}): Heartbeat => ({
  node,
  bootId: BOOT_A,
  sequence,
  intervalMs: 100,
  sentAt: 1_000_000 + sequence * 100,
  leaving: false,
  joining: false,
  ...extra,
});

const names = (s: Set<string>) => [...s].sort();

describe('Membership', () => {
  it('listens a full window before counting itself, hearing peers meanwhile', () => {
    const m = fresh();
    expect(m.windowMs).toBe(350);
    expect(m.receive(beatFrom('peer', 1), 100)).toEqual({ accepted: true, changed: true });
    expect(names(m.alive(349.9))).toEqual(['peer']);
    expect(m.listening(349.9)).toBe(true);
    expect(m.listening(350)).toBe(false);
    expect(names(m.alive(350))).toEqual(['peer', 'self']);
  });

  it('keeps a peer alive until its last beat is exactly a window old', () => {
    const m = fresh();
    m.receive(beatFrom('peer', 1), 1000);
    expect(m.alive(1349.999).has('peer')).toBe(true);
    expect(m.alive(1350).has('peer')).toBe(false);
    expect(m.nextDeadline(1000)).toBe(1350);
  });

  it("sizes a peer's window from the interval it advertises", () => {
    const m = fresh();
    m.receive(beatFrom('slow', 1, { intervalMs: 200 }), 1000);
    expect(m.alive(1699).has('slow')).toBe(true);
    expect(m.alive(1700).has('slow')).toBe(false);
  });

  it('drops a LEAVING peer at once', () => {
    const m = fresh();
    m.receive(beatFrom('peer', 1), 1000);
    expect(m.receive(beatFrom('peer', 2, { leaving: true }), 1010)).toEqual({ accepted: true, changed: true });
    expect(m.alive(1010).has('peer')).toBe(false);
    expect(m.nextDeadline(1010)).toBeUndefined();
  });

  it('does not count a JOINING peer until it beats without the flag', () => {
    const m = fresh();
    expect(m.receive(beatFrom('peer', 1, { joining: true }), 1000)).toEqual({ accepted: true, changed: false });
    expect(m.alive(1000).has('peer')).toBe(false);
    expect(m.receive(beatFrom('peer', 2), 1100)).toEqual({ accepted: true, changed: true });
    expect(m.alive(1100).has('peer')).toBe(true);
  });

  it('drops a peer at once when it restarts (a new boot still listening claims nothing)', () => {
    const m = fresh();
    m.receive(beatFrom('peer', 500), 1000);
    expect(m.receive(beatFrom('peer', 0, { bootId: BOOT_B, sentAt: 2_000_000, joining: true }), 1050)).toEqual({ accepted: true, changed: true });
    expect(m.alive(1050).has('peer')).toBe(false);
  });

  it('ignores a replayed or duplicate frame, which does not extend the peer', () => {
    const m = fresh();
    m.receive(beatFrom('peer', 7), 1000);
    expect(m.receive(beatFrom('peer', 7), 1001)).toEqual({ accepted: false, reason: 'not-newer' });
    expect(m.receive(beatFrom('peer', 3), 1200)).toEqual({ accepted: false, reason: 'not-newer' });
    expect(m.alive(1350).has('peer')).toBe(false);
  });

  it('ignores frames of an earlier boot replayed after the peer restarted', () => {
    const m = fresh();
    m.receive(beatFrom('peer', 90, { bootId: BOOT_A, sentAt: 5000 }), 1000);
    m.receive(beatFrom('peer', 1, { bootId: BOOT_B, sentAt: 9000 }), 1100);
    expect(m.receive(beatFrom('peer', 91, { bootId: BOOT_A, sentAt: 5100 }), 1200)).toEqual({ accepted: false, reason: 'old-boot' });
  });

  it('tells its own looped-back frames from another process using its name', () => {
    const m = fresh();
    expect(m.receive(beatFrom('self', 1, { bootId: BOOT_SELF }), 10)).toEqual({ accepted: false, reason: 'own-echo' });
    expect(m.receive(beatFrom('self', 1, { bootId: BOOT_B }), 10)).toEqual({ accepted: false, reason: 'name-conflict' });
  });

  it('listens again after the link comes back', () => {
    const m = fresh();
    expect(m.alive(1000).has('self')).toBe(true);
    m.relisten(1000);
    expect(m.alive(1349).has('self')).toBe(false);
    expect(m.nextDeadline(1000)).toBe(1350);
    expect(m.listeningUntil).toBe(1350);
    expect(m.alive(1350).has('self')).toBe(true);
  });

  it('falls back to the API for speakers never heard, but not for ones heard and gone silent', () => {
    const m = fresh();
    m.receive(beatFrom('heard', 1), 1000);
    const ready = ['heard', 'unheard', 'self'];
    expect(names(m.alive(1000, ready))).toEqual(['heard', 'self', 'unheard']);
    expect(names(m.alive(1400, ready))).toEqual(['self', 'unheard']);
    // The API cannot make us skip our own listening window.
    expect(names(fresh().alive(100, ready))).toEqual(['heard', 'unheard']);
  });

  it('forgets a deleted node, replay guard included', () => {
    const m = fresh();
    m.receive(beatFrom('peer', 9), 1000);
    m.forget('peer');
    expect(m.alive(1000).has('peer')).toBe(false);
    expect(m.receive(beatFrom('peer', 1), 1100).accepted).toBe(true);
  });

  it('rejects a window that could not tolerate any lateness', () => {
    expect(() => fresh({ deadAfterBeats: 1 })).toThrow(RangeError);
  });

  it('works with its own BeatSource: sequences grow, flags pass through', () => {
    const source = new BeatSource({ node: 'peer', bootId: BOOT_A, intervalMs: 100 });
    const m = fresh();
    expect(m.receive(source.next(1_000_000, { joining: true }), 0)).toEqual({ accepted: true, changed: false });
    expect(m.receive(source.next(1_000_100), 100)).toEqual({ accepted: true, changed: true });
    expect(m.receive(source.next(1_000_200, { leaving: true }), 200)).toEqual({ accepted: true, changed: true });
  });
});

describe('Membership properties', () => {
  it('jittered and lost beats never flap a peer while every gap stays below the window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10, max: 1000 }),
        fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (interval, gapFractions) => {
          const m = fresh({ intervalMs: interval });
          const window = interval * 3.5;
          let now = 10_000;
          let sequence = 0;
          m.receive(beatFrom('peer', sequence++, { intervalMs: interval }), now);
          for (const fraction of gapFractions) {
            // Look just before the next beat lands: the oldest the last beat ever gets.
            const next = now + fraction * window;
            expect(m.alive(next).has('peer')).toBe(true);
            const outcome = m.receive(beatFrom('peer', sequence++, { intervalMs: interval }), next);
            expect(outcome).toEqual({ accepted: true, changed: false });
            now = next;
          }
        },
      ),
    );
  });

  it('a silent peer is dead exactly at its deadline, and nextDeadline says when', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 10_000 }), fc.integer({ min: 400, max: 1e9 }), (interval, heardAt) => {
        const m = fresh();
        m.receive(beatFrom('peer', 1, { intervalMs: interval }), heardAt);
        const deadline = heardAt + interval * 3.5;
        expect(m.nextDeadline(heardAt)).toBe(deadline);
        expect(m.alive(deadline - 0.25).has('peer')).toBe(true);
        expect(m.alive(deadline).has('peer')).toBe(false);
      }),
    );
  });

  // A model check over random histories: `changed` and `nextDeadline` are exactly
  // what a shell needs to re-run election only when the alive set moves.
  it('reports every change of the alive set, and nothing changes before nextDeadline', () => {
    const event = fc.record({
      peer: fc.constantFrom('p1', 'p2', 'p3'),
      after: fc.integer({ min: 0, max: 800 }),
      kind: fc.constantFrom('beat', 'beat', 'beat', 'joining', 'leaving', 'restart', 'replay'),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        const m = fresh();
        const boots = new Map<string, { bootId: string; sequence: number; sentAt: number }>();
        let now = 0;
        let bootCount = 0;
        for (const { peer, after, kind } of events) {
          // Between events, the alive set may only change at the deadlines announced.
          for (let t = now, d = m.nextDeadline(t); d !== undefined && d <= now + after; t = d, d = m.nextDeadline(t)) {
            expect(names(m.alive(d - 0.25))).toEqual(names(m.alive(t)));
            expect(names(m.alive(d))).not.toEqual(names(m.alive(t)));
          }
          if (m.nextDeadline(now) === undefined) expect(names(m.alive(now + after))).toEqual(names(m.alive(now)));
          now += after;
          let boot = boots.get(peer);
          if (!boot || kind === 'restart') boot = { bootId: (++bootCount).toString(16).padStart(32, '0'), sequence: 0, sentAt: now * 1000 + 1 };
          const replay = kind === 'replay' && boot.sequence > 0;
          const beat = beatFrom(peer, replay ? boot.sequence - 1 : boot.sequence, {
            bootId: boot.bootId,
            sentAt: boot.sentAt,
            joining: kind === 'joining' || kind === 'restart',
            leaving: kind === 'leaving',
          });
          if (!replay) boots.set(peer, { ...boot, sequence: boot.sequence + 1, sentAt: boot.sentAt + 1 });
          const before = names(m.alive(now));
          const outcome = m.receive(beat, now);
          const after_ = names(m.alive(now));
          if (replay) expect(outcome).toEqual({ accepted: false, reason: 'not-newer' });
          else expect(outcome).toEqual({ accepted: true, changed: JSON.stringify(before) !== JSON.stringify(after_) });
          // A "replay" with nothing to replay went out as a plain beat.
          if (!replay) expect(m.alive(now).has(peer)).toBe(kind === 'beat' || kind === 'replay');
        }
      }),
    );
  });
});
