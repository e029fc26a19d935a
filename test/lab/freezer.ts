// Freezes a process the way `docker pause` does: with the cgroup freezer. How
// a speaker wakes depends on where the freeze caught its threads. One waiting
// in epoll_wait wakes with EINTR, and libuv runs the timers that fell due
// before it polls again. One that was running finishes its turn, and its next
// poll (zero timeout, timers being due) returns the sockets that filled
// meanwhile, so their callbacks run before any timer. CPU load makes the
// second case common (faults: "frozen 10 times under CPU load").
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { waitFor } from './exec.ts';

const PREFIX = 'ballast-lab-';

/** A freezer hierarchy: where groups go, how one is frozen and thawed, and where a process goes back to. */
interface Hierarchy {
  readonly root: string;
  readonly file: string;
  readonly frozen: string;
  readonly thawed: string;
  isFrozen(dir: string): boolean;
  /** The group a process returns to when its own is removed. */
  home(pid: number): string;
}

/** cgroup v1's freezer controller; processes go back to its root, where the lab's start. */
const V1: Hierarchy = {
  root: '/sys/fs/cgroup/freezer',
  file: 'freezer.state',
  frozen: 'FROZEN',
  thawed: 'THAWED',
  isFrozen: (dir) => readFileSync(join(dir, 'freezer.state'), 'utf8').trim() === 'FROZEN',
  home: () => '/sys/fs/cgroup/freezer',
};

/** cgroup v2 (/sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one), if mounted. */
function v2(): Hierarchy | undefined {
  const root = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].find((r) => existsSync(join(r, 'cgroup.procs')) && existsSync(join(r, 'cgroup.subtree_control')));
  if (root === undefined) return undefined;
  return {
    root,
    file: 'cgroup.freeze',
    frozen: '1',
    thawed: '0',
    isFrozen: (dir) => /^frozen 1$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8')),
    home: (pid) => join(root, readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3).trim() ?? '/'),
  };
}

export interface FrozenProcess {
  /** Thaws the process and puts it back where it was; harmless when called twice. */
  thaw(): Promise<void>;
}

/** Moves pid into a new freezer group and freezes it; resolves once the kernel says it is frozen. */
export async function freezeProcess(pid: number, label: string): Promise<FrozenProcess> {
  const h = existsSync(V1.root) ? V1 : v2();
  if (h === undefined) throw new Error('no cgroup freezer here: neither /sys/fs/cgroup/freezer (v1) nor a cgroup v2 mount');
  const home = h.home(pid);
  // Named after this process: sweepFrozenGroups thaws what a run that died left frozen.
  const dir = join(h.root, `${PREFIX}${process.pid}-${label}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir);
  try {
    writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    writeFileSync(join(dir, h.file), h.frozen);
    await waitFor(`pid ${pid} frozen`, () => h.isFrozen(dir), { timeoutMs: 5_000, intervalMs: 5 });
  } catch (e) {
    // Never leave a process half-frozen behind a failed freeze.
    release(h, dir, home);
    throw e;
  }
  let thawed = false;
  return {
    thaw: async () => {
      if (thawed) return;
      release(h, dir, home);
      thawed = true;
    },
  };
}

/** Thaws a group, moves whatever is in it to `home`, and removes it. */
function release(h: Hierarchy, dir: string, home: string): void {
  writeFileSync(join(dir, h.file), h.thawed);
  for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
    try {
      writeFileSync(join(home, 'cgroup.procs'), pid);
    } catch (e) {
      // Exited meanwhile: nothing to move.
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
  rmdirSync(dir);
}

/**
 * Thaws and removes the freezer groups of runs that are gone (a test killed
 * mid-fault would leave its speaker frozen: SIGKILL waits for the thaw).
 * Returns the groups removed.
 */
export function sweepFrozenGroups(): string[] {
  const swept: string[] = [];
  for (const h of [V1, v2()]) {
    if (h === undefined || !existsSync(h.root)) continue;
    for (const name of readdirSync(h.root)) {
      const owner = name.startsWith(PREFIX) ? Number(name.slice(PREFIX.length).split('-')[0]) : NaN;
      if (!Number.isInteger(owner) || existsSync(`/proc/${owner}`)) continue;
      try {
        release(h, join(h.root, name), h.root);
        swept.push(join(h.root, name));
      } catch {
        // Another sweep got there first, or a process is on its way out: the next sweep tries again.
      }
    }
  }
  return swept;
}
