import { describe, expect, it } from 'vitest';
import type { V1Node } from '@kubernetes/client-node';
import { formatNodeAddress, nodeAddresses, parseNode } from './node.ts';

describe('parseNode', () => {
  it('reads name, labels, NetworkUnavailable and the exclude label', () => {
    const node: V1Node = {
      metadata: { name: 'n1', labels: { rack: 'a', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } },
      status: {
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'NetworkUnavailable', status: 'True' },
        ],
      },
    };
    expect(parseNode(node)).toEqual({
      ok: true,
      value: {
        name: 'n1',
        labels: { rack: 'a', 'node.kubernetes.io/exclude-from-external-load-balancers': '' },
        networkUnavailable: true,
        excluded: true,
      },
    });
  });

  it('treats NetworkUnavailable False or Unknown, and no conditions, as available', () => {
    for (const status of ['False', 'Unknown']) {
      const r = parseNode({ metadata: { name: 'n1' }, status: { conditions: [{ type: 'NetworkUnavailable', status }] } });
      expect(r.ok && r.value.networkUnavailable).toBe(false);
    }
    const bare = parseNode({ metadata: { name: 'n2' } });
    expect(bare.ok && bare.value).toEqual({ name: 'n2', labels: {}, networkUnavailable: false, excluded: false });
  });

  it('rejects a node without a name', () => {
    expect(parseNode({ metadata: {} })).toMatchObject({ ok: false, error: { kind: 'Node', field: 'metadata.name' } });
  });
});

describe('nodeAddresses', () => {
  it('reads InternalIP and ExternalIP of both families, not hostnames or addresses that do not parse', () => {
    const node: V1Node = {
      metadata: { name: 'worker-1' },
      status: {
        addresses: [
          { type: 'InternalIP', address: '198.51.100.3' },
          { type: 'InternalIP', address: '2001:db8::3' },
          { type: 'ExternalIP', address: '203.0.113.7' },
          { type: 'Hostname', address: 'worker-1' },
          { type: 'InternalDNS', address: 'worker-1.lan' },
          { type: 'ExternalIP', address: 'not-an-ip' },
        ],
      },
    };
    expect(nodeAddresses(node).map(formatNodeAddress)).toEqual(['InternalIP 198.51.100.3 of node worker-1', 'InternalIP 2001:db8::3 of node worker-1', 'ExternalIP 203.0.113.7 of node worker-1']);
    expect(nodeAddresses({ metadata: {}, status: { addresses: [{ type: 'InternalIP', address: '198.51.100.3' }] } })).toEqual([]);
  });
});
