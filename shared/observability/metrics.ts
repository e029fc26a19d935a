// One Prometheus registry per process (not prom-client's global one, so tests
// and embedded components never collide), with the process metrics.
import { registerProcessMetrics } from './process-metrics.ts';
import { Registry } from './prom.ts';

/**
 * A registry with the process_* series named as Go's process collector names
 * them (process_cpu_seconds_total, process_resident_memory_bytes,
 * process_start_time_seconds, process_open_fds, process_max_fds) plus the
 * Node.js heap and event-loop delay. Register the component's own metrics on
 * it with `registers: [registry]`.
 */
export function createMetricsRegistry(opts: { labels?: Record<string, string> } = {}): Registry {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  registerProcessMetrics(registry);
  return registry;
}
