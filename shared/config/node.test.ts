import { describe, expect, it } from 'vitest';
import type { V1Node } from '@kubernetes/client-node';
import { parseNode } from './node.ts';

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
