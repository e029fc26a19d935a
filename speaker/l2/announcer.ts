// The L2 shell: one ARP and one NDP packet socket per announcing interface,
// answering requests for the IPs this node holds, sending takeover
// announcements on the schedule, probing for duplicates and acting on what
// the probes find (claims.ts decides; this sends), and keeping the
// solicited-node multicast memberships that make MLD-snooping switches
// forward NS for our VIPs (cilium#44311 is what happens without them).
import { parseIP, type IPAddress } from '../../shared/net/index.ts';
import { DEFAULT_ANNOUNCE_POLICY, nextAnnouncement, type AnnouncePolicy } from './announce-schedule.ts';
import { buildArpProbe, buildGratuitousArp } from './arp.ts';
import { Claims, DEFAULT_CLAIM_POLICY, type ClaimAction, type ClaimPolicy, type ClaimTable, type ConflictOutcome } from './claims.ts';
import { completeCounters, type L2Counters } from './counters.ts';
import { ETHERTYPE_ARP, ETHERTYPE_IPV6, formatMac } from './ethernet.ts';
import { canAnswerArp, type InterfaceDescriptor } from './interface-filter.ts';
import { multicastMacFor, solicitedNodeMulticast } from './ipv6.ts';
import { buildDadProbe, buildUnsolicitedAdvertisement } from './ndp.ts';
import { allowsInterface, sameAllowedInterfaces, type AllowedInterfaces, type OwnershipTable } from './ownership.ts';
import type { Result } from '../../shared/result.ts';
import { openPacketSocket, type PacketSocket, type PacketSocketOptions, type SocketError } from './packet-socket.ts';
import { answerArp, answerNeighborSolicitation, type L2Protocol, type ResponderDecision } from './responder.ts';
import { arpFilter, neighborDiscoveryFilter } from './socket-filters.ts';

export type L2Event =
  | { readonly type: 'socket-error'; readonly interfaceName: string; readonly protocol: L2Protocol; readonly error: SocketError }
  | { readonly type: 'multicast-error'; readonly interfaceName: string; readonly group: string; readonly op: 'join' | 'leave'; readonly code: string }
  /** Another MAC answers for an IP we hold: what we did about it. */
  | { readonly type: 'conflict'; readonly ip: string; readonly mac: string; readonly peer: string | undefined; readonly outcome: ConflictOutcome; readonly interfaceName: string }
  /** An IP we held back (someone else answered) is ours again: nobody answered the recheck. */
  | { readonly type: 'resumed'; readonly ip: string };

