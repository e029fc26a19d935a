// V1Node → the few facts election needs about a node.
import type { V1Node } from '@kubernetes/client-node';
import { LABEL_EXCLUDE_FROM_LB } from '../api/index.ts';
import type { Labels } from '../labels/index.ts';
import { err, ok, type Result } from '../result.ts';
import type { ConfigError } from './config-error.ts';

export interface NodeInfo {
  readonly name: string;
  readonly labels: Labels;
  /** Condition NetworkUnavailable is True: the node's network is not set up, nothing should be sent there. */
  readonly networkUnavailable: boolean;
  /** Labelled node.kubernetes.io/exclude-from-external-load-balancers (any value, as kube's service controller reads it). */
  readonly excluded: boolean;
}

export function parseNode(raw: V1Node): Result<NodeInfo, ConfigError> {
  const name = raw.metadata?.name;
  if (!name) return err({ kind: 'Node', namespace: undefined, name, field: 'metadata.name', message: 'is empty' });
  const labels: Labels = { ...raw.metadata?.labels };
  return ok({
    name,
    labels,
    networkUnavailable: (raw.status?.conditions ?? []).some((c) => c.type === 'NetworkUnavailable' && c.status === 'True'),
    excluded: Object.hasOwn(labels, LABEL_EXCLUDE_FROM_LB),
  });
}
