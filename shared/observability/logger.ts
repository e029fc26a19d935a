// Structured logs: one JSON object per line on stdout (what `kubectl logs` and
// log shippers read), level names as strings, ISO timestamps.
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './log-level.ts';

export { LOG_LEVELS, parseLogLevel, type LogLevel } from './log-level.ts';

/** A pino logger; child({ component }) for a part of the process. */
export type Logger = PinoLogger;

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
