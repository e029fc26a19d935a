// Running host commands for the lab: short ones with their output, long-lived
// ones as managed children that die with us.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export class CommandError extends Error {
  readonly argv: readonly string[];
  readonly code: number | null;
  readonly stderr: string;
  constructor(argv: readonly string[], code: number | null, stderr: string) {
    super(`${argv.join(' ')} failed (exit ${code ?? 'signal'}): ${stderr.trim() || '(no output)'}`);
    this.argv = argv;
    this.code = code;
    this.stderr = stderr;
  }
}

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and keeps its exit code, stdout and stderr (kubectl prints API warnings on stderr even on success). Rejects only when it could not run or timed out. */
export function capture(argv: readonly string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Captured> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('capture: empty argv');
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 << 20, env: opts.env ?? process.env, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(new CommandError(argv, null, stderr || error.message));
        else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command to completion and returns its stdout; throws CommandError with stderr on failure. */
export async function run(argv: readonly string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await capture(argv, opts);
  if (r.code !== 0) throw new CommandError(argv, r.code, r.stderr);
  return r.stdout;
}

/** Like run, but never throws: for cleanup paths where "already gone" is fine. */
export async function runQuiet(argv: readonly string[]): Promise<boolean> {
  try {
    await run(argv);
    return true;
  } catch {
    return false;
  }
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  readonly running: boolean;
  /** SIGTERM, then SIGKILL after graceMs. Resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts a long-lived process whose output goes to logFile. It is started
 * under `setpriv --pdeathsig KILL`, so it dies with the process that started
 * it even if that one is SIGKILLed (the lab's crash safety; `ip netns exec`
 * execs the target in place, so the setting survives into it).
 */
export function startProcess(
  name: string,
  argv: readonly string[],
  opts: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string; append?: boolean },
): ManagedProcess {
  const log: WriteStream = createWriteStream(opts.logFile, { flags: opts.append ? 'a' : 'w' });
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', ...argv], {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let running = true;
  // 'close' comes after 'exit' once stdout/stderr are drained, so the log is complete.
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (e) => {
      running = false;
      log.end(`\n[lab] failed to start ${name}: ${e.message}\n`);
      resolve('spawn-error');
    });
    child.on('exit', () => {
      running = false;
    });
    child.on('close', (code, signal) => {
      running = false;
      log.end();
      resolve(code ?? signal ?? 'unknown');
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${argv.join(' ')})`);
  const pid = child.pid;
  return {
    name,
    pid,
    logFile: opts.logFile,
    child,
    exited,
    get running() {
      return running;
    },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (running) child.kill(signal);
    },
    async stop(graceMs = 5_000) {
      if (!running) {
        await exited;
        return;
      }
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until check returns a value (not undefined/false) or the deadline passes; the error names what was awaited. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${what}${why}`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}
