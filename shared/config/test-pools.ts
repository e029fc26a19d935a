// Builds parsed pools for tests in other folders (not part of the public surface).
import type { IPAddressPool, ServiceAllocationSpec } from '../api/index.ts';
import { parsePool, type Pool } from './pool.ts';

export interface TestPoolOptions {
  autoAssign?: boolean;
  avoidBuggyIPs?: boolean;
  serviceAllocation?: ServiceAllocationSpec;
  createdAt?: number;
  terminating?: boolean;
}

export function testPool(name: string, addresses: string[], opts: TestPoolOptions = {}): Pool {
  const raw: IPAddressPool = {
    metadata: {
      name,
      namespace: 'ballast-system',
      creationTimestamp: new Date(opts.createdAt ?? 0).toISOString(),
      ...(opts.terminating ? { deletionTimestamp: new Date(1).toISOString() } : {}),
    },
    spec: { addresses, autoAssign: opts.autoAssign, avoidBuggyIPs: opts.avoidBuggyIPs, serviceAllocation: opts.serviceAllocation },
  };
  const r = parsePool(raw);
  if (!r.ok) throw new Error(`test pool ${name}: ${r.error.map((e) => e.message).join('; ')}`);
  return r.value;
}
