// speaker/core: the speaker process's own decisions, pure — what it knows of
// the cluster, what it answers for and where, which ServiceL2Status objects and
// Events follow from an election, and what it keeps on disk.
export { ClusterModel, MODEL_KINDS, modelKey, trimForModel, type ClusterModelOptions, type ModelKind, type ModelSnapshot, type ModelUpdate, type SpeakerPod } from './cluster-model.ts';
export { interfaceProblem, namedInterfaces, ownershipTable, planInterfaces, sameOwnership, type InterfacePlan } from './announce.ts';
export { reporterFor } from './reporter.ts';
export { EMPTY_REPORT_MEMORY, planReports, type PlannedEvent, type ReportInput, type ReportMemory } from './reports.ts';
export {
  l2StatusLabels,
  l2StatusRecord,
  planL2Statuses,
  type DesiredL2Status,
  type L2StatusAction,
  type L2StatusPlanInput,
  type L2StatusRecord,
} from './status-plan.ts';
export { decodeState, encodeState, type StateFile } from './state-file.ts';
