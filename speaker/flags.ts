// The speaker's command line: every flag can also come from the environment
// as BALLAST_<FLAG_IN_UPPER_SNAKE_CASE>.
import { parseArgs } from 'node:util';
import { HEARTBEAT_SECRET } from '../shared/api/index.ts';
import { flagValue, parseBindAddress, parseDuration } from '../shared/flags/index.ts';
import { parseLogLevel, type LogLevel } from '../shared/observability/log-level.ts';
import { err, ok, type Result } from '../shared/result.ts';
import { DEFAULT_HEARTBEAT_PORT, DEFAULT_INTERVAL_MS } from './liveness/index.ts';

export interface SpeakerFlags {
  kubeconfig: string | undefined;
  namespace: string;
  nodeName: string;
  loadBalancerClass: string | undefined;
  heartbeatSecret: string;
  heartbeatIntervalMs: number;
  /** UDP port of the heartbeats over IP (open it between nodes, like MetalLB's 7946). */
  heartbeatPort: number;
  metricsBindAddress: { host: string; port: number };
  logLevel: LogLevel;
  stateDir: string;
  /** Extra interface name patterns to leave out (MetalLB's defaults always apply). */
  interfacesExclude: RegExp[];
  /** The speaker's own Pod (env POD_NAME): owner of its ServiceL2Status objects. */
  podName: string | undefined;
}

const OPTIONS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  'node-name': { type: 'string' },
  'load-balancer-class': { type: 'string' },
  'heartbeat-secret': { type: 'string' },
  'heartbeat-interval': { type: 'string' },
  'heartbeat-port': { type: 'string' },
  'metrics-bind-address': { type: 'string' },
  'log-level': { type: 'string' },
  'state-dir': { type: 'string' },
  'interfaces-exclude': { type: 'string', multiple: true },
} as const;

/** Kubernetes node names are RFC 1123 subdomains; the heartbeat carries the name, so it must be one. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function parseSpeakerFlags(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Result<SpeakerFlags, string> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    return err((e as Error).message);
  }
  const get = (name: keyof typeof OPTIONS): string | undefined => flagValue(values, env, name);

  const nodeName = get('node-name') || env.NODE_NAME || '';
  if (nodeName === '') return err('--node-name (or NODE_NAME) is required: the speaker must know which node it runs on');
  if (nodeName.length > 253 || !NODE_NAME.test(nodeName)) return err(`--node-name: "${nodeName}" is not a Kubernetes node name (an RFC 1123 subdomain)`);

  const interval = parseDuration('heartbeat-interval', get('heartbeat-interval'), DEFAULT_INTERVAL_MS);
  if (!interval.ok) return interval;
  if (interval.value < 10 || interval.value > 10_000 || !Number.isInteger(interval.value)) {
    return err(`--heartbeat-interval: ${interval.value} ms is outside 10ms–10s (whole milliseconds)`);
  }
  const portText = get('heartbeat-port') || String(DEFAULT_HEARTBEAT_PORT);
  const heartbeatPort = Number(portText);
  if (!/^\d+$/.test(portText) || heartbeatPort < 1 || heartbeatPort > 65_535) return err(`--heartbeat-port: "${portText}" is not a port number (1–65535)`);
  const metrics = parseBindAddress('metrics-bind-address', get('metrics-bind-address') || ':7473');
  if (!metrics.ok) return metrics;
  const logLevel = parseLogLevel(get('log-level') ?? 'info', {});
  if (!logLevel.ok) return logLevel;

  const interfacesExclude: RegExp[] = [];
  for (const pattern of (get('interfaces-exclude') ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    try {
      interfacesExclude.push(new RegExp(pattern));
    } catch (e) {
      return err(`--interfaces-exclude: "${pattern}" is not a regular expression: ${(e as Error).message}`);
    }
  }

  return ok({
    kubeconfig: get('kubeconfig') || undefined,
    namespace: get('namespace') || env.POD_NAMESPACE || 'ballast-system',
    nodeName,
    loadBalancerClass: get('load-balancer-class') || undefined,
    heartbeatSecret: get('heartbeat-secret') || HEARTBEAT_SECRET,
    heartbeatIntervalMs: interval.value,
    heartbeatPort,
    metricsBindAddress: metrics.value,
    logLevel: logLevel.value,
    stateDir: get('state-dir') || '/var/lib/ballast',
    interfacesExclude,
    podName: env.POD_NAME || undefined,
  });
}
