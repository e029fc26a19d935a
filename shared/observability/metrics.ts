// One Prometheus registry per process (not prom-client's global one, so tests
// and embedded components never collide), with the default process metrics.
import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A registry with prom-client's default metrics: the process_* series named as
 * Go's process collector names them (process_cpu_seconds_total,
 * process_resident_memory_bytes, process_start_time_seconds, process_open_fds,
 * process_max_fds …) plus nodejs_* runtime series (event-loop lag, heap, GC).
 * Register the component's own metrics on it with `registers: [registry]`.
 */
export function createMetricsRegistry(opts: { labels?: Record<string, string> } = {}): Registry {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}
