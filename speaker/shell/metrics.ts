// The speaker's Prometheus series (MetalLB's layer2 counters, renamed
// ballast_speaker_*). IP-labelled counters only ever see IPs this node owns,
// so their cardinality is bounded by the Services it announces.
import { Counter, Gauge, Histogram, type Registry } from '../../shared/observability/index.ts';
import type { L2Counters } from '../l2/index.ts';
import type { HeartbeatStats, L2Count } from './wire-protocol.ts';

export interface SpeakerMetrics {
  readonly requestsReceived: Counter<'protocol' | 'ip'>;
  readonly repliesSent: Counter<'protocol' | 'ip'>;
  readonly gratuitousSent: Counter<'protocol' | 'ip'>;
  readonly garbledFrames: Counter<'protocol' | 'reason'>;
  readonly sendFailures: Counter<'protocol' | 'code'>;
  readonly foreignAnnouncements: Counter<'protocol' | 'ip'>;
  readonly ipConflicts: Counter<'kind' | 'outcome'>;
  readonly announcedIPs: Gauge<'family'>;
  readonly speakersAlive: Gauge;
  readonly peersUnheard: Gauge;
  readonly quorumMode: Gauge<'mode'>;
  readonly fenced: Gauge;
  readonly heartbeatsSent: Counter;
  readonly heartbeatsReceived: Counter;
  readonly heartbeatsRejected: Counter<'reason'>;
  readonly heartbeatKernelDrops: Counter<'path'>;
  readonly elections: Counter;
  readonly electionDuration: Histogram;
  readonly interfacesUp: Gauge;
  readonly statusWrites: Counter<'op' | 'result'>;
}

