export { formatConfigError, type ConfigError } from './config-error.ts';
export { parseL2Advertisement, type L2AdvertisementConfig, type InterfaceSet } from './l2advertisement.ts';
export { advertisesFromNode, advertisesPool, advertisesService, unionInterfaces, type PoolRef } from './advertisements.ts';
export { validateL2Advertisement, validatePool, type Verdict } from './validate.ts';
export { formatNodeAddress, nodeAddresses, parseNode, type NodeAddress, type NodeInfo } from './node.ts';
export { nodesWithReadyEndpoints } from './endpoints.ts';
export { parseAnnouncedService, serviceKey, type AnnouncedService } from './announced-service.ts';
export { formatSpan, type AddressRange } from './address-range.ts';
export { parsePool, poolContains, type Pool, type PoolRange, type ServiceAllocation } from './pool.ts';
export { formatPoolConflict, resolvePoolConflicts, type PoolConflict } from './conflicts.ts';
export { RESERVED_RANGES, reservedMessage, reservedOverlaps, type ReservedRange } from './reserved-ranges.ts';
export {
  isLoadBalancer,
  parseServiceRequest,
  type IPFamilyPolicy,
  type Protocol,
  type ServiceConfigError,
  type ServicePort,
  type ServiceRequest,
} from './service.ts';
export { applyRotationStep, heartbeatKeys, MIN_HEARTBEAT_KEY_BYTES, nextRotationStep, type RotationStep, type SecretData } from './heartbeat-keys.ts';
