// The Kubernetes shell shared by controller and speaker: client configuration,
// typed object clients, informers, events and leader election.
export { loadKubeConfig, type KubeConfigSources, type LoadedKubeConfig } from './config.ts';
export { formatApiError, isTransient, toApiError, type ApiError } from './api-error.ts';
export { RESOURCES, defineResource, objectKey, type ApiObject, type ObjectRef, type Resource } from './resources.ts';
export { objectClient, type ObjectClient, type ObjectList, type ListOptions, type CallOptions, type StatusOf } from './client.ts';
export type { PatchType } from './rest.ts';
export type { BackoffOptions } from './backoff.ts';
export { createInformer, type Informer, type InformerHandlers, type InformerOptions, type ObjectCache } from './informer.ts';
export { createEventRecorder, type EventRecorder, type EventRecorderOptions, type EventReason, type EventStats, type EventType } from './events.ts';
export { createLeaderElector, type LeaderElector, type LeaderElectionOptions } from './leader.ts';
