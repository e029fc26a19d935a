export { Allocator, type FamilyUsage, type PoolUsage } from './allocator.ts';
export {
  formatAllocationFailure,
  formatInvalidation,
  type AllocationFailure,
  type Assignment,
  type InvalidReason,
  type Invalidation,
  type SkippedPool,
} from './failures.ts';
export { formatSharingConflict, type SharingConflict } from './sharing.ts';
