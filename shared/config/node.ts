// V1Node → the few facts election needs about a node, and the addresses the
// controller must never hand to a Service.
import type { V1Node } from '@kubernetes/client-node';
import { LABEL_EXCLUDE_FROM_LB } from '../api/index.ts';
import type { Labels } from '../labels/index.ts';
import { parseIP, type IPAddress } from '../net/index.ts';
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

/** An address a node has on the network: a pool must not hand it to a Service (two hosts would answer for it). */
export interface NodeAddress {
  readonly node: string;
  readonly type: 'InternalIP' | 'ExternalIP';
  readonly ip: IPAddress;
}

/** The node's InternalIP and ExternalIP addresses that parse (hostnames and other types are not addresses). */
export function nodeAddresses(raw: V1Node): NodeAddress[] {
  const node = raw.metadata?.name;
  if (!node) return [];
  return (raw.status?.addresses ?? []).flatMap((a) => {
    if (a.type !== 'InternalIP' && a.type !== 'ExternalIP') return [];
    const ip = parseIP(a.address ?? '');
    return ip.ok ? [{ node, type: a.type, ip: ip.value }] : [];
  });
}

/** "InternalIP 198.51.100.3 of node worker-1" */
export const formatNodeAddress = (a: NodeAddress): string => `${a.type} ${a.ip.text} of node ${a.node}`;
