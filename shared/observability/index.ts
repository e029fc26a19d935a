// Logs, metrics and the health/metrics HTTP endpoints of a Ballast process.
export { createLogger, parseLogLevel, silentLogger, LOG_LEVELS, type Logger, type LoggerOptions, type LogLevel } from './logger.ts';
export { createMetricsRegistry } from './metrics.ts';
export { Counter, Gauge, Histogram, Registry } from './prom.ts';
export { ReadinessChecks, type ReadinessCheck, type CheckOutcome } from './readiness.ts';
export { startObservabilityServer, type ObservabilityServer, type ObservabilityServerOptions } from './server.ts';
