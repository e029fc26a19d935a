import { describe, expect, it } from 'vitest';
import type { V1Endpoint, V1EndpointSlice } from '@kubernetes/client-node';
import { nodesWithReadyEndpoints } from './endpoints.ts';

const slice = (...endpoints: V1Endpoint[]): V1EndpointSlice => ({ addressType: 'IPv4', endpoints });
const ep = (nodeName: string | undefined, conditions?: V1Endpoint['conditions']): V1Endpoint => ({
  addresses: ['198.51.100.10'],
  nodeName,
  conditions,
});

describe('nodesWithReadyEndpoints', () => {
  it('counts ready unset or true, and serving true even when not ready (MetalLB EndpointCanServe)', () => {
    const nodes = nodesWithReadyEndpoints([
      slice(ep('unset'), ep('ready', { ready: true }), ep('not-ready', { ready: false })),
      slice(ep('terminating-serving', { ready: false, serving: true, terminating: true }), ep('not-serving', { ready: false, serving: false })),
    ]);
    expect([...nodes].sort()).toEqual(['ready', 'terminating-serving', 'unset']);
  });

  it('ignores endpoints without a node and slices without endpoints', () => {
    expect(nodesWithReadyEndpoints([slice(ep(undefined, { ready: true })), { addressType: 'IPv6' }]).size).toBe(0);
  });

  it('a node with one ready and one unready endpoint hosts a ready endpoint', () => {
    expect(nodesWithReadyEndpoints([slice(ep('n1', { ready: false })), slice(ep('n1', { ready: true }))])).toEqual(new Set(['n1']));
  });
});
