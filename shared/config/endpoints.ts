// EndpointSlices of one Service → the nodes that host an endpoint able to take traffic.
import type { V1EndpointSlice } from '@kubernetes/client-node';

/**
 * Nodes hosting at least one endpoint that can serve: `conditions.ready` unset or
 * true, or `serving` true (a terminating pod still serving counts). These are
 * MetalLB's semantics (epslices.EndpointCanServe); they matter for
 * externalTrafficPolicy Local, where only such nodes may announce.
 */
export function nodesWithReadyEndpoints(slices: readonly V1EndpointSlice[]): ReadonlySet<string> {
  const nodes = new Set<string>();
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      if (!endpoint.nodeName) continue;
      const { ready, serving } = endpoint.conditions ?? {};
      if (ready !== false || serving === true) nodes.add(endpoint.nodeName);
    }
  }
  return nodes;
}
