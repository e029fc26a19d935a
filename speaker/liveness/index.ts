export {
  decodeHeartbeat,
  DEFAULT_HEARTBEAT_PORT,
  encodeHeartbeat,
  HEARTBEAT_ETHERTYPE,
  HEARTBEAT_VERSION,
  nameHash,
  parseHeartbeatKey,
  peerCapacity,
  sequenceAfter,
  type Heartbeat,
  type HeartbeatKey,
  type HeartbeatRejection,
  type PeerEntry,
  type PeerState,
} from './heartbeat.ts';
export {
  Membership,
  DEFAULT_DEAD_AFTER_BEATS,
  DEFAULT_INTERVAL_MS,
  DEFAULT_SUPPORT_MARGIN_MS,
  type BeatIgnored,
  type BeatOutcome,
  type MembershipOptions,
  type PeerInfo,
} from './membership.ts';
export { BeatSource, type BeatContent, type BeatSourceOptions } from './beat-source.ts';
export { majorityOf, quorum, type QuorumInput, type QuorumVerdict } from './quorum.ts';
