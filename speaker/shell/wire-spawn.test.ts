import { describe, expect, it } from 'vitest';
import { spawnWireWorker, WORKER_URL, wireWorkerData } from './wire-spawn.ts';
import { WIRE_WORKER_URL } from './wire-worker.ts';

describe('spawnWireWorker', () => {
  it('finds the worker module without loading it', () => {
    expect(WORKER_URL).toBe(WIRE_WORKER_URL);
  });

  it('keeps what a worker posted before anyone listened, and hands it over in order', async () => {
    const spawned = spawnWireWorker(wireWorkerData({ node: 'early', intervalMs: 100, port: 7947 }));
    try {
      // A new worker posts its first liveness snapshot by itself, long before this.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const seen: string[] = [];
      const first = new Promise<string>((resolve) => {
        spawned.listen({ message: (m) => { seen.push(m.type); resolve(m.type); }, error: () => undefined, exit: () => undefined });
      });
      expect(await first).toBe('liveness');
      expect(seen[0]).toBe('liveness');
      expect(() => spawned.listen({ message: () => undefined, error: () => undefined, exit: () => undefined })).toThrow(/already/);
    } finally {
      await spawned.worker.terminate();
    }
  });
});
