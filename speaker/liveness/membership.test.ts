import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nameHash, type Heartbeat, type PeerEntry } from './heartbeat.ts';
import { Membership } from './membership.ts';
import { Sim } from './sim.test-util.ts';

const INC_SELF = '5555555555555555';
const INC_PEER = 'aaaaaaaaaaaaaaaa';

/** Started at 0 with 100 ms beats and a 350 ms window, so listening ends at 350. */
const fresh = () => new Membership({ self: 'self', incarnation: INC_SELF, startedAt: 0 });

const ackOfSelf = (sequence: number, flags: Partial<PeerEntry> = {}): PeerEntry => ({ hash: nameHash('self'), sequence, hears: true, inView: true, ...flags });

const beatFrom = (node: string, sequence: number, extra: Partial<Heartbeat> = {}): Heartbeat => ({
  node,
  incarnation: INC_PEER,
  sequence,
  intervalMs: 100,
  state: 'active',
  leaseMs: 0,
  truncated: false,
  macs: [],
  peers: [],
  ...extra,
});

const names = (s: Set<string>) => [...s].sort();

describe('Membership', () => {
  it('listens a full window after start and after relisten', () => {
    const m = fresh();
    expect(m.windowMs).toBe(350);
    expect(m.listening(349.9)).toBe(true);
    expect(m.listening(350)).toBe(false);
    m.relisten(1_000);
    expect(m.listening(1_349)).toBe(true);
    expect(m.listeningUntil).toBe(1_350);
  });

  it('counts a beat as hearing the peer only when it acknowledges a beat of ours from the last window', () => {
    const m = fresh();
    // Nothing of ours acknowledged: remembered (so we acknowledge it), not heard.
    expect(m.receive(beatFrom('peer', 7), 100)).toEqual({ accepted: 'bootstrap', changed: true });
    expect(names(m.heard(100))).toEqual(['peer']);
    expect(names(m.mutual(100))).toEqual([]);
    expect(m.peerEntries(100, new Set())).toEqual([{ hash: nameHash('peer'), sequence: 7, hears: false, inView: false }]);

    m.sent(1_000, 150);
    // Acknowledges our beat 1000 but says it does not hear us yet: we hear it, it is not mutual.
    expect(m.receive(beatFrom('peer', 8, { peers: [ackOfSelf(1_000, { hears: false, inView: false })] }), 200).accepted).toBe('fresh');
    expect(m.peerEntries(200, new Set(['peer']))).toEqual([{ hash: nameHash('peer'), sequence: 8, hears: true, inView: true }]);
    expect(names(m.mutual(200))).toEqual([]);
    m.receive(beatFrom('peer', 9, { peers: [ackOfSelf(1_000)] }), 250);
    expect(names(m.mutual(250))).toEqual(['peer']);
    expect(names(m.members(250))).toEqual(['peer']);
    expect(names(m.supporters(250))).toEqual(['peer']);
  });

  it('drops a peer a window after its last fresh beat, and stops counting on its support a margin before the acknowledged beat could let it drop us', () => {
    const m = fresh();
    m.sent(1, 1_000);
    m.receive(beatFrom('peer', 1, { peers: [ackOfSelf(1)] }), 1_050);
    // Support: acknowledged beat sent at 1000, window 350, margin 30.
    expect(m.supporters(1_319.9).has('peer')).toBe(true);
    expect(m.supporters(1_320).has('peer')).toBe(false);
    expect(m.mutual(1_399.9).has('peer')).toBe(true);
    expect(m.mutual(1_400).has('peer')).toBe(false);
    expect(m.nextDeadline(1_050)).toBe(1_320);
    expect(m.nextDeadline(1_320)).toBe(1_400);
  });

  it("sizes a peer's window from the interval it advertises", () => {
    const m = fresh();
    m.sent(1, 1_000);
    m.receive(beatFrom('slow', 1, { intervalMs: 200, peers: [ackOfSelf(1)] }), 1_000);
    expect(m.mutual(1_699).has('slow')).toBe(true);
    expect(m.mutual(1_700).has('slow')).toBe(false);
  });

  it('refuses beats acknowledging our beats older than a window: a replay, or a peer that no longer hears us', () => {
    const m = fresh();
    m.sent(1, 1_000);
    m.sent(2, 1_100);
    expect(m.receive(beatFrom('peer', 1, { peers: [ackOfSelf(1)] }), 1_360).accepted).toBe('bootstrap');
    expect(m.receive(beatFrom('peer', 2, { peers: [ackOfSelf(2)] }), 1_360).accepted).toBe('fresh');
    // A sequence we never sent (another incarnation of ours) acknowledges nothing.
    expect(m.receive(beatFrom('peer', 3, { peers: [ackOfSelf(999)] }), 1_370).accepted).toBe('bootstrap');
  });

  it('ignores the same or an older sequence, across the 2^32 wrap', () => {
    const m = fresh();
    m.sent(5, 0);
    expect(m.receive(beatFrom('peer', 0xffff_fffe, { peers: [ackOfSelf(5)] }), 10).accepted).toBe('fresh');
    expect(m.receive(beatFrom('peer', 0xffff_fffe), 11)).toEqual({ accepted: false, reason: 'not-newer' });
    expect(m.receive(beatFrom('peer', 0xffff_fff0), 12)).toEqual({ accepted: false, reason: 'not-newer' });
    expect(m.receive(beatFrom('peer', 1, { peers: [ackOfSelf(5)] }), 13).accepted).toBe('fresh');
  });

  it('does not let a replayed beat of an old incarnation replace the live one, but follows a restart that acknowledges us', () => {
    const m = fresh();
    m.sent(1, 0);
    m.receive(beatFrom('peer', 10, { peers: [ackOfSelf(1)] }), 10);
    const replay = beatFrom('peer', 500_000, { incarnation: 'bbbbbbbbbbbbbbbb' });
    expect(m.receive(replay, 20)).toEqual({ accepted: false, reason: 'stale-incarnation' });
    expect(m.peer('peer')?.incarnation).toBe(INC_PEER);
    // The restarted peer hears us: its beats are fresh, and it takes over the record.
    const restarted = beatFrom('peer', 3, { incarnation: 'cccccccccccccccc', state: 'joining', peers: [ackOfSelf(1)] });
    expect(m.receive(restarted, 30)).toEqual({ accepted: 'fresh', changed: true });
    expect(m.peer('peer')?.state).toBe('joining');
    expect(names(m.members(30))).toEqual([]);
  });

  it('knows its own beats and another speaker using its name', () => {
    const m = fresh();
    expect(m.receive(beatFrom('self', 1, { incarnation: INC_SELF }), 10)).toEqual({ accepted: false, reason: 'own-echo' });
    expect(m.receive(beatFrom('self', 1), 10)).toEqual({ accepted: false, reason: 'name-conflict' });
  });

  it('reads the view, the MACs and the lease from fresh beats; a lease is believed a margin shorter', () => {
    const m = fresh();
    m.sent(1, 0);
    m.receive(beatFrom('peer', 1, { macs: ['02:00:00:00:00:01'], leaseMs: 5_000, peers: [ackOfSelf(1), { hash: nameHash('other'), sequence: 4, hears: true, inView: true }] }), 100);
    const p = m.peer('peer')!;
    expect(p.macs).toEqual(['02:00:00:00:00:01']);
    expect([...p.view].sort()).toEqual([nameHash('other'), nameHash('peer'), nameHash('self')].sort());
    expect(p.leaseUntil).toBe(5_070);
  });

  it('does not count a leaving peer as a member or a supporter', () => {
    const m = fresh();
    m.sent(1, 0);
    m.receive(beatFrom('peer', 1, { peers: [ackOfSelf(1)] }), 10);
    expect(m.receive(beatFrom('peer', 2, { state: 'leaving', peers: [ackOfSelf(1)] }), 20)).toEqual({ accepted: 'fresh', changed: true });
    expect(m.members(20).size).toBe(0);
    expect(m.supporters(20).size).toBe(0);
    expect(m.mutual(20).has('peer')).toBe(true);
  });
});

