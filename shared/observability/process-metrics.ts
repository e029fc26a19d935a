// The process_* series Prometheus' Go collector exports (and prom-client's
// defaults copy), read when scraped: CPU, memory, file descriptors, start time,
// plus the Node.js heap and event-loop delay. Written here rather than taken
// from prom-client's default collectors, which cost ≈12 MB RSS to load (prom.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from './prom.ts';

const startSeconds = Math.round(Date.now() / 1000 - process.uptime());

function maxFds(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return NaN;
  }
}

export function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  const cpu = (kind: 'user' | 'system' | 'total') =>
    new Counter({
      name: kind === 'total' ? 'process_cpu_seconds_total' : `process_cpu_${kind}_seconds_total`,
      help: `${kind === 'total' ? 'Total user and system' : kind === 'user' ? 'User' : 'System'} CPU time spent in seconds.`,
      registers,
      collect() {
        const u = process.cpuUsage();
        const seconds = (kind === 'user' ? u.user : kind === 'system' ? u.system : u.user + u.system) / 1e6;
        this.reset();
        this.inc(seconds);
      },
    });
  cpu('user');
  cpu('system');
  cpu('total');
  new Gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', registers, collect() { this.set(process.memoryUsage.rss()); } });
  new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', registers, collect() { this.set(startSeconds); } });
  new Gauge({ name: 'process_open_fds', help: 'Number of open file descriptors.', registers, collect() { this.set(openFds()); } });
  const max = maxFds();
  new Gauge({ name: 'process_max_fds', help: 'Maximum number of open file descriptors.', registers, collect() { this.set(max); } });
  new Gauge({
    name: 'nodejs_heap_size_used_bytes',
    help: 'Process heap size used from Node.js in bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  new Gauge({
    name: 'nodejs_eventloop_lag_p99_seconds',
    help: 'The 99th percentile of event-loop delay since the last scrape, in seconds (timers and I/O callbacks wait this long).',
    registers,
    collect() {
      this.set(delay.percentile(99) / 1e9);
      delay.reset();
    },
  });
}
