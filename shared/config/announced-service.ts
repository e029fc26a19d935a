// A Service as the speaker sees it: its identity, labels (for serviceSelectors),
// the IPs the controller wrote to its status, and the traffic policy.
import type { V1Service } from '@kubernetes/client-node';
import type { Labels } from '../labels/index.ts';
import { parseIP, type IPAddress } from '../net/index.ts';
import { err, ok, type Result } from '../result.ts';
import type { ConfigError } from './config-error.ts';

export interface AnnouncedService {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** From status.loadBalancer.ingress, in order, without duplicates; empty unless type LoadBalancer. */
  readonly ips: readonly IPAddress[];
  readonly externalTrafficPolicy: 'Cluster' | 'Local';
  readonly loadBalancerClass: string | undefined;
}

/** "namespace/name": how election and the shell key a Service. */
export const serviceKey = (s: { readonly namespace: string; readonly name: string }): string => `${s.namespace}/${s.name}`;

export function parseAnnouncedService(raw: V1Service): Result<AnnouncedService, ConfigError[]> {
  const namespace = raw.metadata?.namespace;
  const name = raw.metadata?.name;
  const errors: ConfigError[] = [];
  const fail = (field: string, message: string): void => {
    errors.push({ kind: 'Service', namespace, name, field, message });
  };
  if (!name) fail('metadata.name', 'is empty');
  if (!namespace) fail('metadata.namespace', 'is empty');

  const policy = raw.spec?.externalTrafficPolicy ?? 'Cluster';
  if (policy !== 'Cluster' && policy !== 'Local') {
    fail('spec.externalTrafficPolicy', `"${policy}" is neither Cluster nor Local`);
  }

  const ips: IPAddress[] = [];
  // A Service that stopped being a LoadBalancer keeps its ingress until the
  // controller clears it; the speaker must not announce it meanwhile (MetalLB does the same).
  if (raw.spec?.type === 'LoadBalancer') {
    const seen = new Set<string>();
    for (const [i, ingress] of (raw.status?.loadBalancer?.ingress ?? []).entries()) {
      if (!ingress.ip) continue; // hostname-only ingress: nothing to announce
      const ip = parseIP(ingress.ip);
      if (!ip.ok) fail(`status.loadBalancer.ingress[${i}].ip`, ip.error);
      else if (!seen.has(ip.value.text)) {
        seen.add(ip.value.text);
        ips.push(ip.value);
      }
    }
  }

  if (errors.length > 0 || !name || !namespace) return err(errors);
  return ok({
    namespace,
    name,
    labels: { ...raw.metadata?.labels },
    ips,
    externalTrafficPolicy: policy === 'Local' ? 'Local' : 'Cluster',
    loadBalancerClass: raw.spec?.loadBalancerClass || undefined,
  });
}
