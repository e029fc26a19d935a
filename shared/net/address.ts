// Parsing and formatting by hand, checked against ip-num in address.test.ts:
// ip-num costs ≈5 MB RSS to load, and the speaker (on every node) has an 80 MB
// budget (DESIGN §5); this is all either process needs of it.
import { isIPv6 } from 'node:net';
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
export function parseIP(input: string, opts: { readonly mapped?: 'refuse' | 'allow' } = {}): Result<IPAddress> {
  const text = input.trim();
  if (text === '') return err('empty address');
  if (text.includes(':')) {
    if (text.includes('%')) return err(`"${text}" has a zone index, which a load-balancer address cannot have`);
    if (text.includes('.')) return err(`"${text}" is an IPv4-mapped or embedded IPv6 address; write the IPv4 address itself`);
    const value = isIPv6(text) ? ipv6Value(text) : undefined;
    if (value === undefined) return err(`"${text}" is not a valid IPv6 address`);
    // In hex too (::ffff:c633:6401): Kubernetes refuses IPv4-mapped addresses in any spelling.
    if (value >> 32n === 0xffffn && opts.mapped !== 'allow') return err(`"${text}" is an IPv4-mapped IPv6 address (::ffff:0:0/96); write the IPv4 address itself`);
    return ok(ipFromValue(6, value));
  }
  const value = ipv4Value(text);
  if (value === undefined) return err(`"${text}" is not a valid IPv4 address`);
  return ok(ipFromValue(4, value));
}

/** Dotted quad, each part 0–255 without leading zeros (they read as octal in some tools). */
function ipv4Value(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

/** Eight groups of 1–4 hex digits, at most one "::" (node:net has checked the form). */
function ipv6Value(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): string[] => (half ? half.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let value = 0n;
  for (const g of [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    value = (value << 16n) | BigInt(`0x${g}`);
  }
  return value;
}

export function ipFromValue(family: Family, value: bigint): IPAddress {
  return { family, value, text: formatIP(family, value) };
}

export function formatIP(family: Family, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  return formatIPv6(value);
}

/**
 * RFC 5952 §4 text, straight from the value: the same text as ip-num's
 * collapseIPv6Number(IPv6.fromBigInt(v).toString()) (a test checks), at a
 * tenth of the cost; the allocator formats every address it hands out.
 */
function formatIPv6(value: bigint): string {
  const digits = value.toString(16).padStart(32, '0');
  const groups = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = parseInt(digits.slice(4 * i, 4 * i + 4), 16);
  // §4.2.1-3: the longest run of two or more zero groups becomes "::", the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLength - 1;
    } else {
      text += (text === '' || text.endsWith(':') ? '' : ':') + groups[i]!.toString(16);
    }
  }
  return text;
}
