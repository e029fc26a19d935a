// The packet-socket addon's error paths, in a throwaway network namespace.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NS = `bl2-${randomBytes(3).toString('hex')}-sock`;
const run = (...args: string[]): string => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const script = fileURLToPath(new URL('./lab/socket-checks.ts', import.meta.url));
const teardown = (): void => {
  try {
    run('ip', 'netns', 'del', NS);
  } catch {
    // Not there.
  }
};

beforeAll(() => {
  teardown();
  try {
    run('ip', 'netns', 'add', NS);
    run('ip', '-n', NS, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0');
    run('ip', '-n', NS, 'link', 'set', 'a0', 'up');
    run('ip', '-n', NS, 'link', 'set', 'b0', 'up');
  } catch (e) {
    teardown();
    throw e;
  }
});
afterAll(teardown);

describe('packet socket addon', () => {
  it('reports errno names as values, keeps send deadlines, and survives links going down, up and away', () => {
    const result = JSON.parse(run('ip', 'netns', 'exec', NS, process.execPath, script)) as Record<string, unknown>;
    expect(result).toEqual({
      missingInterface: 'ENODEV',
      longName: 'EINVAL',
      sendUp: true,
      receivedUp: 1,
      sendBeforeDeadline: true,
      sendAfterDeadline: 'ETIME',
      receivedWithDeadlines: 1,
      sendWhileDown: 'ENETDOWN',
      receiverErrorsWhileDown: ['ENETDOWN'],
      sendAfterUp: true,
      receivedAfterUp: 1,
      sendAfterDelete: 'ENXIO',
      sendAfterClose: 'EBADF',
    });
  });

  it('drains queued frames synchronously, and closes the sockets of a terminated worker thread', () => {
    const drain = fileURLToPath(new URL('./lab/drain-checks.ts', import.meta.url));
    run('ip', '-n', NS, 'link', 'add', 'c0', 'type', 'veth', 'peer', 'name', 'd0');
    run('ip', '-n', NS, 'link', 'set', 'c0', 'up');
    run('ip', '-n', NS, 'link', 'set', 'd0', 'up');
    const result = JSON.parse(run('ip', 'netns', 'exec', NS, process.execPath, drain)) as Record<string, unknown>;
    expect(result).toMatchObject({ beforeDrain: 0, afterDrain: 3, leftAfterTerminate: 0, survived: true });
    expect(result.openInWorker).toBe(2);
  });

  it('fails with EPERM, not a crash, without CAP_NET_RAW', () => {
    const code = `
      const { openPacketSocket } = await import(${JSON.stringify(fileURLToPath(new URL('./packet-socket.ts', import.meta.url)))});
      const r = openPacketSocket({ interfaceName: 'a0', etherType: 0x0806, onFrame() {}, onError() {} });
      console.log(r.ok ? 'opened' : r.error.code);`;
    // Still uid 0 (so the checkout is readable wherever it lives), but the
    // capability bounding set no longer holds CAP_NET_RAW, so node runs without it.
    const out = run('ip', 'netns', 'exec', NS, 'setpriv', '--inh-caps=-net_raw', '--bounding-set=-net_raw', process.execPath, '--input-type=module', '-e', code);
    expect(out.trim()).toBe('EPERM');
  });
});
