import { formatIP, type IPAddress } from '../../shared/net/index.ts';

// Wire bytes <-> shared/net IPAddress. IPv4 text is built here directly
// because it is on the ARP hot path and trivially canonical; IPv6 text goes
// through shared/net so the RFC 5952 form matches the ownership table's keys,
// but only when asked for: formatting costs ~3 µs and an NS carries three
// addresses of which only the target is ever looked up.

export function ipv4FromBytes(bytes: Uint8Array, offset: number): IPAddress {
  const a = bytes[offset]!;
  const b = bytes[offset + 1]!;
  const c = bytes[offset + 2]!;
  const d = bytes[offset + 3]!;
  const value = BigInt(((a << 24) >>> 0) + (b << 16) + (c << 8) + d);
  return { family: 4, value, text: `${a}.${b}.${c}.${d}` };
}

export function ipv6FromBytes(bytes: Uint8Array, offset: number): IPAddress {
  let value = 0n;
  for (let i = 0; i < 16; i += 4) {
    const word = ((bytes[offset + i]! << 24) >>> 0) + (bytes[offset + i + 1]! << 16) + (bytes[offset + i + 2]! << 8) + bytes[offset + i + 3]!;
    value = (value << 32n) | BigInt(word);
  }
  return lazyIPv6(value);
}

/** An IPv6 IPAddress whose text is computed (by shared/net) on first use. */
export function lazyIPv6(value: bigint): IPAddress {
  let text: string | undefined;
  return {
    family: 6,
    value,
    get text(): string {
      text ??= formatIP(6, value);
      return text;
    },
  };
}

/** Writes the address's 4 or 16 bytes, most significant first. */
export function writeIP(target: Uint8Array, offset: number, ip: IPAddress): void {
  const length = ip.family === 4 ? 4 : 16;
  let value = ip.value;
  for (let i = length - 1; i >= 0; i--) {
    target[offset + i] = Number(value & 0xffn);
    value >>= 8n;
  }
}

export function ipBytes(ip: IPAddress): Uint8Array {
  const bytes = new Uint8Array(ip.family === 4 ? 4 : 16);
  writeIP(bytes, 0, ip);
  return bytes;
}
