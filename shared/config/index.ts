export { formatConfigError, type ConfigError, type ServiceConfigError } from './errors.ts';
export { formatSpan, type AddressRange } from './address-range.ts';
export { parsePool, type Pool, type PoolRange, type ServiceAllocation } from './pool.ts';
export { formatPoolConflict, resolvePoolConflicts, type PoolConflict } from './conflicts.ts';
export {
  isLoadBalancer,
  parseServiceRequest,
  type IPFamilyPolicy,
  type Protocol,
  type ServicePort,
  type ServiceRequest,
} from './service.ts';
