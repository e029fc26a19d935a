// Log levels and the --log-level flag, apart from logger.ts so that parsing
// flags does not load pino (speaker/main.ts parses them before it loads the rest).
import { err, ok, type Result } from '../result.ts';

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

