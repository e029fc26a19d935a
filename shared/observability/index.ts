export { createLogger, parseLogLevel, silentLogger, LOG_LEVELS, type Logger, type LoggerOptions, type LogLevel } from './logger.ts';
