// Freezes a process the way `docker pause` does: with the cgroup freezer, not
// SIGSTOP. The two wake a process differently. SIGSTOP/SIGCONT makes a
// blocking epoll_wait fail with EINTR, and libuv then runs the timers that fell
// due before it polls again. A frozen thread gets no signal: on thaw its
// epoll_wait simply returns the sockets that became readable meanwhile, and
// their callbacks run before any timer. Only the freezer is what a paused node
// (docker pause, a cgroup freeze, a stalled VM) does to a speaker.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { waitFor } from './exec.ts';

const V1_ROOT = '/sys/fs/cgroup/freezer';
const PREFIX = 'ballast-lab-';

export interface FrozenProcess {
  /** Thaws the process and puts it back where it was; harmless when called twice. */
  thaw(): Promise<void>;
}

/** The cgroup v2 mount: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one. */
function v2Root(): string | undefined {
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) if (existsSync(join(root, 'cgroup.procs')) && existsSync(join(root, 'cgroup.subtree_control'))) return root;
  return undefined;
}

/** Moves pid into a new freezer cgroup and freezes it; resolves once the kernel says it is frozen. */
export async function freezeProcess(pid: number, label: string): Promise<FrozenProcess> {
  // Named after this process: sweepFrozenGroups thaws what a run that died left frozen.
  const name = `${PREFIX}${process.pid}-${label}-${randomBytes(3).toString('hex')}`;
  if (existsSync(V1_ROOT)) return freezeV1(pid, join(V1_ROOT, name));
  const root = v2Root();
  if (root === undefined) throw new Error('no cgroup freezer here: neither /sys/fs/cgroup/freezer (v1) nor a cgroup v2 mount');
  return freezeV2(pid, root, name);
}

async function freezeV1(pid: number, dir: string): Promise<FrozenProcess> {
  mkdirSync(dir);
  writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  writeFileSync(join(dir, 'freezer.state'), 'FROZEN');
  await waitFor(`pid ${pid} frozen`, () => readFileSync(join(dir, 'freezer.state'), 'utf8').trim() === 'FROZEN', { timeoutMs: 5_000, intervalMs: 5 });
  let thawed = false;
  return {
    thaw: async () => {
      if (thawed) return;
      thawed = true;
      writeFileSync(join(dir, 'freezer.state'), 'THAWED');
      // Back to the hierarchy's root (where the lab's processes start), so the group can go.
      if (existsSync(`/proc/${pid}`)) writeFileSync(join(V1_ROOT, 'cgroup.procs'), String(pid));
      rmdirSync(dir);
    },
  };
}

async function freezeV2(pid: number, root: string, name: string): Promise<FrozenProcess> {
  const before = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3).trim() ?? '/';
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  writeFileSync(join(dir, 'cgroup.freeze'), '1');
  await waitFor(`pid ${pid} frozen`, () => /^frozen 1$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8')), { timeoutMs: 5_000, intervalMs: 5 });
  let thawed = false;
  return {
    thaw: async () => {
      if (thawed) return;
      thawed = true;
      writeFileSync(join(dir, 'cgroup.freeze'), '0');
      if (existsSync(`/proc/${pid}`)) writeFileSync(join(root, before, 'cgroup.procs'), String(pid));
      rmdirSync(dir);
    },
  };
}

/**
 * Thaws and removes the freezer groups of runs that are gone (a test killed
 * mid-fault would leave its speaker frozen: SIGKILL waits for the thaw).
 * Returns the groups removed.
 */
export function sweepFrozenGroups(): string[] {
  const swept: string[] = [];
  const v2 = v2Root();
  for (const [root, freeze, value, outTo] of [[V1_ROOT, 'freezer.state', 'THAWED', V1_ROOT], ...(v2 ? [[v2, 'cgroup.freeze', '0', v2]] : [])] as const) {
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root)) {
      const owner = name.startsWith(PREFIX) ? Number(name.slice(PREFIX.length).split('-')[0]) : NaN;
      if (!Number.isInteger(owner) || existsSync(`/proc/${owner}`)) continue;
      const dir = join(root, name);
      try {
        writeFileSync(join(dir, freeze), value);
        for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) writeFileSync(join(outTo, 'cgroup.procs'), pid);
        rmdirSync(dir);
        swept.push(dir);
      } catch {
        // Another sweep got there first, or a process is on its way out: the next sweep tries again.
      }
    }
  }
  return swept;
}
