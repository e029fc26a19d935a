import { describe, expect, it } from 'vitest';
import { ok, err, type Result } from '../../shared/result.ts';
import { L2Announcer, type Timers } from './announcer.ts';
import { buildGratuitousArp, decodeArpFrame, encodeArpFrame } from './arp.ts';
import { BROADCAST_MAC, formatMac } from './ethernet.ts';
import type { InterfaceDescriptor } from './interface-filter.ts';
import { decodeNdpFrame } from './ndp.ts';
import type { ClaimTable } from './claims.ts';
import type { PacketSocket, PacketSocketOptions, SocketError } from './packet-socket.ts';
import { PacketType } from './packet-type.ts';
import { ip, LINUX_ARP_REQUEST } from './fixtures.test-util.ts';

class FakeSocket implements PacketSocket {
  readonly interfaceName: string;
  readonly ifindex: number;
  readonly mac: Uint8Array;
  readonly sent: Uint8Array[] = [];
  readonly groups = new Set<string>();
  readonly macGroups = new Set<string>();
  closed = false;
  failSends = false;
  readonly options: PacketSocketOptions;
  constructor(options: PacketSocketOptions, index: number) {
    this.options = options;
    this.interfaceName = options.interfaceName;
    this.ifindex = index;
    this.mac = Uint8Array.of(2, 0, 0, 0, 0, index);
  }
  /** The deadline each sent frame carried (undefined: none). */
  readonly deadlines: (number | undefined)[] = [];
  /** The thread's clock, read as the addon reads it just before the syscall. */
  clock: { now: number } | undefined;
  /** Runs once, between the caller's decision and the deadline check: the thread frozen or preempted there. */
  stallBeforeSend: (() => void) | undefined;
  send(frame: Uint8Array, notAfterMs?: number): Result<void, string> {
    if (this.failSends) return err('ENETDOWN');
    const stall = this.stallBeforeSend;
    this.stallBeforeSend = undefined;
    stall?.();
    if (notAfterMs !== undefined && this.clock !== undefined && this.clock.now > notAfterMs) return err('ETIME');
    this.sent.push(frame);
    this.deadlines.push(notAfterMs);
    return ok(undefined);
  }
  addMembership(mac: Uint8Array): Result<void, string> {
    this.macGroups.add(formatMac(mac));
    return ok(undefined);
  }
  dropMembership(mac: Uint8Array): Result<void, string> {
    this.macGroups.delete(formatMac(mac));
    return ok(undefined);
  }
  joinGroup(group: { text: string }): Result<void, string> {
    this.groups.add(group.text);
    return ok(undefined);
  }
  leaveGroup(group: { text: string }): Result<void, string> {
    this.groups.delete(group.text);
    return ok(undefined);
  }
  drain(): void {}
  stats() {
    return { received: 0, dropped: 0 };
  }
  close(): void {
    this.closed = true;
  }
  receive(frame: Uint8Array, packetType: number): void {
    this.options.onFrame(frame, packetType);
  }
}

class FakeClock implements Timers {
  now = 0;
  #queue: { at: number; callback: () => void; id: number }[] = [];
  #id = 0;
  set(callback: () => void, delayMs: number): unknown {
    const entry = { at: this.now + delayMs, callback, id: ++this.#id };
    this.#queue.push(entry);
    return entry.id;
  }
  clear(handle: unknown): void {
    this.#queue = this.#queue.filter((e) => e.id !== handle);
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      this.#queue.sort((a, b) => a.at - b.at);
      const first = this.#queue[0];
      if (first === undefined || first.at > end) break;
      this.#queue.shift();
      this.now = first.at;
      first.callback();
    }
    this.now = end;
  }
}

const descriptor = (name: string, index: number, broadcast = true): InterfaceDescriptor => ({
  name,
  index,
  mac: `02:00:00:00:00:0${index}`,
  hardwareType: 1,
  up: true,
  broadcast,
  noArp: false,
  loopback: false,
  master: null,
  kind: null,
});

