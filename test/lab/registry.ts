// Crash safety: every lab writes down what it creates (namespaces, processes,
// temp dirs) before creating it, under a registry directory. A later lab start
// sweeps entries whose owner process is gone, so a run after a crash or
// SIGKILL starts clean. Entries of live owners (another lab running in
// parallel) are left alone.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runQuiet } from './exec.ts';
import { sweepFrozenGroups } from './freezer.ts';

export const NETNS_PREFIX = 'blab-';
const REGISTRY_DIR = process.env.BALLAST_LAB_REGISTRY ?? '/run/ballast-lab';

interface ProcRef {
  pid: number;
  start: string;
}

interface Entry {
  id: string;
  owner: ProcRef;
  tmpDirs: string[];
  namespaces: string[];
  processes: ProcRef[];
}

/** Process start time in clock ticks (field 22 of /proc/pid/stat): tells a live pid from a reused one. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const isAlive = (p: ProcRef): boolean => startTimeOf(p.pid) === p.start;

export class LabRegistry {
  private readonly entry: Entry;
  private readonly file: string;

  readonly id: string;

  constructor(id: string) {
    this.id = id;
    mkdirSync(REGISTRY_DIR, { recursive: true });
    this.file = join(REGISTRY_DIR, `${id}.json`);
    this.entry = { id, owner: { pid: process.pid, start: startTimeOf(process.pid) ?? '' }, tmpDirs: [], namespaces: [], processes: [] };
    this.save();
  }

  addNamespace(ns: string): void {
    this.entry.namespaces.push(ns);
    this.save();
  }
  addTmpDir(dir: string): void {
    this.entry.tmpDirs.push(dir);
    this.save();
  }
  addProcess(pid: number): void {
    const start = startTimeOf(pid);
    if (start !== undefined) this.entry.processes.push({ pid, start });
    this.save();
  }
  removeNamespace(ns: string): void {
    this.entry.namespaces = this.entry.namespaces.filter((n) => n !== ns);
    this.save();
  }

  /** Called after a clean teardown. */
  close(): void {
    rmSync(this.file, { force: true });
  }

  // Atomically (a rename): a sweep in another process that read a half-written file would take it for garbage,
  // delete it, and then sweep this lab's namespaces as unclaimed.
  private save(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.entry));
    renameSync(tmp, this.file);
  }
}

/** Removes everything left behind by labs whose owner died, and lab namespaces nobody claims. */
export async function sweepStaleLabs(): Promise<string[]> {
  const swept: string[] = sweepFrozenGroups();
  const claimed = new Set<string>();
  if (existsSync(REGISTRY_DIR)) {
    for (const name of readdirSync(REGISTRY_DIR)) {
      if (!name.endsWith('.json')) continue;
      const file = join(REGISTRY_DIR, name);
      let entry: Entry;
      try {
        entry = JSON.parse(readFileSync(file, 'utf8')) as Entry;
      } catch {
        // Unreadable: written by an older run without the atomic rename, or gone meanwhile. Leave young ones.
        try {
          if (Date.now() - statSync(file).mtimeMs > 60_000) rmSync(file, { force: true });
        } catch {
          // gone
        }
        continue;
      }
      if (isAlive(entry.owner)) {
        entry.namespaces.forEach((ns) => claimed.add(ns));
        continue;
      }
      for (const p of entry.processes) if (isAlive(p)) process.kill(p.pid, 'SIGKILL');
      for (const ns of entry.namespaces) if (await runQuiet(['ip', 'netns', 'delete', ns])) swept.push(ns);
      for (const dir of entry.tmpDirs) rmSync(dir, { recursive: true, force: true });
      rmSync(file, { force: true });
    }
  }
  const listed = await run(['ip', 'netns', 'list']).catch(() => '');
  for (const line of listed.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    if (ns.startsWith(NETNS_PREFIX) && !claimed.has(ns)) {
      await killProcessesIn(ns);
      if (await runQuiet(['ip', 'netns', 'delete', ns])) swept.push(ns);
    }
  }
  return swept;
}

/** Kills every process whose network namespace is ns (they would keep it alive as a zombie namespace). */
export async function killProcessesIn(ns: string): Promise<void> {
  const pids = await run(['ip', 'netns', 'pids', ns]).catch(() => '');
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
