export { formatConfigError, type ConfigError } from './config-error.ts';
export { parseL2Advertisement, type L2AdvertisementConfig, type InterfaceSet } from './l2advertisement.ts';
export { parseNode, type NodeInfo } from './node.ts';
export { nodesWithReadyEndpoints } from './endpoints.ts';
export { parseAnnouncedService, serviceKey, type AnnouncedService } from './announced-service.ts';