function setup(opts: { onFenceDue?: (announcer: L2Announcer, now: number) => void } = {}) {
  const clock = new FakeClock();
  let self: L2Announcer | undefined;
  const judged: number[] = [];
  const sockets: FakeSocket[] = [];
  const counts: string[] = [];
  const events: unknown[] = [];
  const announcer = new L2Announcer({
    now: () => clock.now,
    random: () => 0.5,
    peerOfMac: (mac) => (mac === '02:00:00:00:00:99' ? 'node-b' : undefined),
    timers: clock,
    onEvent: (e) => events.push(e),
    onFenceDue: () => {
      judged.push(clock.now);
      opts.onFenceDue?.(self!, clock.now);
    },
    counters: {
      requestReceived: (p, ip, i) => counts.push(`request ${p} ${ip} ${i}`),
      replySent: (p, ip, i) => counts.push(`reply ${p} ${ip} ${i}`),
      gratuitousSent: (p, ip, i) => counts.push(`gratuitous ${p} ${ip} ${i}`),
      garbled: (p, reason, i) => counts.push(`garbled ${p} ${reason} ${i}`),
      sendFailed: (p, code, i) => counts.push(`send-failed ${p} ${code} ${i}`),
      foreignAnnouncement: (p, ip, i) => counts.push(`foreign ${p} ${ip} ${i}`),
    },
    openSocket: (options) => {
      const index = options.interfaceName === 'eth0' ? 1 : 2;
      const socket = new FakeSocket(options, index);
      socket.clock = clock;
      sockets.push(socket);
      return ok(socket);
    },
  });
  self = announcer;
  const live = (name: string, etherType: number) =>
    sockets.find((s) => !s.closed && s.interfaceName === name && s.options.etherType === etherType)!;
  return { clock, sockets, counts, events, announcer, judged, arp: (name: string) => live(name, 0x0806), ndp: (name: string) => live(name, 0x86dd) };
}

const table = (entries: [string, 'all' | string[]][], mode: 'agreed' | 'probe-first' = 'agreed'): ClaimTable =>
  new Map(entries.map(([ip, allowed]) => [ip, { allowed: allowed === 'all' ? 'all' : new Set(allowed), mode }]));

/** Frames that announce (sender IP = target IP), and probes (sender IP 0.0.0.0), among what a socket sent. */
const arpSent = (socket: FakeSocket, kind: 'announce' | 'probe'): number =>
  socket.sent.filter((f) => {
    const d = decodeArpFrame(f);
    if (!d.ok) return false;
    return kind === 'probe' ? d.value.arp.senderIP.value === 0n : d.value.arp.senderIP.value === d.value.arp.targetIP.value;
  }).length;

/** A frame in which `mac` claims `ip` (its gratuitous ARP reply). */
const claimBy = (address: string, mac: Uint8Array): Uint8Array => buildGratuitousArp(ip(address), mac)[1];

const arpRequestFor = (target: string): Uint8Array => {
  const decoded = decodeArpFrame(LINUX_ARP_REQUEST);
  if (!decoded.ok) throw new Error('bad vector');
  return encodeArpFrame({ ...decoded.value, arp: { ...decoded.value.arp, targetIP: ip(target) } });
};

