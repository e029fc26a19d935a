import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiError } from '../api-error.ts';
import { LivenessMonitor } from './liveness.ts';

const refused: ApiError = { code: undefined, reason: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:6443' };

function setup() {
  const probes: Array<{ timeoutMs: number; answer: (failure: ApiError | undefined) => void }> = [];
  const monitor = new LivenessMonitor(
    { idleMs: 5_000, probeTimeoutMs: 3_000 },
    {
      now: () => Date.now(),
      probe: (timeoutMs) => new Promise((answer) => probes.push({ timeoutMs, answer })),
    },
  );
  const aborted: ApiError[] = [];
  const watcher = { abort: (why: ApiError) => void aborted.push(why) };
  return { monitor, probes, aborted, watcher };
}

describe('LivenessMonitor', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('probes only while watches are open and the API server has been silent for idleMs', async () => {
    const { monitor, probes, watcher } = setup();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(probes).toHaveLength(0); // no watches: nothing to protect
    // Silence counts from the first watch on: the server had no reason to send anything before.
    const unwatch = monitor.watch(watcher);
    await vi.advanceTimersByTimeAsync(4_000);
    monitor.heard(); // a bookmark, an event, any response
    await vi.advanceTimersByTimeAsync(4_999);
    expect(probes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(probes.map((p) => p.timeoutMs)).toEqual([3_000]);
    unwatch();
    probes[0]!.answer(undefined);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(probes).toHaveLength(1);
  });

  it('an answered probe counts as hearing from the server: the next one waits another idleMs, and nothing is aborted', async () => {
    const { monitor, probes, aborted, watcher } = setup();
    monitor.watch(watcher);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(probes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    probes[0]!.answer(undefined);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(probes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(probes).toHaveLength(2);
    expect(aborted).toEqual([]);
  });

  it('a failed probe ends every open watch, saying how long the server was silent and what the probe got', async () => {
    const { monitor, probes, aborted, watcher } = setup();
    const other: ApiError[] = [];
    monitor.watch(watcher);
    monitor.watch({ abort: (why) => void other.push(why) });
    await vi.advanceTimersByTimeAsync(5_000);
    await vi.advanceTimersByTimeAsync(3_000);
    probes[0]!.answer({ code: undefined, reason: 'Timeout', message: 'no answer within 3000 ms' });
    await vi.advanceTimersByTimeAsync(0);
    expect(aborted).toEqual([{ code: undefined, reason: 'Unresponsive', message: 'the API server sent nothing for 8000 ms, and a probe got no response (Timeout): no answer within 3000 ms' }]);
    expect(other).toEqual(aborted);
  });

  it('anything heard while the probe was out proves the server alive, whatever the probe got', async () => {
    const { monitor, probes, aborted, watcher } = setup();
    monitor.watch(watcher);
    await vi.advanceTimersByTimeAsync(5_000);
    await vi.advanceTimersByTimeAsync(100);
    monitor.heard();
    probes[0]!.answer(refused);
    await vi.advanceTimersByTimeAsync(0);
    expect(aborted).toEqual([]);
  });

  it('one probe at a time, however many watches wait', async () => {
    const { monitor, probes, watcher } = setup();
    for (let i = 0; i < 5; i++) monitor.watch(watcher);
    monitor.watch({ abort: () => {} });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(probes).toHaveLength(1);
  });

  it('refuses settings that would probe constantly or never', () => {
    expect(() => new LivenessMonitor({ idleMs: 0 }, { now: Date.now, probe: async () => undefined })).toThrow(/invalid liveness options/);
  });
});
