// A small discrete-event LAN for the liveness core: speakers beat on their own
// phase, frames take a delay and are delivered or dropped per directed link,
// and each speaker's view is its members as of its last beat (the main thread
// re-elects at once). Time is virtual, so property tests replay any timing.
import { BeatSource } from './beat-source.ts';
import { DEFAULT_INTERVAL_MS, Membership } from './membership.ts';
import type { Heartbeat } from './heartbeat.ts';

export interface SimOptions {
  readonly names: readonly string[];
  /** Each speaker's first beat (0 ≤ phase < interval). */
  readonly phases?: readonly number[];
  readonly delayMs?: number;
  readonly intervalMs?: number;
}

export class SimSpeaker {
  readonly name: string;
  membership: Membership;
  source: BeatSource;
  incarnation: string;
  nextBeat: number;
  alive = true;

  constructor(name: string, incarnation: string, now: number, firstBeat: number, intervalMs: number) {
    this.name = name;
    this.incarnation = incarnation;
    this.membership = new Membership({ self: name, incarnation, startedAt: now, intervalMs });
    this.source = new BeatSource({ node: name, incarnation, firstSequence: parseInt(incarnation.slice(0, 8), 16), intervalMs });
    this.nextBeat = firstBeat;
  }

  /** The view our ownership is elected over: ourselves and our members. */
  view(now: number): Set<string> {
    return new Set([this.name, ...this.membership.members(now)]);
  }
}

export class Sim {
  now = 0;
  readonly speakers = new Map<string, SimSpeaker>();
  readonly intervalMs: number;
  readonly #delay: number;
  /** "a>b" present: frames from a to b are dropped. */
  readonly cut = new Set<string>();
  #queue: Array<{ at: number; to: string; beat: Heartbeat }> = [];
  #restarts = 0;

  constructor(opts: SimOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.#delay = opts.delayMs ?? 0.2;
    opts.names.forEach((name, i) => {
      const phase = opts.phases?.[i] ?? 0;
      this.speakers.set(name, new SimSpeaker(name, incarnationOf(name, 0), 0, phase, this.intervalMs));
    });
  }

  get(name: string): SimSpeaker {
    const s = this.speakers.get(name);
    if (!s) throw new Error(`no speaker ${name}`);
    return s;
  }

  /** A process restart: a new incarnation that listens again, first beat one interval from now. */
  restart(name: string): void {
    const old = this.get(name);
    this.speakers.set(name, new SimSpeaker(name, incarnationOf(name, ++this.#restarts), this.now, this.now + this.intervalMs, this.intervalMs));
    old.alive = false;
  }

  crash(name: string): void {
    this.get(name).alive = false;
  }

  cutLink(from: string, to: string): void {
    this.cut.add(`${from}>${to}`);
  }

  cutBoth(a: string, b: string): void {
    this.cutLink(a, b);
    this.cutLink(b, a);
  }

  /** Every link to and from `name`. */
  isolate(name: string): void {
    for (const other of this.speakers.keys()) if (other !== name) this.cutBoth(name, other);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Runs until `until`, calling `observe` after every event (a beat sent or received). */
  run(until: number, observe: (now: number) => void = () => {}): void {
    for (;;) {
      const beater = [...this.speakers.values()].filter((s) => s.alive).sort((a, b) => a.nextBeat - b.nextBeat)[0];
      const frame = this.#queue[0];
      const nextBeatAt = beater?.nextBeat ?? Infinity;
      const nextFrameAt = frame?.at ?? Infinity;
      // Deadlines are events too: an observer sees every change when it happens.
      let nextDeadline = Infinity;
      for (const sp of this.speakers.values()) if (sp.alive) nextDeadline = Math.min(nextDeadline, sp.membership.nextDeadline(this.now) ?? Infinity);
      const at = Math.min(nextBeatAt, nextFrameAt, nextDeadline);
      if (at > until) break;
      this.now = at;
      if (at === nextDeadline && at < nextBeatAt && at < nextFrameAt) {
        observe(this.now);
        continue;
      }
      if (nextFrameAt <= nextBeatAt) {
        this.#queue.shift();
        const to = this.speakers.get(frame!.to);
        if (to?.alive) to.membership.receive(frame!.beat, this.now);
      } else {
        this.#beat(beater!);
      }
      observe(this.now);
    }
    this.now = until;
    observe(until);
  }

  #beat(s: SimSpeaker): void {
    const now = this.now;
    const beat = s.source.next({
      state: s.membership.listening(now) ? 'joining' : 'active',
      leaseMs: 0,
      macs: [],
      truncated: false,
      peers: s.membership.peerEntries(now, s.view(now)),
    });
    s.membership.sent(beat.sequence, now);
    for (const other of this.speakers.values()) {
      if (other === s || this.cut.has(`${s.name}>${other.name}`)) continue;
      this.#queue.push({ at: now + this.#delay, to: other.name, beat });
    }
    this.#queue.sort((a, b) => a.at - b.at);
    s.nextBeat = now + this.intervalMs;
  }
}

function incarnationOf(name: string, generation: number): string {
  let h = 2166136261;
  for (const c of `${name}#${generation}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return (h.toString(16).padStart(8, '0') + generation.toString(16).padStart(8, '0')).slice(0, 16);
}