export interface Timers {
  set(callback: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

export interface L2AnnouncerOptions {
  readonly policy?: AnnouncePolicy;
  readonly claimPolicy?: ClaimPolicy;
  readonly counters?: Partial<L2Counters>;
  /** Errors and conflicts worth a log line, an event or a metric; the announcer carries on. */
  readonly onEvent?: (event: L2Event) => void;
  /** The speaker a MAC belongs to, if it is one (learned from heartbeats): conflicts with speakers are resolved, not tolerated. */
  readonly peerOfMac?: (mac: string) => string | undefined;
  /** ms on CLOCK_MONOTONIC (process.hrtime's clock; the default): real sockets check send deadlines on it. */
  readonly now?: () => number;
  readonly random?: () => number;
  readonly timers?: Timers;
  readonly openSocket?: (options: PacketSocketOptions) => ReturnType<typeof openPacketSocket>;
  /**
   * The fence's verdict ran out (see setFenced) and something is about to be
   * answered or announced: judge it again now, by calling setFenced. If it is
   * not renewed, the announcer fences itself until it is.
   */
  readonly onFenceDue?: () => void;
}

interface Link {
  readonly name: string;
  readonly index: number;
  readonly mac: string | null;
  arp: PacketSocket | null;
  ndp: PacketSocket | null;
}

interface Announcement {
  readonly ip: IPAddress;
  readonly allowed: AllowedInterfaces;
  readonly takeoverAt: number;
  timer: unknown;
}

const nodeTimers: Timers = {
  set: (callback, delayMs) => setTimeout(callback, delayMs),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class L2Announcer {
  readonly #policy: AnnouncePolicy;
  readonly #counters: L2Counters;
  readonly #onEvent: (event: L2Event) => void;
  readonly #peerOfMac: (mac: string) => string | undefined;
  readonly #now: () => number;
  readonly #timers: Timers;
  readonly #openSocket: NonNullable<L2AnnouncerOptions['openSocket']>;
  readonly #onFenceDue: () => void;
  readonly #claims: Claims;
  readonly #links = new Map<string, Link>();
  readonly #announcements = new Map<string, Announcement>();
  /** `${group}%${interface}` for every solicited-node group joined; several VIPs can share one. */
  readonly #joined = new Map<string, { group: IPAddress; interfaceName: string }>();
  /** What we answer now (claims answering, fence applied) and what we hold at all: one Map.get per frame each. */
  #answering: OwnershipTable = new Map();
  #held: OwnershipTable = new Map();
  #parsed = new Map<string, IPAddress>();
  #fenced = false;
  /** Until when (this.#now()) the unfenced verdict holds without being judged again. */
  #fenceUntil = Infinity;
  #judgingFence = false;
  /** setFenced calls so far: whether onFenceDue gave a verdict. */
  #verdicts = 0;
  #claimTimer: unknown;
  #closed = false;

  constructor(options: L2AnnouncerOptions = {}) {
    this.#policy = options.policy ?? DEFAULT_ANNOUNCE_POLICY;
    this.#counters = completeCounters(options.counters);
    this.#onEvent = options.onEvent ?? (() => {});
    this.#peerOfMac = options.peerOfMac ?? (() => undefined);
    // CLOCK_MONOTONIC in ms, the clock the sockets check send deadlines on.
    this.#now = options.now ?? (() => Number(process.hrtime.bigint()) / 1e6);
    this.#timers = options.timers ?? nodeTimers;
    this.#openSocket = options.openSocket ?? openPacketSocket;
    this.#onFenceDue = options.onFenceDue ?? (() => {});
    this.#claims = new Claims(options.claimPolicy ?? DEFAULT_CLAIM_POLICY, options.random ?? Math.random);
  }

  /** What is answered now. */
  get ownership(): OwnershipTable {
    return this.#answering;
  }

  /** What this node holds, as last set (answered or not). */
  get claims(): ClaimTable {
    return this.#claims.table;
  }

  /**
   * The interfaces to answer on (already filtered by chooseInterfaces).
   * Opens sockets for new ones, reopens those whose index or MAC changed
   * (re-created, or re-addressed: replies must carry the current MAC) or whose
   * socket failed, and closes those no longer listed.
   * Returns the sockets that could not be opened.
   */
  setInterfaces(interfaces: readonly InterfaceDescriptor[]): { interfaceName: string; protocol: L2Protocol; error: SocketError }[] {
    if (this.#closed) return [];
    this.#checkFence();
    const failures: { interfaceName: string; protocol: L2Protocol; error: SocketError }[] = [];
    const wanted = new Map(interfaces.map((i) => [i.name, i]));
    for (const [name, link] of this.#links) {
      const want = wanted.get(name);
      if (want === undefined || want.index !== link.index || want.mac !== link.mac) this.#closeLink(link);
    }
    for (const iface of interfaces) {
      let link = this.#links.get(iface.name);
      if (link === undefined) {
        link = { name: iface.name, index: iface.index, mac: iface.mac, arp: null, ndp: null };
        this.#links.set(iface.name, link);
      }
      let opened = false;
      if (link.arp === null && canAnswerArp(iface)) {
        const result = this.#open(link, 'arp');
        if (result === null) opened = true;
        else failures.push({ interfaceName: iface.name, protocol: 'arp', error: result });
      }
      if (link.ndp === null) {
        const result = this.#open(link, 'ndp');
        if (result === null) opened = true;
        else failures.push({ interfaceName: iface.name, protocol: 'ndp', error: result });
      }
      if (opened) {
        // What we claimed from the API's view was probed for on the links up then, not on this one.
        // (Claims.reprobe picks the probe-first ones.)
        const here = [...this.#claims.table].filter(([, entry]) => allowsInterface(entry.allowed, iface.name)).map(([ip]) => ip);
        const actions = this.#claims.reprobe(here, this.#now());
        if (actions.length > 0) {
          this.#run(actions);
          this.#refresh();
        }
        this.#restartAnnouncementsOn(iface.name);
      }
    }
    this.#syncMulticast();
    return failures;
  }

  /**
   * Replaces what this node holds. Agreed IPs that are new are answered and
   * announced at once; probe-first IPs once probes found nobody else; IPs no
   * longer held stop being answered and announced immediately.
   */
  setOwnership(table: ClaimTable): void {
    if (this.#closed) return;
    this.#checkFence();
    this.#parsed = new Map([...table.keys()].map((text) => [text, this.#parse(text)]));
    this.#run(this.#claims.setTable(table, this.#now()));
    this.#refresh();
  }

  /**
   * Fenced: this node lacks the support of a majority, so peers may take its
   * agreed IPs over; it stops answering and announcing them until the fence
   * lifts (then announces them again). Probe-first IPs are not affected.
   *
   * Not fenced holds only until `validUntil`: the support it rests on lapses
   * with time, and the timer that would judge it again can run late. A
   * process frozen (docker pause, a stalled VM) wakes with requests queued in
   * its sockets, and their callbacks may run before any timer. So every
   * answer and announcement first checks the clock, and past validUntil asks
   * for a new verdict (onFenceDue) before it sends anything.
   */
  setFenced(fenced: boolean, validUntil = Infinity): void {
    if (this.#closed) return;
    this.#verdicts++;
    this.#fenceUntil = fenced ? Infinity : validUntil;
    if (fenced === this.#fenced) return;
    this.#fenced = fenced;
    this.#refresh();
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  /**
   * The verdict, judged again first if it is past its validity: for anything
   * else that rests on it (a heartbeat saying this node is active, with the
   * view its table was elected over, after a freeze).
   */
  currentFence(): boolean {
    this.#checkFence();
    return this.#fenced;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#claimTimer !== undefined) this.#timers.clear(this.#claimTimer);
    for (const text of [...this.#announcements.keys()]) this.#stopAnnouncing(text);
    for (const link of this.#links.values()) this.#closeLink(link);
    this.#links.clear();
    this.#answering = new Map();
    this.#held = new Map();
    this.#syncMulticast();
  }

  #open(link: Link, protocol: L2Protocol): SocketError | null {
    const arp = protocol === 'arp';
    const result = this.#openSocket({
      interfaceName: link.name,
      etherType: arp ? ETHERTYPE_ARP : ETHERTYPE_IPV6,
      filter: arp ? arpFilter : neighborDiscoveryFilter,
      onFrame: (frame, packetType) => this.#onFrame(link, protocol, frame, packetType),
      onError: (error) => this.#onSocketError(link, protocol, error),
    });
    if (!result.ok) return result.error;
    if (arp) link.arp = result.value;
    else link.ndp = result.value;
    return null;
  }

  #onFrame(link: Link, protocol: L2Protocol, frame: Uint8Array, packetType: number): void {
    this.#checkFence();
    const socket = protocol === 'arp' ? link.arp : link.ndp;
    if (socket === null) return;
    const identity = { name: link.name, mac: socket.mac };
    const decision =
      protocol === 'arp'
        ? answerArp(frame, packetType, identity, this.#answering, this.#held)
        : answerNeighborSolicitation(frame, packetType, identity, this.#answering, this.#held);
    this.#act(link.name, protocol, socket, decision);
  }

  #act(interfaceName: string, protocol: L2Protocol, socket: PacketSocket, decision: ResponderDecision): void {
    switch (decision.kind) {
      case 'reply': {
        this.#counters.requestReceived(protocol, decision.ip.text, interfaceName);
        const sent = this.#replyOnVerdict(socket, decision.frame, decision.ip.text);
        if (sent.ok) this.#counters.replySent(protocol, decision.ip.text, interfaceName);
        else this.#counters.sendFailed(protocol, sent.error, interfaceName);
        return;
      }
      case 'claim': {
        const mac = formatMac(decision.mac);
        this.#counters.foreignAnnouncement(protocol, decision.ip.text, interfaceName);
        this.#run(this.#claims.claimSeen(decision.ip.text, mac, this.#peerOfMac(mac), formatMac(socket.mac), this.#now()), interfaceName);
        this.#refresh();
        return;
      }
      case 'garbled':
        this.#counters.garbled(protocol, decision.failure.reason, interfaceName);
        return;
      case 'ignore':
        return;
    }
  }

  /** Carries out what claims.ts decided, then sets the timer for its next deadline. */
  #run(actions: readonly ClaimAction[], interfaceName = ''): void {
    for (const action of actions) {
      switch (action.type) {
        case 'probe':
          this.#probe(action.ip);
          break;
        case 'announce':
          // #refresh starts the takeover announcements of every IP that becomes answered.
          break;
        case 'defend': {
          // Only what we answer now (not fenced): announcing what we do not answer would pull traffic into a hole.
          const announcement = this.#announcements.get(action.ip);
          if (announcement && this.#claims.answering(action.ip, this.#fenced)) this.#announce(announcement);
          break;
        }
        case 'conflict':
          this.#onEvent({ type: 'conflict', ip: action.ip, mac: action.mac, peer: action.peer, outcome: action.outcome, interfaceName });
          break;
        case 'resumed':
          this.#onEvent({ type: 'resumed', ip: action.ip });
          break;
      }
    }
    this.#armClaimTimer();
  }

  #armClaimTimer(): void {
    if (this.#claimTimer !== undefined) this.#timers.clear(this.#claimTimer);
    this.#claimTimer = undefined;
    const next = this.#claims.nextDeadline();
    if (next === undefined || this.#closed) return;
    this.#claimTimer = this.#timers.set(() => {
      this.#claimTimer = undefined;
      this.#checkFence();
      this.#run(this.#claims.tick(this.#now()));
      this.#refresh();
    }, Math.max(0, next - this.#now()));
  }

  /**
   * Rebuilds the answer tables from the claims and the fence; starts or stops
   * takeover announcements for IPs whose answering changed.
   */
  #refresh(): void {
    const table = this.#claims.table;
    const answering = new Map<string, AllowedInterfaces>();
    const held = new Map<string, AllowedInterfaces>();
    for (const [text, entry] of table) {
      held.set(text, entry.allowed);
      if (this.#claims.answering(text, this.#fenced)) answering.set(text, entry.allowed);
    }
    for (const [text, announcement] of this.#announcements) {
      const allowed = answering.get(text);
      if (allowed === undefined || !sameAllowedInterfaces(allowed, announcement.allowed)) this.#stopAnnouncing(text);
    }
    for (const [text, allowed] of answering) {
      const before = this.#answering.get(text);
      // Answered before and still: keep the running schedule (or its finished state). Newly answered
      // (taken over, resumed, unfenced) or on other interfaces now: announce.
      if (before !== undefined && sameAllowedInterfaces(before, allowed)) continue;
      this.#startAnnouncing(text);
    }
    this.#answering = answering;
    this.#held = held;
    this.#syncMulticast();
  }

  /**
   * Until when a frame answering or announcing `text` may leave: an agreed IP is ours only while the
   * unfenced verdict holds. The socket checks it just before the syscall, so a thread frozen between
   * deciding and sending (seen: docker pause, the cgroup freezer under CPU load) does not answer
   * after the thaw on what it knew before. Probe-first IPs do not rest on the fence.
   */
  #notAfter(text: string): number | undefined {
    const mode = this.#claims.table.get(text)?.mode;
    if (mode === undefined || mode === 'probe-first' || this.#fenceUntil === Infinity) return undefined;
    return this.#fenceUntil;
  }

  /**
   * Sends a reply for `text` under the verdict's deadline. Refused because the verdict ran out since it
   * was checked (most often by a fraction of a millisecond, on a busy thread), the verdict is judged
   * again, and the reply goes out only if the IP is still answered under the new one. A renewed verdict
   * can itself end within microseconds (its end is the next instant any of its inputs changes, whether
   * or not that flips it): a few rounds, each past one such instant.
   */
  #replyOnVerdict(socket: PacketSocket, frame: Uint8Array, text: string): Result<void, string> {
    let sent = socket.send(frame, this.#notAfter(text));
    for (let round = 0; round < 3 && !sent.ok && sent.error === 'ETIME'; round++) {
      this.#checkFence();
      if (!this.#answering.has(text)) break;
      sent = socket.send(frame, this.#notAfter(text));
    }
    return sent;
  }

  /** Before anything is answered or announced: a verdict past its validity is judged again, or fences. */
  #checkFence(): void {
    if (this.#fenced || this.#judgingFence || this.#now() < this.#fenceUntil) return;
    const before = this.#verdicts;
    this.#judgingFence = true;
    try {
      this.#onFenceDue();
    } finally {
      this.#judgingFence = false;
    }
    // No new verdict: fenced until one comes.
    if (this.#verdicts === before && !this.#fenced) this.setFenced(true);
  }

  #onSocketError(link: Link, protocol: L2Protocol, error: SocketError): void {
    this.#onEvent({ type: 'socket-error', interfaceName: link.name, protocol, error });
    if (!error.fatal) return;
    // Dropped now; the next setInterfaces (the speaker's periodic rescan) reopens it.
    if (protocol === 'arp') {
      link.arp?.close();
      link.arp = null;
    } else {
      this.#closeNdp(link);
    }
  }

  #closeLink(link: Link): void {
    link.arp?.close();
    link.arp = null;
    this.#closeNdp(link);
    this.#links.delete(link.name);
  }

  /** Closing the socket drops its group memberships; forget them so a new socket joins again. */
  #closeNdp(link: Link): void {
    link.ndp?.close();
    link.ndp = null;
    for (const [key, membership] of this.#joined) if (membership.interfaceName === link.name) this.#joined.delete(key);
  }

  #parse(text: string): IPAddress {
    const ip = parseIP(text);
    if (!ip.ok) throw new Error(`ownership table key "${text}" is not an IP address: ${ip.error}`);
    return ip.value;
  }

  #startAnnouncing(text: string): void {
    const ip = this.#parsed.get(text);
    const allowed = this.#claims.table.get(text)?.allowed;
    if (ip === undefined || allowed === undefined) return;
    this.#stopAnnouncing(text);
    const announcement: Announcement = { ip, allowed, takeoverAt: this.#now(), timer: undefined };
    this.#announcements.set(text, announcement);
    if ((this.#policy.burstMs[0] ?? 0) === 0) this.#announce(announcement);
    this.#scheduleNext(announcement, announcement.takeoverAt);
  }

  #restartAnnouncementsOn(interfaceName: string): void {
    for (const [text, allowed] of this.#answering) if (allowsInterface(allowed, interfaceName)) this.#startAnnouncing(text);
  }

  #stopAnnouncing(text: string): void {
    const announcement = this.#announcements.get(text);
    if (announcement === undefined) return;
    if (announcement.timer !== undefined) this.#timers.clear(announcement.timer);
    this.#announcements.delete(text);
  }

  #scheduleNext(announcement: Announcement, after: number): void {
    const next = nextAnnouncement(this.#policy, announcement.takeoverAt, after);
    if (next === null) {
      announcement.timer = undefined;
      return;
    }
    announcement.timer = this.#timers.set(() => {
      // First: a fence that ran out stops this announcement (#refresh drops it).
      this.#checkFence();
      if (this.#announcements.get(announcement.ip.text) !== announcement) return;
      const now = this.#now();
      this.#announce(announcement);
      this.#scheduleNext(announcement, Math.max(now, next));
    }, Math.max(0, next - this.#now()));
  }

  #announce({ ip, allowed }: Announcement): void {
    for (const link of this.#links.values()) {
      if (!allowsInterface(allowed, link.name)) continue;
      const protocol: L2Protocol = ip.family === 4 ? 'arp' : 'ndp';
      const socket = ip.family === 4 ? link.arp : link.ndp;
      if (socket === null) continue;
      const frames = ip.family === 4 ? buildGratuitousArp(ip, socket.mac) : [buildUnsolicitedAdvertisement(ip, socket.mac)];
      let allSent = true;
      for (const frame of frames) {
        // Refused (ETIME), an announcement is not retried here (this may run inside #refresh): the schedule sends more.
        const sent = socket.send(frame, this.#notAfter(ip.text));
        if (!sent.ok) {
          allSent = false;
          this.#counters.sendFailed(protocol, sent.error, link.name);
        }
      }
      if (allSent) this.#counters.gratuitousSent(protocol, ip.text, link.name);
    }
  }

  /** One probe for `text` on every link it is held on (RFC 5227 ARP probe / RFC 4862 DAD solicitation). */
  #probe(text: string): void {
    const ip = this.#parsed.get(text);
    const allowed = this.#claims.table.get(text)?.allowed;
    if (ip === undefined || allowed === undefined) return;
    for (const link of this.#links.values()) {
      if (!allowsInterface(allowed, link.name)) continue;
      const socket = ip.family === 4 ? link.arp : link.ndp;
      if (socket === null) continue;
      const sent = socket.send(ip.family === 4 ? buildArpProbe(ip, socket.mac) : buildDadProbe(ip, socket.mac));
      if (!sent.ok) this.#counters.sendFailed(ip.family === 4 ? 'arp' : 'ndp', sent.error, link.name);
    }
  }

  /** Joins the solicited-node group of every held IPv6 address on every NDP link allowed for it; leaves the rest. */
  #syncMulticast(): void {
    const wanted = new Map<string, { group: IPAddress; interfaceName: string }>();
    for (const [text, allowed] of this.#held) {
      const ip = this.#parsed.get(text);
      if (ip === undefined || ip.family !== 6) continue;
      const group = solicitedNodeMulticast(ip);
      for (const link of this.#links.values()) {
        if (link.ndp !== null && allowsInterface(allowed, link.name)) wanted.set(`${group.text}%${link.name}`, { group, interfaceName: link.name });
      }
    }
    for (const [key, membership] of this.#joined) {
      if (wanted.has(key)) continue;
      this.#joined.delete(key);
      this.#membership('leave', membership.group, membership.interfaceName);
    }
    for (const [key, membership] of wanted) {
      if (this.#joined.has(key)) continue;
      this.#joined.set(key, membership);
      this.#membership('join', membership.group, membership.interfaceName);
    }
  }

  #membership(op: 'join' | 'leave', group: IPAddress, interfaceName: string): void {
    // A closed socket has already dropped its memberships with its fds.
    const socket = this.#links.get(interfaceName)?.ndp;
    if (socket == null) return;
    // The kernel join programs the NIC filter and sends MLD reports; the
    // link-layer membership keeps the NIC filter right even where the kernel
    // join fails (IPv6 disabled on the interface).
    const mac = multicastMacFor(group);
    const results = op === 'join' ? [socket.joinGroup(group), socket.addMembership(mac)] : [socket.leaveGroup(group), socket.dropMembership(mac)];
    for (const result of results) {
      if (!result.ok) this.#onEvent({ type: 'multicast-error', interfaceName, group: group.text, op, code: result.error });
    }
  }
}
