// The Ballast controller: allocates IPs from IPAddressPools to LoadBalancer
// Services. Every replica keeps its caches warm and serves the admission
// webhook; only the Lease holder writes.
import { createLeaderElector, createEventRecorder, loadKubeConfig } from '../shared/k8s/index.ts';
import { createLogger, createMetricsRegistry, ReadinessChecks, startObservabilityServer } from '../shared/observability/index.ts';
import { ok } from '../shared/result.ts';
import { parseBindAddress, parseControllerFlags } from './flags.ts';
import { createControllerMetrics } from './shell/metrics.ts';
import { ServiceController } from './shell/service-controller.ts';
import { ensureHeartbeatSecret } from './shell/heartbeat-secret.ts';

const flags = parseControllerFlags(process.argv.slice(2));
if (!flags.ok) {
  console.error(`ballast-controller: ${flags.error}`);
  process.exit(2);
}
const f = flags.value;
const log = createLogger({ level: f.logLevel, component: 'ballast-controller' }).child({ instance: f.instance });
const loaded = loadKubeConfig({ kubeconfig: f.kubeconfig });
if (!loaded.ok) {
  log.fatal(loaded.error);
  process.exit(2);
}
const { access } = loaded.value;
const metricsAddress = parseBindAddress('metrics-bind-address', f.metricsBindAddress);
if (!metricsAddress.ok) {
  log.fatal(metricsAddress.error);
  process.exit(2);
}

const registry = createMetricsRegistry();
const metrics = createControllerMetrics(registry);
const events = createEventRecorder(access, { component: 'ballast-controller', instance: f.instance, logger: log });
const controller = new ServiceController({ access, namespace: f.namespace, loadBalancerClass: f.loadBalancerClass, events, metrics, log });
const readiness = new ReadinessChecks();
readiness.add('informers', () => controller.readiness());

const server = await startObservabilityServer({ ...metricsAddress.value, registry, readiness, logger: log });
if (!server.ok) {
  log.fatal(server.error);
  process.exit(1);
}
controller.start();

let webhook: { close(): Promise<void> } | undefined;
if (f.webhookEnabled) {
  // Loaded only when enabled: its certificate code is not needed otherwise.
  import('./webhook/index.ts')
    .then(({ startWebhook }) => startWebhook({ access, namespace: f.namespace, bindAddress: f.webhookBindAddress, certDir: f.webhookCertDir, log }))
    .then(
    (w) => {
      webhook = w;
      readiness.add('webhook', () => ok(undefined));
    },
    (e: unknown) => log.error({ err: String(e) }, 'the admission webhook did not start; pools are still validated by their CRD rules'),
  );
}

// One term of leadership. The elector never starts a term before the last one's work (this function) has
// returned, so the gauge's 1 and 0 cannot interleave across terms.
const lead = async (signal: AbortSignal): Promise<void> => {
  metrics.leader.set(1);
  log.info('leading: reading Services and pools fresh, restoring assignments, then allocating');
  try {
    await ensureHeartbeatSecret(access, f.namespace, log, signal);
    await controller.lead(signal);
  } finally {
    metrics.leader.set(0);
  }
};

const elector = f.leaderElect
  ? createLeaderElector(access, {
      namespace: f.namespace,
      name: f.leaseName,
      identity: f.instance,
      leaseDurationMs: f.leaseDurationMs,
      renewDeadlineMs: f.renewDeadlineMs,
      retryPeriodMs: f.retryPeriodMs,
      onStartedLeading: lead,
      onStoppedLeading: () => log.info('stopped leading'),
      onNewLeader: (who) => log.info({ leader: who }, 'leader observed'),
      logger: log,
    })
  : undefined;
const solo = new AbortController();
if (elector) elector.start();
else void lead(solo.signal);
log.info({ apiServer: loaded.value.server, kubeconfig: loaded.value.source, namespace: f.namespace, loadBalancerClass: f.loadBalancerClass ?? '(none)', leaderElect: f.leaderElect, metrics: server.value.url }, 'ballast-controller started');

let stopping = false;
const shutdown = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  solo.abort();
  await elector?.stop();
  await controller.stop();
  await webhook?.close();
  await events.close(2_000);
  await server.value.close(1_000);
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
