// The controller's own Prometheus series (MetalLB's allocator metrics, renamed
// to ballast_*; pool usage also appears in `kubectl get ipaddresspools`).
import { Counter, Gauge, type Registry } from '../../shared/observability/index.ts';

export interface ControllerMetrics {
  readonly leader: Gauge;
  readonly addressesInUse: Gauge<'pool' | 'family'>;
  readonly addressesFree: Gauge<'pool' | 'family'>;
  readonly allocations: Counter<'result'>;
  readonly allocationFailures: Counter<'reason'>;
  readonly statusWrites: Counter<'kind' | 'result'>;
}

export function createControllerMetrics(registry: Registry): ControllerMetrics {
  const registers = [registry];
  return {
    leader: new Gauge({ name: 'ballast_controller_leader', help: '1 while this replica is the leader (the only one that writes)', registers }),
    addressesInUse: new Gauge({ name: 'ballast_pool_addresses_in_use', help: 'Addresses of the pool assigned to Services', labelNames: ['pool', 'family'], registers }),
    addressesFree: new Gauge({ name: 'ballast_pool_addresses_free', help: 'Addresses the pool can still hand out (0 while it is in conflict or being deleted)', labelNames: ['pool', 'family'], registers }),
    allocations: new Counter({ name: 'ballast_allocations_total', help: 'Service syncs that changed or confirmed an assignment, by result', labelNames: ['result'], registers }),
    allocationFailures: new Counter({ name: 'ballast_allocation_failures_total', help: 'Allocation failures by Event reason', labelNames: ['reason'], registers }),
    statusWrites: new Counter({ name: 'ballast_status_writes_total', help: 'Writes of Service and pool status, by kind and result', labelNames: ['kind', 'result'], registers }),
  };
}
