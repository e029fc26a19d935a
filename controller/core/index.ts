export { ControllerCore, serviceKeyOf, type ControllerCoreOptions, type RestoreOutcome } from './controller-core.ts';
export type { EventType, IngressEntry, PlannedEvent, PoolPlan, ServicePlan } from './planned.ts';
