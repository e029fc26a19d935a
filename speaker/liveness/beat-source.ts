// Our own heartbeats: one incarnation per wire-worker start, a sequence that
// starts at random and only grows (mod 2^32). A restarted worker is a new
// incarnation, so nothing it says is mistaken for, or ordered against, what
// the previous one said.
import type { Heartbeat, PeerEntry, PeerState } from './heartbeat.ts';

export interface BeatSourceOptions {
  readonly node: string;
  /** 8 random bytes as hex, drawn when the wire worker starts. */
  readonly incarnation: string;
  /** Where the sequence starts (random, so an old incarnation's acknowledgements match nothing of this one). */
  readonly firstSequence: number;
  readonly intervalMs: number;
}

export interface BeatContent {
  readonly state: PeerState;
  readonly leaseMs: number;
  readonly macs: readonly string[];
  readonly peers: readonly PeerEntry[];
  readonly truncated: boolean;
}

export class BeatSource {
  readonly #options: BeatSourceOptions;
  #sequence: number;

  constructor(options: BeatSourceOptions) {
    this.#options = options;
    this.#sequence = options.firstSequence >>> 0;
  }

  next(content: BeatContent): Heartbeat {
    const { node, incarnation, intervalMs } = this.#options;
    const sequence = this.#sequence;
    this.#sequence = (this.#sequence + 1) >>> 0;
    return { node, incarnation, intervalMs, sequence, ...content };
  }
}
