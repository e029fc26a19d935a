// One `addresses[]` entry of a pool: a CIDR or a `start-end` range, as one
// inclusive span of a single family. Address text is parsed by shared/net
// (ip-num underneath); spans are plain bigint arithmetic on its values.
import { familyBits, familyName, formatIP, parseIP, type Family } from '../net/index.ts';
import { err, ok, type Result } from '../result.ts';

export interface AddressRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
  /** Canonical text of the entry: "198.51.100.0/24", "2001:db8::1-2001:db8::9". */
  readonly text: string;
}

export function parseAddressRange(input: string): Result<AddressRange> {
  const text = input.trim();
  if (text === '') return err('is empty; write a CIDR (198.51.100.0/24) or a range (198.51.100.10-198.51.100.20)');
  if (text.includes('/')) return parseCidr(text);
  if (text.includes('-')) return parseSpan(text);
  const single = parseIP(text);
  if (!single.ok) return err(single.error);
  const hostPrefix = familyBits(single.value.family);
  return err(`"${text}" is neither a CIDR nor a range; write ${single.value.text}/${hostPrefix} for one address`);
}

function parseCidr(text: string): Result<AddressRange> {
  const parts = text.split('/');
  if (parts.length !== 2) return err(`"${text}" is not a CIDR: more than one "/"`);
  const [addressText = '', prefixText = ''] = parts;
  const address = parseIP(addressText);
  if (!address.ok) return err(`"${text}": ${address.error}`);
  const { family, value } = address.value;
  const bits = familyBits(family);
  const prefix = prefixText.trim();
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) {
    return err(`"${text}": prefix /${prefix} is out of bounds for ${familyName(family)} (0-${bits})`);
  }
  const hostMask = (1n << BigInt(bits - Number(prefix))) - 1n;
  const network = value & ~hostMask;
  const canonical = `${formatIP(family, network)}/${Number(prefix)}`;
  if (network !== value) return err(`"${text}" has host bits set; did you mean ${canonical}?`);
  return ok({ family, first: network, last: network | hostMask, text: canonical });
}

function parseSpan(text: string): Result<AddressRange> {
  const parts = text.split('-');
  if (parts.length !== 2) return err(`"${text}" is not a range: write start-end with exactly one "-"`);
  const [startText = '', endText = ''] = parts;
  const start = parseIP(startText);
  if (!start.ok) return err(`"${text}": start: ${start.error}`);
  const end = parseIP(endText);
  if (!end.ok) return err(`"${text}": end: ${end.error}`);
  if (start.value.family !== end.value.family) {
    return err(`"${text}" mixes ${familyName(start.value.family)} and ${familyName(end.value.family)}; a range has one family`);
  }
  if (start.value.value > end.value.value) {
    return err(`"${text}" is reversed: start ${start.value.text} is after end ${end.value.text}`);
  }
  return ok({ family: start.value.family, first: start.value.value, last: end.value.value, text: `${start.value.text}-${end.value.text}` });
}

/** Shortest text for a span: one address, an aligned CIDR, or start-end. */
export function formatSpan(family: Family, first: bigint, last: bigint): string {
  if (first === last) return formatIP(family, first);
  const size = last - first + 1n;
  const isPowerOfTwo = (size & (size - 1n)) === 0n;
  if (isPowerOfTwo && first % size === 0n) {
    const hostBits = size.toString(2).length - 1;
    return `${formatIP(family, first)}/${familyBits(family) - hostBits}`;
  }
  return `${formatIP(family, first)}-${formatIP(family, last)}`;
}
