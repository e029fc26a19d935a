import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Claims, DEFAULT_CLAIM_POLICY, keeps, type ClaimAction, type ClaimTable } from './claims.ts';

const IP = '203.0.113.10';
const OURS = '02:ba:57:00:00:01';
const PEER = '02:ba:57:00:00:02';
const FOREIGN = '02:00:00:00:00:99';
const noJitter = () => 0.5;
const table = (mode: 'agreed' | 'agreed-after-probe' | 'probe-first', ips = [IP]): ClaimTable => new Map(ips.map((ip) => [ip, { allowed: 'all' as const, mode }]));
const types = (actions: ClaimAction[]) => actions.map((a) => a.type);

/** A peer MAC the rule makes lose against OURS for IP (and one that wins). */
const loser = keeps(IP, OURS, PEER) ? PEER : '02:ba:57:00:00:03';
const winner = [PEER, '02:ba:57:00:00:03', '02:ba:57:00:00:04'].find((m) => !keeps(IP, OURS, m))!;

describe('claims', () => {
  it('answers an agreed IP at once, announces it, and checks it once shortly after and then periodically', () => {
    const c = new Claims(DEFAULT_CLAIM_POLICY, noJitter);
    expect(types(c.setTable(table('agreed'), 0))).toEqual(['announce']);
    expect(c.answering(IP, false)).toBe(true);
    expect(c.nextDeadline()).toBe(150);
    expect(types(c.tick(150))).toEqual(['probe']);
    expect(c.nextDeadline()).toBe(150 + 30_000);
  });

  it('holds an agreed IP back while fenced, but not one it probed itself', () => {
    const c = new Claims(DEFAULT_CLAIM_POLICY, noJitter);
    c.setTable(table('agreed'), 0);
    expect(c.answering(IP, true)).toBe(false);
    c.setTable(table('probe-first'), 0);
    c.tick(80);
    expect(c.answering(IP, true)).toBe(true);
  });

  it('claims a probe-first IP only after probes went unanswered', () => {
    const c = new Claims(DEFAULT_CLAIM_POLICY, noJitter);
    expect(types(c.setTable(table('probe-first'), 0))).toEqual(['probe']);
    expect(c.answering(IP, false)).toBe(false);
    expect(types(c.tick(30))).toEqual(['probe']);
    expect(types(c.tick(80))).toEqual(['announce']);
    expect(c.answering(IP, false)).toBe(true);
  });

  it('holds a probe-first IP somebody answers, reports it, and claims it once they are gone', () => {
    const c = new Claims(DEFAULT_CLAIM_POLICY, noJitter);
    c.setTable(table('probe-first'), 0);
    c.claimSeen(IP, PEER, 'node-b', OURS, 5);
    expect(c.tick(80)).toEqual([{ type: 'conflict', ip: IP, mac: PEER, peer: 'node-b', outcome: 'held' }]);
    expect(c.answering(IP, false)).toBe(false);
    expect(c.phase(IP)).toBe('held');
    expect(types(c.tick(1_080))).toEqual(['probe']);
    c.claimSeen(IP, PEER, 'node-b', OURS, 1_090);
    expect(c.tick(1_160)).toEqual([]);
    expect(types(c.tick(2_160))).toEqual(['probe']);
    expect(types(c.tick(2_240))).toEqual(['resumed', 'announce']);
    expect(c.answering(IP, false)).toBe(true);
  });

  it('answers an IP agreed after a probe only once probes went unanswered, and holds it back while fenced', () => {
    const c = new Claims(DEFAULT_CLAIM_POLICY, noJitter);
    expect(types(c.setTable(table('agreed-after-probe'), 0))).toEqual(['probe']);
    expect(c.answering(IP, false)).toBe(false);
    // Agreed in the next table (the election runs again): the probe under way still decides.
    expect(c.setTable(table('agreed'), 10)).toEqual([]);
    expect(c.answering(IP, false)).toBe(false);
    expect(types(c.tick(30))).toEqual(['probe']);
    expect(types(c.tick(80))).toEqual(['announce']);
    expect(c.answering(IP, false)).toBe(true);
    expect(c.answering(IP, true)).toBe(false);
    // Agreed after a probe again, once ours: nothing to ask.
    expect(c.setTable(table('agreed-after-probe'), 90)).toEqual([]);
    expect(c.answering(IP, false)).toBe(true);
  });

  it('holds an IP agreed after a probe that a speaker it does not hear still answers', () => {
    const c = new Claims(DEFAULT_CLAIM_POLICY, noJitter);
    c.setTable(table('agreed-after-probe'), 0);
    c.claimSeen(IP, PEER, 'node-b', OURS, 5);
    expect(c.tick(80)).toEqual([{ type: 'conflict', ip: IP, mac: PEER, peer: 'node-b', outcome: 'held' }]);
    expect(c.answering(IP, false)).toBe(false);
    expect(c.phase(IP)).toBe('held');
  });

  it('backs off from another speaker that wins the rule, and takes the IP back when it stops answering', () => {
    const c = new Claims(DEFAULT_CLAIM_POLICY, noJitter);
    c.setTable(table('agreed'), 0);
    expect(c.claimSeen(IP, winner, 'node-b', OURS, 10)).toEqual([{ type: 'conflict', ip: IP, mac: winner, peer: 'node-b', outcome: 'yielded' }]);
    expect(c.answering(IP, false)).toBe(false);
    // The speaker re-sends the same agreed table: still yielded.
    expect(c.setTable(table('agreed'), 20)).toEqual([]);
    expect(types(c.tick(310))).toEqual(['probe']);
    expect(types(c.tick(390))).toEqual(['resumed', 'announce']);
    expect(c.answering(IP, false)).toBe(true);
  });

  it('keeps an IP against a speaker that loses the rule, and announces so it sees us (at most once a second)', () => {
    const c = new Claims(DEFAULT_CLAIM_POLICY, noJitter);
    c.setTable(table('agreed'), 0);
    expect(types(c.claimSeen(IP, loser, 'node-b', OURS, 10))).toEqual(['conflict', 'defend']);
    expect(types(c.claimSeen(IP, loser, 'node-b', OURS, 500))).toEqual(['conflict']);
    expect(types(c.claimSeen(IP, loser, 'node-b', OURS, 1_011))).toEqual(['conflict', 'defend']);
    expect(c.answering(IP, false)).toBe(true);
  });

  it('does not fight a foreign host: keeps answering, reports it, defends at most every 10 s', () => {
    const c = new Claims(DEFAULT_CLAIM_POLICY, noJitter);
    c.setTable(table('agreed'), 0);
    expect(c.claimSeen(IP, FOREIGN, undefined, OURS, 10)).toEqual([
      { type: 'conflict', ip: IP, mac: FOREIGN, peer: undefined, outcome: 'tolerated' },
      { type: 'defend', ip: IP },
    ]);
    expect(types(c.claimSeen(IP, FOREIGN, undefined, OURS, 9_000))).toEqual(['conflict']);
    expect(types(c.claimSeen(IP, FOREIGN, undefined, OURS, 10_011))).toEqual(['conflict', 'defend']);
    expect(c.answering(IP, false)).toBe(true);
  });

  it('forgets IPs that leave the table, and ignores our own MAC and IPs it does not hold', () => {
    const c = new Claims(DEFAULT_CLAIM_POLICY, noJitter);
    c.setTable(table('agreed'), 0);
    expect(c.claimSeen(IP, OURS, undefined, OURS, 1)).toEqual([]);
    expect(c.claimSeen('203.0.113.99', PEER, 'b', OURS, 1)).toEqual([]);
    c.setTable(new Map(), 2);
    expect(c.answering(IP, false)).toBe(false);
    expect(c.nextDeadline()).toBeUndefined();
  });

  it('re-probes what it held under an agreement when it falls back to probing', () => {
    const c = new Claims(DEFAULT_CLAIM_POLICY, noJitter);
    c.setTable(table('agreed'), 0);
    expect(types(c.setTable(table('probe-first'), 100))).toEqual(['probe']);
    expect(c.answering(IP, false)).toBe(false);
  });

  it('the rule picks exactly one of any two MACs, and not always the same one', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.uint8Array({ minLength: 6, maxLength: 6 }), (ip, a, b) => {
        const [ma, mb] = [a, b].map((x) => [...x].map((y) => y.toString(16).padStart(2, '0')).join(':')) as [string, string];
        fc.pre(ma !== mb);
        expect(keeps(ip, ma, mb)).toBe(!keeps(ip, mb, ma));
      }),
    );
    const wins = Array.from({ length: 64 }, (_, i) => keeps(`203.0.113.${i}`, OURS, PEER)).filter(Boolean).length;
    expect(wins).toBeGreaterThan(10);
    expect(wins).toBeLessThan(54);
  });

  it('two speakers that both answer end with exactly one answering, whatever they see when', () => {
    // Both active on one IP; each sees the other's claims at random times; the one that keeps announces.
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 2_000 })), { minLength: 1, maxLength: 20 }), (events) => {
        const a = new Claims(DEFAULT_CLAIM_POLICY, noJitter);
        const b = new Claims(DEFAULT_CLAIM_POLICY, noJitter);
        a.setTable(table('agreed'), 0);
        b.setTable(table('agreed'), 0);
        let now = 0;
        for (const [toA, dt] of events) {
          now += dt;
          a.tick(now);
          b.tick(now);
          // Whoever answers is seen by the other (its reply to a probe, its announcement).
          if (toA && b.answering(IP, false)) a.claimSeen(IP, PEER, 'b', OURS, now);
          if (!toA && a.answering(IP, false)) b.claimSeen(IP, OURS, 'a', PEER, now);
        }
        // Then both see each other until things settle: at most one answers, and one does.
        for (let i = 0; i < 40; i++) {
          now += 50;
          if (b.answering(IP, false)) a.claimSeen(IP, PEER, 'b', OURS, now);
          if (a.answering(IP, false)) b.claimSeen(IP, OURS, 'a', PEER, now);
          a.tick(now);
          b.tick(now);
        }
        const answering = [a.answering(IP, false), b.answering(IP, false)].filter(Boolean).length;
        expect(answering).toBe(1);
      }),
      { numRuns: 300 },
    );
  });
});