describe('Membership on a simulated LAN', () => {
  it('three speakers find each other within a window and a half, and all vouch for each other', () => {
    const sim = new Sim({ names: ['a', 'b', 'c'], phases: [0, 33, 67] });
    sim.run(600);
    for (const s of sim.speakers.values()) {
      expect(names(s.membership.members(sim.now))).toEqual(['a', 'b', 'c'].filter((n) => n !== s.name));
      expect(s.membership.supporters(sim.now).size).toBe(2);
    }
  });

  it('one-way loss drops the pair on both sides, within a window of each other', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), (pa, pb, cutAt) => {
        const sim = new Sim({ names: ['a', 'b'], phases: [pa, pb] });
        sim.run(1_000);
        sim.cutLink('a', 'b');
        const t0 = 1_000 + cutAt;
        sim.run(t0);
        let aDropped: number | undefined;
        let bDropped: number | undefined;
        sim.run(t0 + 1_000, (now) => {
          if (aDropped === undefined && !sim.get('a').membership.mutual(now).has('b')) aDropped = now;
          if (bDropped === undefined && !sim.get('b').membership.mutual(now).has('a')) bDropped = now;
        });
        expect(aDropped).toBeDefined();
        expect(bDropped).toBeDefined();
        expect(Math.abs(aDropped! - bDropped!)).toBeLessThanOrEqual(sim.intervalMs + 1);
      }),
      { numRuns: 200 },
    );
  });

  it('a speaker cut off both ways loses its peers’ support before any of them drops it, whatever the phases', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 99 }), { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 99 }), fc.double({ min: 0.05, max: 5, noNaN: true }), (phases, cutAt, delayMs) => {
        const sim = new Sim({ names: ['a', 'b', 'c'], phases, delayMs });
        sim.run(1_000);
        const t0 = 1_000 + cutAt;
        sim.run(t0);
        sim.isolate('a');
        let unsupported: number | undefined;
        let dropped: number | undefined;
        sim.run(t0 + 1_000, (now) => {
          if (unsupported === undefined && sim.get('a').membership.supporters(now).size === 0) unsupported = now;
          const droppedBy = ['b', 'c'].some((n) => !sim.get(n).membership.mutual(now).has('a'));
          if (dropped === undefined && droppedBy) dropped = now;
        });
        expect(unsupported).toBeDefined();
        expect(dropped).toBeDefined();
        // The margin (30 ms) at least: a stops answering before b or c can take over.
        expect(dropped! - unsupported!).toBeGreaterThanOrEqual(30);
      }),
      { numRuns: 300 },
    );
  });

  it('a crashed peer is dropped 250–350 ms after its last beat, and the survivors keep vouching for each other', () => {
    const sim = new Sim({ names: ['a', 'b', 'c'], phases: [0, 40, 80] });
    sim.run(1_000);
    sim.crash('a');
    const crashedAt = sim.now;
    let dropped: number | undefined;
    sim.run(crashedAt + 600, (now) => {
      if (dropped === undefined && !sim.get('b').membership.mutual(now).has('a')) dropped = now;
      if (now > crashedAt) expect(sim.get('b').membership.supporters(now).has('c')).toBe(true);
    });
    expect(dropped! - crashedAt).toBeGreaterThanOrEqual(250);
    expect(dropped! - crashedAt).toBeLessThanOrEqual(351); // 350 after its last beat arrived (0.2 ms after it left)
  });

  it('a restarted speaker is a new incarnation: joining, then a member again', () => {
    const sim = new Sim({ names: ['a', 'b'], phases: [0, 50] });
    sim.run(1_000);
    sim.restart('a');
    sim.run(1_150);
    expect(sim.get('b').membership.peer('a')?.state).toBe('joining');
    expect(sim.get('b').membership.members(sim.now).has('a')).toBe(false);
    sim.run(1_700);
    expect(sim.get('b').membership.members(sim.now).has('a')).toBe(true);
    expect(sim.get('a').membership.members(sim.now).has('b')).toBe(true);
  });
});
