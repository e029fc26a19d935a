// The Ballast speaker (DaemonSet, host network, CAP_NET_RAW): answers ARP and
// NDP for the load-balancer IPs its node is elected for, and hands them over
// within a second when a node fails, at once when it shuts down.
// Only what starting the wire worker needs is imported up front: the worker then loads beside the rest of
// this program instead of after it, and a restarted speaker beats (and its peers agree again) sooner.
import { parseSpeakerFlags } from './flags.ts';
import { spawnWireWorker, wireWorkerData } from './shell/wire-spawn.ts';

const flags = parseSpeakerFlags(process.argv.slice(2));
if (!flags.ok) {
  console.error(`ballast-speaker: ${flags.error}`);
  process.exit(2);
}
const f = flags.value;
// Data as the Wire builds it from the Speaker's options below; it starts a worker of its own if they differ.
const wireWorker = spawnWireWorker(wireWorkerData({ node: f.nodeName, intervalMs: f.heartbeatIntervalMs, port: f.heartbeatPort }));
const [{ createEventRecorder, loadKubeConfig }, { createLogger, createMetricsRegistry, ReadinessChecks, startObservabilityServer }, { createSpeakerMetrics }, { Speaker }] = await Promise.all([
  import('../shared/k8s/index.ts'),
  import('../shared/observability/index.ts'),
  import('./shell/metrics.ts'),
  import('./shell/speaker.ts'),
]);
const log = createLogger({ level: f.logLevel, component: 'ballast-speaker' }).child({ node: f.nodeName });
const loaded = loadKubeConfig({ kubeconfig: f.kubeconfig });
if (!loaded.ok) {
  log.fatal(loaded.error);
  process.exit(2);
}
const access = loaded.value.access;

const registry = createMetricsRegistry();
const metrics = createSpeakerMetrics(registry);
const events = createEventRecorder(access, { component: 'ballast-speaker', instance: f.nodeName, logger: log });
const speaker = new Speaker({
  access,
  node: f.nodeName,
  namespace: f.namespace,
  loadBalancerClass: f.loadBalancerClass,
  heartbeatSecret: f.heartbeatSecret,
  heartbeatIntervalMs: f.heartbeatIntervalMs,
  heartbeatPort: f.heartbeatPort,
  stateDir: f.stateDir,
  extraExcludes: f.interfacesExclude,
  podName: f.podName,
  log,
  metrics,
  events,
  wireWorker,
});
const readiness = new ReadinessChecks();
speaker.addReadinessChecks(readiness);
const server = await startObservabilityServer({ ...f.metricsBindAddress, registry, readiness, logger: log });
if (!server.ok) {
  log.fatal(server.error);
  process.exit(1);
}
await speaker.start();
log.info(
  { namespace: f.namespace, loadBalancerClass: f.loadBalancerClass ?? '(none)', heartbeatIntervalMs: f.heartbeatIntervalMs, stateDir: f.stateDir, metrics: server.value.url, api: loaded.value.server },
  'ballast-speaker started',
);

let stopping = false;
const shutdown = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  await speaker.stop();
  await events.close(500);
  await server.value.close(200);
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
// Fault injection for the lab's fault suite only: SIGUSR2 ends the wire worker as a crash would;
// SIGWINCH keeps the main thread busy for BALLAST_FAULT_STALL_MS (a long GC pause, a relist) while the worker runs on.
if (process.env.BALLAST_FAULT_INJECTION === '1') {
  process.on('SIGUSR2', () => speaker.crashWireForTest());
  const stallMs = Number(process.env.BALLAST_FAULT_STALL_MS ?? 1_000);
  process.on('SIGWINCH', () => {
    const until = performance.now() + stallMs;
    while (performance.now() < until);
  });
}
process.on('SIGINT', () => void shutdown('SIGINT'));
