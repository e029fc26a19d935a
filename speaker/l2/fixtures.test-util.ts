// Shared test fixtures. The frames were captured from Linux 6.18 in network
// namespaces (addresses from the documentation ranges) and serve as
// independent vectors: their checksums were computed by the kernel, not by
// our code.
import { parseIP, type IPAddress } from '../../shared/net/index.ts';
import type { InterfaceDescriptor } from './interface-filter.ts';

export function ip(text: string): IPAddress {
  const parsed = parseIP(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

export const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

/** Who has 198.51.100.2? Tell 198.51.100.1 (02:00:00:00:00:0a). */
export const LINUX_ARP_REQUEST = hex(`
  ffffffffffff 02000000000a 0806
  0001 0800 06 04 0001
  02000000000a c6336401
  000000000000 c6336402`);

/** NS from 2001:db8:1::1 (02:00:00:00:00:0a) for 2001:db8:1::2, to ff02::1:ff00:2, with a source link-layer option. */
export const LINUX_NEIGHBOR_SOLICITATION = hex(`
  3333ff000002 02000000000a 86dd
  60000000 0020 3a ff
  20010db8000100000000000000000001
  ff0200000000000000000001ff000002
  87 00 1c1c 00000000
  20010db8000100000000000000000002
  01 01 02000000000a`);

/** DAD probe for fe80::ff:fe00:a from :: with a nonce option (RFC 7527) and no source link-layer option. */
export const LINUX_DAD_SOLICITATION = hex(`
  3333ff00000a 02000000000a 86dd
  60000000 0020 3a ff
  00000000000000000000000000000000
  ff0200000000000000000001ff00000a
  87 00 6311 00000000
  fe80000000000000000000fffe00000a
  0e 01 466f7ea846e1`);

let nextIndex = 1;

/** An up, broadcast-capable Ethernet interface, with a fresh index unless overridden. */
export const iface = (name: string, overrides: Partial<InterfaceDescriptor> = {}): InterfaceDescriptor => ({
  name,
  index: nextIndex++,
  mac: '02:00:00:00:00:01',
  hardwareType: 1,
  up: true,
  broadcast: true,
  noArp: false,
  loopback: false,
  master: null,
  kind: null,
  ...overrides,
});
