// The Kubernetes shell shared by controller and speaker: the connection
// (transport/: kubeconfig, requests, watches), typed object clients,
// informers, events and leader election.
export {
  loadKubeConfig,
  type ApiAccess,
  type ApiAccessOptions,
  type KubeConfigSources,
  type LoadedKubeConfig,
  type LoadOptions,
  type LivenessOptions,
  type DelegatedAuth,
  type RawEntry,
} from './transport/index.ts';
export { formatApiError, isExpired, isResourceVersionTooLarge, isTransient, toApiError, type ApiError, type StatusCause } from './api-error.ts';
export { RESOURCES, defineResource, objectKey, type ApiObject, type ObjectRef, type Resource } from './resources.ts';
export { objectClient, type ObjectClient, type ObjectList, type ListOptions, type CallOptions, type PatchType, type StatusOf } from './client.ts';
export { Backoff, backoffDelay, type BackoffOptions } from './backoff.ts';
export { createInformer, type Informer, type InformerHandlers, type InformerOptions, type ObjectCache } from './informer.ts';
export { withoutManagedFields } from './trim.ts';
export { createEventRecorder, type EventRecorder, type EventRecorderOptions, type EventReason, type EventStats, type EventType } from './events.ts';
export { createLeaderElector, type LeaderElector, type LeaderElectionOptions } from './leader.ts';
