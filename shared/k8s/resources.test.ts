import { describe, expect, it } from 'vitest';
import { collectionPath, objectKey, objectPath, RESOURCES } from './resources.ts';

describe('resource paths', () => {
  it('core and grouped, namespaced and cluster-scoped', () => {
    expect(collectionPath(RESOURCES.service)).toBe('/api/v1/services');
    expect(collectionPath(RESOURCES.service, 'web')).toBe('/api/v1/namespaces/web/services');
    expect(collectionPath(RESOURCES.node, 'ignored')).toBe('/api/v1/nodes');
    expect(collectionPath(RESOURCES.ipAddressPool, 'ballast-system')).toBe('/apis/ballast.io/v1beta1/namespaces/ballast-system/ipaddresspools');
    expect(objectPath(RESOURCES.ipAddressPool, { namespace: 'ballast-system', name: 'default' }, 'status')).toBe(
      '/apis/ballast.io/v1beta1/namespaces/ballast-system/ipaddresspools/default/status',
    );
    expect(objectPath(RESOURCES.lease, { namespace: 'ballast-system', name: 'ballast-controller' })).toBe(
      '/apis/coordination.k8s.io/v1/namespaces/ballast-system/leases/ballast-controller',
    );
    expect(objectPath(RESOURCES.node, { name: 'node1' })).toBe('/api/v1/nodes/node1');
  });

  it('a namespaced object without a namespace, or without a name, is a bug', () => {
    expect(() => objectPath(RESOURCES.service, { name: 'web' })).toThrow(/needs a namespace/);
    expect(() => objectPath(RESOURCES.node, { name: '' })).toThrow(/empty object name/);
  });

  it('objectKey is namespace/name, or name when cluster-scoped', () => {
    expect(objectKey({ metadata: { namespace: 'a', name: 'b' } })).toBe('a/b');
    expect(objectKey({ metadata: { name: 'node1' } })).toBe('node1');
  });
});