describe('L2Announcer', () => {
  it('opens an ARP and an NDP socket per interface, ARP only where broadcast works', () => {
    const t = setup();
    expect(t.announcer.setInterfaces([descriptor('eth0', 1), descriptor('eth1', 2, false)])).toEqual([]);
    expect(t.sockets.map((s) => `${s.interfaceName}/${s.options.etherType.toString(16)}`)).toEqual(['eth0/806', 'eth0/86dd', 'eth1/86dd']);
  });

  it('answers requests from the current table and counts them', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
    expect(t.arp('eth0').sent).toHaveLength(0);
    t.announcer.setOwnership(table([['203.0.113.10', 'all']]));
    t.arp('eth0').sent.length = 0;
    t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
    expect(t.arp('eth0').sent).toHaveLength(1);
    expect(t.counts).toContain('request arp 203.0.113.10 eth0');
    expect(t.counts).toContain('reply arp 203.0.113.10 eth0');
    t.arp('eth0').receive(LINUX_ARP_REQUEST.subarray(0, 30), PacketType.broadcast);
    expect(t.counts).toContain('garbled arp truncated eth0');
  });

  it('sends agreed answers and announcements with the fence verdict as their deadline, probe-first ones without', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    t.announcer.setFenced(false, 500);
    t.announcer.setOwnership(table([['203.0.113.10', 'all']]));
    // Both takeover frames (request and reply) carry it.
    expect(t.arp('eth0').deadlines).toEqual([500, 500]);
    t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
    expect(t.arp('eth0').deadlines.at(-1)).toBe(500);
    // A verdict without an end (no fence rule yet) puts no deadline on them.
    t.announcer.setFenced(false);
    t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
    expect(t.arp('eth0').deadlines.at(-1)).toBeUndefined();
    t.announcer.setFenced(false, 900);
    t.announcer.setOwnership(table([['203.0.113.11', 'all']], 'probe-first'));
    t.clock.advance(1_000);
    const sent = t.arp('eth0').deadlines.length;
    t.arp('eth0').receive(arpRequestFor('203.0.113.11'), PacketType.broadcast);
    expect(t.arp('eth0').deadlines.length).toBe(sent + 1);
    expect(t.arp('eth0').deadlines.at(-1)).toBeUndefined();
  });

  it('does not let a reply out after the verdict it rested on ran out between deciding and sending', () => {
    // Frozen there: on the thaw the fence goes up (nobody vouched meanwhile), and the reply is dropped.
    const frozen = setup({ onFenceDue: (a) => a.setFenced(true) });
    frozen.announcer.setInterfaces([descriptor('eth0', 1)]);
    frozen.announcer.setFenced(false, 500);
    frozen.announcer.setOwnership(table([['203.0.113.10', 'all']]));
    frozen.clock.advance(490);
    const sentBefore = frozen.arp('eth0').sent.length;
    frozen.arp('eth0').stallBeforeSend = () => (frozen.clock.now += 600);
    frozen.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
    expect(frozen.arp('eth0').sent.length).toBe(sentBefore);
    expect(frozen.counts).toContain('send-failed arp ETIME eth0');
    expect(frozen.announcer.fenced).toBe(true);
    // Only just past it (a busy thread), and the verdict renews: the reply goes out under the new one.
    const busy = setup({ onFenceDue: (a, now) => a.setFenced(false, now + 300) });
    busy.announcer.setInterfaces([descriptor('eth0', 1)]);
    busy.announcer.setFenced(false, 500);
    busy.announcer.setOwnership(table([['203.0.113.10', 'all']]));
    busy.clock.now = 499.9;
    busy.arp('eth0').stallBeforeSend = () => (busy.clock.now = 500.2);
    const sent = busy.arp('eth0').sent.length;
    busy.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
    expect(busy.arp('eth0').sent.length).toBe(sent + 1);
    expect(busy.arp('eth0').deadlines.at(-1)).toBeCloseTo(800.2);
    expect(busy.counts.filter((c) => c.startsWith('send-failed'))).toEqual([]);
    expect(busy.counts).toContain('reply arp 203.0.113.10 eth0');
  });

  it('announces a takeover at once and on the schedule, then stops', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    t.announcer.setOwnership(table([['203.0.113.10', 'all']]));
    const sends = () => arpSent(t.arp('eth0'), 'announce');
    expect(sends()).toBe(2); // request + reply
    const frame = decodeArpFrame(t.arp('eth0').sent[0]!);
    expect(frame.ok && frame.value.ethernet.destination).toEqual(BROADCAST_MAC);
    t.clock.advance(250);
    expect(sends()).toBe(4);
    // Checked once after the takeover: the old owner's answers would show.
    expect(arpSent(t.arp('eth0'), 'probe')).toBe(1);
    t.clock.advance(10_000);
    expect(sends()).toBe(10);
    // The same table again is not a takeover.
    t.announcer.setOwnership(table([['203.0.113.10', 'all']]));
    t.clock.advance(10_000);
    expect(sends()).toBe(10);
  });

  it('stops answering and announcing agreed IPs while fenced, and announces them again when the fence lifts', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    t.announcer.setOwnership(table([['203.0.113.10', 'all']]));
    t.announcer.setFenced(true);
    const before = arpSent(t.arp('eth0'), 'announce');
    t.arp('eth0').sent.length = 0;
    t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
    t.clock.advance(5_000);
    expect(t.arp('eth0').sent.filter((f) => { const d = decodeArpFrame(f); return d.ok && d.value.arp.operation === 'reply' && d.value.arp.senderIP.value !== 0n; })).toHaveLength(0);
    expect(before).toBe(2);
    t.announcer.setFenced(false);
    expect(arpSent(t.arp('eth0'), 'announce')).toBe(2);
    t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
    expect(t.counts.filter((c) => c === 'reply arp 203.0.113.10 eth0')).toHaveLength(1);
  });

  describe('a verdict that ran out (a frozen process wakes to requests queued in its sockets, before its timers run)', () => {
    const replies = (t: ReturnType<typeof setup>) => t.counts.filter((c) => c === 'reply arp 203.0.113.10 eth0').length;
    const agreed = (t: ReturnType<typeof setup>, validUntil: number) => {
      t.announcer.setInterfaces([descriptor('eth0', 1)]);
      t.announcer.setOwnership(table([['203.0.113.10', 'all']]));
      t.announcer.setFenced(false, validUntil);
    };

    it('answers while the verdict holds, without asking again', () => {
      const t = setup();
      agreed(t, 1_000);
      t.clock.now = 999;
      t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
      expect(replies(t)).toBe(1);
      expect(t.judged).toEqual([]);
    });

    it('past it, asks for a new verdict before answering, and does not answer when it says fenced', () => {
      const t = setup({ onFenceDue: (a) => a.setFenced(true) });
      agreed(t, 1_000);
      // No timer runs: the clock jumps as it does for a process thawed after 2 s.
      t.clock.now = 3_000;
      t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
      expect(t.judged).toEqual([3_000]);
      expect(replies(t)).toBe(0);
      expect(t.announcer.fenced).toBe(true);
    });

    it('answers when the new verdict renews it', () => {
      const t = setup({ onFenceDue: (a, now) => a.setFenced(false, now + 300) });
      agreed(t, 1_000);
      t.clock.now = 3_000;
      t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
      t.clock.now = 3_200;
      t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
      expect(t.judged).toEqual([3_000]);
      expect(replies(t)).toBe(2);
      expect(t.announcer.fenced).toBe(false);
    });

    it('fences itself when no verdict comes', () => {
      const t = setup();
      agreed(t, 1_000);
      t.clock.now = 1_000;
      t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
      expect(replies(t)).toBe(0);
      expect(t.announcer.fenced).toBe(true);
      // A later verdict lifts it (and announces again, as any unfencing does).
      t.announcer.setFenced(false, 5_000);
      t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
      expect(replies(t)).toBe(1);
    });

    it('sends no announcement that fell due after it ran out', () => {
      const t = setup({ onFenceDue: (a) => a.setFenced(true) });
      agreed(t, 1_000);
      const at0 = arpSent(t.arp('eth0'), 'announce');
      // The 250 ms copy goes; the 1100 ms one fell due after the verdict ran out.
      t.clock.advance(300);
      const at300 = arpSent(t.arp('eth0'), 'announce');
      t.clock.advance(5_000);
      expect(at300).toBeGreaterThan(at0);
      expect(arpSent(t.arp('eth0'), 'announce')).toBe(at300);
      expect(t.judged).toEqual([1_100]);
    });

    it('leaves probe-first IPs alone (the fence is for agreed ones)', () => {
      const t = setup();
      t.announcer.setInterfaces([descriptor('eth0', 1)]);
      t.announcer.setOwnership(table([['203.0.113.10', 'all']], 'probe-first'));
      t.announcer.setFenced(false, 100);
      t.clock.advance(2_000);
      t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
      expect(replies(t)).toBe(1);
    });
  });

  it('answers a probe-first IP only after its probes went unanswered', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    t.announcer.setOwnership(table([['203.0.113.10', 'all']], 'probe-first'));
    expect(arpSent(t.arp('eth0'), 'probe')).toBe(1);
    expect(t.announcer.ownership.size).toBe(0);
    t.clock.advance(80);
    expect(arpSent(t.arp('eth0'), 'probe')).toBe(2);
    expect([...t.announcer.ownership.keys()]).toEqual(['203.0.113.10']);
    expect(arpSent(t.arp('eth0'), 'announce')).toBe(2);
  });

  it('probes a probe-first IP again before it answers it on a link that came up later (a node reconnected after claiming alone)', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    t.announcer.setOwnership(table([['203.0.113.10', 'all']], 'probe-first'));
    t.clock.advance(80);
    expect([...t.announcer.ownership.keys()]).toEqual(['203.0.113.10']);
    // eth1 comes up: not answered until a probe there (and on eth0) found nobody.
    t.announcer.setInterfaces([descriptor('eth0', 1), descriptor('eth1', 2)]);
    expect(t.announcer.ownership.size).toBe(0);
    expect(arpSent(t.arp('eth1'), 'probe')).toBe(1);
    expect(arpSent(t.arp('eth1'), 'announce')).toBe(0);
    // Someone on eth1 holds it: we do not answer it.
    t.arp('eth1').receive(claimBy('203.0.113.10', Uint8Array.of(2, 0, 0, 0, 0, 0x99)), PacketType.host);
    t.clock.advance(80);
    expect(t.announcer.ownership.size).toBe(0);
    expect(arpSent(t.arp('eth1'), 'announce')).toBe(0);
  });

  it('holds a probe-first IP another host answers, and says so', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    t.announcer.setOwnership(table([['203.0.113.10', 'all']], 'probe-first'));
    t.arp('eth0').receive(claimBy('203.0.113.10', Uint8Array.of(2, 0, 0, 0, 0, 0x99)), PacketType.host);
    t.clock.advance(80);
    expect(t.announcer.ownership.size).toBe(0);
    expect(t.events).toContainEqual({ type: 'conflict', ip: '203.0.113.10', mac: '02:00:00:00:00:99', peer: 'node-b', outcome: 'held', interfaceName: '' });
  });

  it('keeps answering against a foreign host, reports it, and defends at most every 10 s', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    t.announcer.setOwnership(table([['203.0.113.10', 'all']]));
    t.clock.advance(10_000);
    const before = arpSent(t.arp('eth0'), 'announce');
    const foreign = Uint8Array.of(2, 0, 0, 0, 0, 0x55);
    t.arp('eth0').receive(claimBy('203.0.113.10', foreign), PacketType.broadcast);
    t.arp('eth0').receive(claimBy('203.0.113.10', foreign), PacketType.broadcast);
    expect(arpSent(t.arp('eth0'), 'announce')).toBe(before + 2);
    expect(t.events).toContainEqual({ type: 'conflict', ip: '203.0.113.10', mac: '02:00:00:00:00:55', peer: undefined, outcome: 'tolerated', interfaceName: 'eth0' });
    expect([...t.announcer.ownership.keys()]).toEqual(['203.0.113.10']);
  });

  it('stops announcing and answering an IP as soon as it is no longer owned', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    t.announcer.setOwnership(table([['203.0.113.10', 'all']]));
    t.announcer.setOwnership(new Map());
    const before = t.arp('eth0').sent.length;
    t.clock.advance(10_000);
    t.arp('eth0').receive(arpRequestFor('203.0.113.10'), PacketType.broadcast);
    expect(t.arp('eth0').sent.length).toBe(before);
  });

  it('re-announces when the allowed interfaces change, only where allowed', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1), descriptor('eth1', 2)]);
    t.announcer.setOwnership(table([['2001:db8:100::10', ['eth0']]]));
    expect(t.ndp('eth0').sent).toHaveLength(1);
    expect(t.ndp('eth1').sent).toHaveLength(0);
    t.announcer.setOwnership(table([['2001:db8:100::10', ['eth0', 'eth1']]]));
    expect(t.ndp('eth0').sent).toHaveLength(2);
    expect(t.ndp('eth1').sent).toHaveLength(1);
    const na = decodeNdpFrame(t.ndp('eth1').sent[0]!);
    expect(na).toMatchObject({ ok: true, value: { message: { override: true, targetLinkLayer: t.ndp('eth1').mac } } });
  });

  it('joins solicited-node groups per interface while any owned VIP needs them', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1), descriptor('eth1', 2)]);
    // ::10 and 1::10 share the group ff02::1:ff00:10.
    t.announcer.setOwnership(table([['2001:db8:100::10', 'all'], ['2001:db8:100:1::10', ['eth0']], ['203.0.113.10', 'all']]));
    expect([...t.ndp('eth0').groups]).toEqual(['ff02::1:ff00:10']);
    expect([...t.ndp('eth0').macGroups]).toEqual(['33:33:ff:00:00:10']);
    expect([...t.ndp('eth1').groups]).toEqual(['ff02::1:ff00:10']);
    t.announcer.setOwnership(table([['2001:db8:100:1::10', ['eth0']]]));
    expect([...t.ndp('eth0').groups]).toEqual(['ff02::1:ff00:10']);
    expect([...t.ndp('eth1').groups]).toEqual([]);
    t.announcer.setOwnership(new Map());
    expect([...t.ndp('eth0').groups]).toEqual([]);
  });

  it.each([
    ['re-created (new index)', { index: 7 }],
    ['given a new MAC', { mac: '02:00:00:00:00:77' }],
  ])('reopens an interface %s, joins its groups again and re-announces', (_name, change) => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    t.announcer.setOwnership(table([['2001:db8:100::10', 'all']]));
    const old = t.ndp('eth0');
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    expect(old.closed).toBe(false);
    t.announcer.setInterfaces([{ ...descriptor('eth0', 1), ...change }]);
    expect(old.closed).toBe(true);
    expect([...t.ndp('eth0').groups]).toEqual(['ff02::1:ff00:10']);
    expect(t.ndp('eth0').sent).toHaveLength(1);
  });

  it('drops a socket on a fatal error and reopens it on the next interface sync', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    const socket = t.arp('eth0');
    const fatal: SocketError = { code: 'EBADF', syscall: 'poll', message: 'poll failed', fatal: true };
    socket.options.onError(fatal);
    expect(socket.closed).toBe(true);
    expect(t.events).toEqual([{ type: 'socket-error', interfaceName: 'eth0', protocol: 'arp', error: fatal }]);
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    expect(t.arp('eth0')).not.toBe(socket);
  });

  it('counts send failures and a foreign gratuitous ARP for an owned IP', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    t.arp('eth0').failSends = true;
    t.announcer.setOwnership(table([['203.0.113.10', 'all']]));
    expect(t.counts).toContain('send-failed arp ENETDOWN eth0');
    t.arp('eth0').receive(claimBy('203.0.113.10', Uint8Array.of(2, 0, 0, 0, 0, 0x55)), PacketType.broadcast);
    expect(t.counts).toContain('foreign arp 203.0.113.10 eth0');
  });

  it('closes everything and ignores later calls', () => {
    const t = setup();
    t.announcer.setInterfaces([descriptor('eth0', 1)]);
    t.announcer.setOwnership(table([['203.0.113.10', 'all']]));
    t.announcer.close();
    expect(t.sockets.every((s) => s.closed)).toBe(true);
    t.clock.advance(10_000);
    expect(t.sockets[0]!.sent).toHaveLength(2);
  });
});