export function createSpeakerMetrics(registry: Registry): SpeakerMetrics {
  const registers = [registry];
  return {
    requestsReceived: new Counter({ name: 'ballast_speaker_requests_received_total', help: 'ARP requests and Neighbor Solicitations received for IPs this node announces', labelNames: ['protocol', 'ip'], registers }),
    repliesSent: new Counter({ name: 'ballast_speaker_replies_sent_total', help: 'ARP replies and Neighbor Advertisements sent', labelNames: ['protocol', 'ip'], registers }),
    gratuitousSent: new Counter({ name: 'ballast_speaker_gratuitous_sent_total', help: 'Gratuitous ARP / unsolicited NA rounds sent (takeovers and their repeats)', labelNames: ['protocol', 'ip'], registers }),
    garbledFrames: new Counter({ name: 'ballast_speaker_garbled_frames_total', help: 'Received ARP/NDP frames that did not decode, by reason', labelNames: ['protocol', 'reason'], registers }),
    sendFailures: new Counter({ name: 'ballast_speaker_send_failures_total', help: 'Frames not sent, by errno: refused by the kernel, or ETIME (the fence verdict the answer rested on ran out before the frame left: the thread was frozen or starved between deciding and sending)', labelNames: ['protocol', 'code'], registers }),
    foreignAnnouncements: new Counter({
      name: 'ballast_speaker_foreign_announcements_total',
      help: 'ARP/NDP frames in which another MAC claims an IP this node holds (answers to our probes, gratuitous announcements)',
      labelNames: ['protocol', 'ip'],
      registers,
    }),
    ipConflicts: new Counter({
      name: 'ballast_speaker_ip_conflicts_total',
      help: 'Duplicates found on the wire: kind speaker (another Ballast node) or foreign; outcome yielded, kept, tolerated (foreign: we keep answering and defend every 10 s) or held (not claimed)',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    announcedIPs: new Gauge({ name: 'ballast_speaker_announced_ips', help: 'IPs this node claims (answered, or being probed before it answers)', labelNames: ['family'], registers }),
    speakersAlive: new Gauge({ name: 'ballast_speaker_speakers_alive', help: 'Speakers in the view this node elects over (itself included)', registers }),
    peersUnheard: new Gauge({ name: 'ballast_speaker_peers_unheard', help: 'Speakers the API shows Ready whose heartbeats never reached this node', registers }),
    quorumMode: new Gauge({
      name: 'ballast_speaker_quorum_mode',
      help: '1 for the mode this speaker claims in: agreed (a majority vouches for it), detached (API view, probing first), waiting (listening, no key or no API view)',
      labelNames: ['mode'],
      registers,
    }),
    fenced: new Gauge({ name: 'ballast_speaker_fenced', help: '1 while fewer than a majority vouch for this speaker and it holds back its agreed IPs', registers }),
    heartbeatsSent: new Counter({ name: 'ballast_speaker_heartbeats_sent_total', help: 'Heartbeats sent (raw frames per interface and UDP datagrams per peer address)', registers }),
    heartbeatsReceived: new Counter({ name: 'ballast_speaker_heartbeats_received_total', help: 'Authenticated heartbeats received and accepted', registers }),
    heartbeatsRejected: new Counter({
      name: 'ballast_speaker_heartbeats_rejected_total',
      help: 'Heartbeats rejected: bad-mac (wrong key), bad-size/magic/version/field/name (garbage), not-newer (copies on a second path, replays), stale-incarnation (replays from before a restart), not-fresh (acknowledges nothing of ours from the last window), wrong-interface (UDP not on an announce interface), unknown-node (names no Node), rate-limited (more from one source than a peer sends: a flood), own-echo, name-conflict',
      labelNames: ['reason'],
      registers,
    }),
    heartbeatKernelDrops: new Counter({ name: 'ballast_speaker_heartbeat_kernel_drops_total', help: 'Heartbeats the kernel dropped because the socket queue was full, by path (raw, udp)', labelNames: ['path'], registers }),
    elections: new Counter({ name: 'ballast_speaker_elections_total', help: 'Elections run', registers }),
    electionDuration: new Histogram({
      name: 'ballast_speaker_election_duration_seconds',
      help: 'Time to elect owners for every Service and update the responder',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    }),
    interfacesUp: new Gauge({ name: 'ballast_speaker_interfaces_up', help: 'Interfaces this node answers on now (eligible, with carrier)', registers }),
    statusWrites: new Counter({ name: 'ballast_speaker_status_writes_total', help: 'ServiceL2Status writes by operation and result', labelNames: ['op', 'result'], registers }),
  };
}

/** The wire worker's counts since its last report (about once a second), added to the metrics. */
export function recordWireStats(m: SpeakerMetrics, heartbeats: HeartbeatStats, l2: readonly L2Count[]): void {
  if (heartbeats.sent > 0) m.heartbeatsSent.inc(heartbeats.sent);
  if (heartbeats.received > 0) m.heartbeatsReceived.inc(heartbeats.received);
  for (const [reason, n] of Object.entries(heartbeats.rejected)) if (n) m.heartbeatsRejected.inc({ reason }, n);
  for (const [path, n] of Object.entries(heartbeats.kernelDrops)) if (n) m.heartbeatKernelDrops.inc({ path }, n);
  const byKind: Record<keyof L2Counters, (protocol: string, label: string, n: number) => void> = {
    requestReceived: (protocol, ip, n) => m.requestsReceived.inc({ protocol, ip }, n),
    replySent: (protocol, ip, n) => m.repliesSent.inc({ protocol, ip }, n),
    gratuitousSent: (protocol, ip, n) => m.gratuitousSent.inc({ protocol, ip }, n),
    garbled: (protocol, reason, n) => m.garbledFrames.inc({ protocol, reason }, n),
    sendFailed: (protocol, code, n) => m.sendFailures.inc({ protocol, code }, n),
    foreignAnnouncement: (protocol, ip, n) => m.foreignAnnouncements.inc({ protocol, ip }, n),
  };
  for (const [kind, protocol, label, n] of l2) byKind[kind](protocol, label, n);
}
