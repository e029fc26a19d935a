// Our own heartbeats: one boot id per process, a sequence that only grows.
import type { Heartbeat } from './heartbeat.ts';

export interface BeatSourceOptions {
  readonly node: string;
  /** 16 random bytes as hex, drawn by the shell when the process starts. */
  readonly bootId: string;
  readonly intervalMs: number;
}

export class BeatSource {
  readonly #options: BeatSourceOptions;
  #sequence = 0;

  constructor(options: BeatSourceOptions) {
    this.#options = options;
  }

  /** `sentAt` is the wall clock (ms since the epoch); `joining` while Membership.listening, `leaving` on shutdown. */
  next(sentAt: number, state: { joining?: boolean; leaving?: boolean } = {}): Heartbeat {
    const { node, bootId, intervalMs } = this.#options;
    return { node, bootId, intervalMs, sequence: this.#sequence++, sentAt: Math.floor(sentAt), joining: state.joining ?? false, leaving: state.leaving ?? false };
  }
}
