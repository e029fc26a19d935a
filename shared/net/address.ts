import { IPv4, IPv6, Validator, collapseIPv6Number } from 'ip-num';
import { err, ok, type Result } from '../result.ts';

export type Family = 4 | 6;

/** A checked IP address: its numeric value and its canonical text (RFC 5952 for IPv6). */
export interface IPAddress {
  readonly family: Family;
  readonly value: bigint;
  readonly text: string;
}

export const familyBits = (family: Family): number => (family === 4 ? 32 : 128);
export const familyName = (family: Family): 'IPv4' | 'IPv6' => (family === 4 ? 'IPv4' : 'IPv6');

/**
 * Parses one address. Rejects what Kubernetes and the wire cannot use for a
 * load-balancer IP: zone indices, IPv4-mapped IPv6, leading zeros in IPv4.
 */
export function parseIP(input: string): Result<IPAddress> {
  const text = input.trim();
  if (text === '') return err('empty address');
  if (text.includes(':')) {
    if (text.includes('%')) return err(`"${text}" has a zone index, which a load-balancer address cannot have`);
    if (text.includes('.')) return err(`"${text}" is an IPv4-mapped or embedded IPv6 address; write the IPv4 address itself`);
    const [valid] = Validator.isValidIPv6String(text);
    if (!valid) return err(`"${text}" is not a valid IPv6 address`);
    return ok(ipFromValue(6, IPv6.fromString(text).getValue()));
  }
  const [valid] = Validator.isValidIPv4String(text);
  if (!valid || /(^|\.)0\d/.test(text)) return err(`"${text}" is not a valid IPv4 address`);
  return ok(ipFromValue(4, IPv4.fromString(text).getValue()));
}

export function ipFromValue(family: Family, value: bigint): IPAddress {
  return { family, value, text: formatIP(family, value) };
}

export function formatIP(family: Family, value: bigint): string {
  if (family === 4) return IPv4.fromNumber(value).toString();
  return collapseIPv6Number(IPv6.fromBigInt(value).toString());
}
