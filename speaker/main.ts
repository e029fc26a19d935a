// The Ballast speaker (DaemonSet, host network, CAP_NET_RAW): answers ARP and
// NDP for the load-balancer IPs its node is elected for, and hands them over
// within a second when a node fails, at once when it shuts down.
import { createEventRecorder, loadKubeConfig } from '../shared/k8s/index.ts';
import { createLogger, createMetricsRegistry, ReadinessChecks, startObservabilityServer } from '../shared/observability/index.ts';
import { parseSpeakerFlags } from './flags.ts';
import { createSpeakerMetrics } from './shell/metrics.ts';
import { Speaker } from './shell/speaker.ts';

const flags = parseSpeakerFlags(process.argv.slice(2));
if (!flags.ok) {
  console.error(`ballast-speaker: ${flags.error}`);
  process.exit(2);
}
const f = flags.value;
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
// Fault injection for the lab's fault suite only: SIGUSR2 ends the wire worker as a crash would.
if (process.env.BALLAST_FAULT_INJECTION === '1') process.on('SIGUSR2', () => speaker.crashWireForTest());
process.on('SIGINT', () => void shutdown('SIGINT'));
