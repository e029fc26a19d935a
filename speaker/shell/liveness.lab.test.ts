// Liveness on a real LAN of two namespaces: a stalled main thread costs no
// false failover (the wire worker keeps beating, and deadlines are
// judged after its sockets are read dry), while a stopped process, or a main
// thread stalled past the limit, does let the peer take over.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lan, sleep, waitFor, type LabNode, type ManagedProcess } from '../../test/lab/index.ts';

const script = fileURLToPath(new URL('./lab/liveness-process.ts', import.meta.url));
const key = randomBytes(32).toString('hex');
let lan: Lan;

interface Line {
  at: number;
  alive?: string[];
  blocking?: number;
  unblocked?: boolean;
}

const lines = (p: ManagedProcess): Line[] =>
  readFileSync(p.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

function start(node: LabNode, blockMs: number): ManagedProcess {
  return lan.spawn(node, `liveness-${blockMs}`, [process.execPath, script, node.name, node.iface, key, String(blockMs)]);
}

async function bothAlive(a: ManagedProcess, b: ManagedProcess): Promise<void> {
  const both = [...lan.nodes.map((n) => n.name)].sort().join(',');
  await waitFor('both to see each other', () => [a, b].every((p) => lines(p).at(-1)?.alive?.join(',') === both), { timeoutMs: 5_000, intervalMs: 50 });
}

/** Alive sets a process reported after `since` (ms since the epoch). */
const changesSince = (p: ManagedProcess, since: number): string[] => lines(p).filter((l) => l.at > since && l.alive).map((l) => l.alive!.join(','));

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces, AF_PACKET)');
  lan = await Lan.create({ nodes: 2, nodeNamePrefix: `live-${randomBytes(2).toString('hex')}-` });
});

afterAll(async () => {
  await lan?.destroy();
});

/** Runs `body` with a speaker's liveness on each node (b blocks its main thread for `blockB` ms on SIGUSR2), both seeing each other. */
async function withPair(blockB: number, body: (a: ManagedProcess, b: ManagedProcess, names: [string, string]) => Promise<void>): Promise<void> {
  const [na, nb] = lan.nodes as [LabNode, LabNode];
  const a = start(na, 1_000);
  const b = start(nb, blockB);
  try {
    await bothAlive(a, b);
    await body(a, b, [na.name, nb.name]);
  } finally {
    b.kill('SIGCONT');
    await Promise.all([a.stop(), b.stop()]);
  }
}

describe('liveness under a stalled event loop', () => {
  it('a main thread blocked for 1 s (well past the 350 ms window) costs no failover on either side', async () => {
    await withPair(1_000, async (a, b) => {
      const since = Date.now();
      b.kill('SIGUSR2');
      await waitFor('b to unblock', () => lines(b).some((l) => l.unblocked), { timeoutMs: 5_000 });
      await sleep(500);
      expect(lines(b).some((l) => l.blocking === 1_000)).toBe(true);
      // Neither saw the other go: b's beats kept flowing from its worker; b's
      // expired deadline for a was judged only after a's queued beats were read.
      expect(changesSince(a, since)).toEqual([]);
      expect(changesSince(b, since)).toEqual([]);
    });
  });

  it('a stopped process is declared dead by its peer (the test above could fail)', async () => {
    await withPair(1_000, async (a, b, [na, nb]) => {
      const since = Date.now();
      b.kill('SIGSTOP');
      await sleep(1_000);
      b.kill('SIGCONT');
      await sleep(800);
      expect(changesSince(a, since)).toEqual([na, [na, nb].sort().join(',')]);
    });
  });

  it('a main thread stalled past 2 s stops the beats, so the peer takes over; it rejoins after listening', async () => {
    await withPair(3_000, async (a, b, [na, nb]) => {
      const since = Date.now();
      b.kill('SIGUSR2');
      await waitFor('b to unblock', () => lines(b).some((l) => l.unblocked), { timeoutMs: 6_000 });
      await bothAlive(a, b);
      const seenByA = lines(a).filter((l) => l.at > since && l.alive);
      expect(seenByA.map((l) => l.alive!.join(','))).toEqual([na, [na, nb].sort().join(',')]);
      // Dropped after the 2 s stall limit plus the 350 ms window, not before.
      const dropped = seenByA[0]!.at - since;
      expect(dropped).toBeGreaterThan(2_000);
      expect(dropped).toBeLessThan(3_000);
    });
  });
});
