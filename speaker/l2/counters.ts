import type { DecodeFailureReason } from './decode-failure.ts';
import type { L2Protocol } from './responder.ts';

/**
 * Injected by the speaker (prom-client later); every method is optional to
 * implement. IP-labelled counters only ever see IPs this node owns, so label
 * cardinality stays bounded (MetalLB counts the same way).
 */
export interface L2Counters {
  requestReceived(protocol: L2Protocol, ip: string, interfaceName: string): void;
  replySent(protocol: L2Protocol, ip: string, interfaceName: string): void;
  gratuitousSent(protocol: L2Protocol, ip: string, interfaceName: string): void;
  garbled(protocol: L2Protocol, reason: DecodeFailureReason, interfaceName: string): void;
  sendFailed(protocol: L2Protocol, code: string, interfaceName: string): void;
  /** Another host announced (gratuitous ARP) an IP this node owns: a conflict worth an alert. */
  foreignAnnouncement(protocol: L2Protocol, ip: string, interfaceName: string): void;
}

const noop = (): void => {};

export function completeCounters(partial: Partial<L2Counters> = {}): L2Counters {
  return {
    requestReceived: partial.requestReceived ?? noop,
    replySent: partial.replySent ?? noop,
    gratuitousSent: partial.gratuitousSent ?? noop,
    garbled: partial.garbled ?? noop,
    sendFailed: partial.sendFailed ?? noop,
    foreignAnnouncement: partial.foreignAnnouncement ?? noop,
  };
}
