// The controller's command line (docs: README, deploy/): every flag can also
// come from the environment as BALLAST_<FLAG_IN_UPPER_SNAKE_CASE>.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { parseLogLevel, type LogLevel } from '../shared/observability/index.ts';
import { flagValue, parseBool, parseDuration } from '../shared/flags/index.ts';
import { err, ok, type Result } from '../shared/result.ts';

export { flagValue, parseBindAddress, parseBool, parseDuration } from '../shared/flags/index.ts';

export interface ControllerFlags {
  kubeconfig: string | undefined;
  namespace: string;
  loadBalancerClass: string | undefined;
  leaderElect: boolean;
  leaseName: string;
  /** Lease timings (client-go's defaults); shorter ones fail over faster at the cost of more Lease writes. */
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  instance: string;
  metricsBindAddress: string;
  webhookEnabled: boolean;
  webhookBindAddress: string;
  webhookCertDir: string;
  logLevel: LogLevel;
}

const OPTIONS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  'load-balancer-class': { type: 'string' },
  'leader-elect': { type: 'string' },
  'lease-name': { type: 'string' },
  'lease-duration': { type: 'string' },
  'renew-deadline': { type: 'string' },
  'retry-period': { type: 'string' },
  instance: { type: 'string' },
  'metrics-bind-address': { type: 'string' },
  'webhook-enabled': { type: 'string' },
  'webhook-bind-address': { type: 'string' },
  'webhook-cert-dir': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

export function parseControllerFlags(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Result<ControllerFlags, string> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    return err((e as Error).message);
  }
  const get = (name: keyof typeof OPTIONS): string | undefined => flagValue(values, env, name);
  const leaderElect = parseBool('leader-elect', get('leader-elect'), true);
  if (!leaderElect.ok) return leaderElect;
  const webhookEnabled = parseBool('webhook-enabled', get('webhook-enabled'), true);
  if (!webhookEnabled.ok) return webhookEnabled;
  const durations: Record<string, number> = {};
  for (const [name, fallback] of [['lease-duration', 15_000], ['renew-deadline', 10_000], ['retry-period', 2_000]] as const) {
    const d = parseDuration(name, get(name), fallback);
    if (!d.ok) return d;
    durations[name] = d.value;
  }
  const logLevel = parseLogLevel(get('log-level') ?? 'info', {});
  if (!logLevel.ok) return logLevel;
  return ok({
    kubeconfig: get('kubeconfig') || undefined,
    namespace: get('namespace') || env.POD_NAMESPACE || 'ballast-system',
    loadBalancerClass: get('load-balancer-class') || undefined,
    leaderElect: leaderElect.value,
    leaseName: get('lease-name') || 'ballast-controller',
    leaseDurationMs: durations['lease-duration']!,
    renewDeadlineMs: durations['renew-deadline']!,
    retryPeriodMs: durations['retry-period']!,
    instance: get('instance') || env.POD_NAME || hostname(),
    metricsBindAddress: get('metrics-bind-address') || ':7472',
    webhookEnabled: webhookEnabled.value,
    webhookBindAddress: get('webhook-bind-address') || ':9443',
    webhookCertDir: get('webhook-cert-dir') || '/tmp/ballast-webhook-certs',
    logLevel: logLevel.value,
  });
}
