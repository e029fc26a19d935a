/**
 * Why a received frame was not a usable ARP/NDP message. Decoders return one
 * of these instead of throwing; the responder counts them by reason.
 */
export type DecodeFailureReason =
  | 'truncated'
  | 'vlan-tagged'
  | 'wrong-ethertype'
  | 'unsupported-format'
  | 'bad-length'
  | 'bad-checksum'
  | 'bad-hop-limit'
  | 'bad-code'
  | 'bad-option'
  | 'invalid-address'
  | 'not-neighbor-discovery';

export interface DecodeFailure {
  readonly reason: DecodeFailureReason;
  readonly detail: string;
}

export const decodeFailure = (reason: DecodeFailureReason, detail: string): DecodeFailure => ({ reason, detail });
