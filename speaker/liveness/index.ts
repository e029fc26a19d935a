export { decodeHeartbeat, encodeHeartbeat, parseHeartbeatKey, HEARTBEAT_ETHERTYPE, type Heartbeat, type HeartbeatKey, type HeartbeatRejection } from './heartbeat.ts';
export { Membership, DEFAULT_DEAD_AFTER_BEATS, DEFAULT_INTERVAL_MS, type BeatIgnored, type BeatOutcome, type MembershipOptions } from './membership.ts';
export { BeatSource, type BeatSourceOptions } from './beat-source.ts';
