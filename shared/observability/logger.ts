// Structured logs: one JSON object per line on stdout (what `kubectl logs` and
// log shippers read), level names as strings, ISO timestamps.
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { err, ok, type Result } from '../result.ts';

/** A pino logger; child({ component }) for a part of the process. */
export type Logger = PinoLogger;

/** Accepted log levels, most severe first. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

const isLogLevel = (s: string): s is LogLevel => (LOG_LEVELS as readonly string[]).includes(s);

/** The level from the --log-level flag, else the LOG_LEVEL environment variable, else `info`; an unknown name is an error naming the choices. */
export function parseLogLevel(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Result<LogLevel, string> {
  const [source, value] = flag !== undefined ? ['--log-level', flag] : env.LOG_LEVEL !== undefined ? ['LOG_LEVEL', env.LOG_LEVEL] : ['default', 'info'];
  const level = value.trim().toLowerCase();
  return isLogLevel(level) ? ok(level) : err(`${source} ${JSON.stringify(value)} is not a log level (one of ${LOG_LEVELS.join(', ')})`);
}

/** The component name on every line, the level, and (for tests) where lines go. */
export interface LoggerOptions {
  /** The process's component, on every line (`ballast-controller`, `ballast-speaker`); children add their own fields. */
  component: string;
  level?: LogLevel;
  /** Defaults to stdout; tests pass a stream to read the lines back. */
  destination?: DestinationStream;
}

/** The root logger of a process; `logger.child({ component: 'allocator' })` for a part of it. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { component: opts.component },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

/** A logger that writes nothing: the default where a logger is optional. */
export const silentLogger: Logger = pino({ level: 'silent' });
