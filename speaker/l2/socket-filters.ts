// Classic BPF programs attached to the packet sockets so that only frames the
// speaker reads are copied to userspace: the kernel drops the rest (other
// ICMPv6 messages, heartbeats of another protocol version or garbage under
// our EtherType) before they cost a wake-up.
// Assembled here, not in the addon, so the addon stays free of protocol logic.
import { endianness } from 'node:os';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_ARP, ETHERTYPE_IPV6 } from './ethernet.ts';
import { NEXT_HEADER_ICMPV6 } from './ipv6.ts';

export interface BpfInstruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

// linux/filter.h, linux/if_packet.h
const LD_W_ABS = 0x20;
const LD_H_ABS = 0x28;
const LD_B_ABS = 0x30;
const JEQ_K = 0x15;
const RET_K = 0x06;
const SKF_AD_PKTTYPE = 0xfffff000 + 4;
const PACKET_OUTGOING = 4;
const ACCEPT_WHOLE_FRAME = 0x40000;

type Check = { readonly load: number; readonly offset: number; readonly equals: number; readonly negate?: boolean };

/**
 * Accept when every check passes and, when `oneOf` is given, the value at its
 * offset is one of its values; anything else jumps to a final `ret #0`.
 */
function allOf(checks: readonly Check[], oneOf?: { readonly load: number; readonly offset: number; readonly values: readonly number[] }): BpfInstruction[] {
  const program: BpfInstruction[] = [];
  const tail = oneOf ? 1 + oneOf.values.length : 0;
  const dropAt = checks.length * 2 + tail + 1;
  for (const check of checks) {
    program.push({ code: check.load, jt: 0, jf: 0, k: check.offset });
    const toDrop = dropAt - (program.length + 1);
    program.push(
      check.negate
        ? { code: JEQ_K, jt: toDrop, jf: 0, k: check.equals }
        : { code: JEQ_K, jt: 0, jf: toDrop, k: check.equals },
    );
  }
  if (oneOf) {
    program.push({ code: oneOf.load, jt: 0, jf: 0, k: oneOf.offset });
    const acceptAt = dropAt - 1;
    oneOf.values.forEach((value, i) => {
      const here = program.length + 1;
      const last = i === oneOf.values.length - 1;
      program.push({ code: JEQ_K, jt: acceptAt - here, jf: last ? dropAt - here : 0, k: value });
    });
  }
  program.push({ code: RET_K, jt: 0, jf: 0, k: ACCEPT_WHOLE_FRAME }, { code: RET_K, jt: 0, jf: 0, k: 0 });
  return program;
}

const notOutgoing: Check = { load: LD_W_ABS, offset: SKF_AD_PKTTYPE, equals: PACKET_OUTGOING, negate: true };

/**
 * Every ARP frame, requests and replies: requests to answer, and any frame
 * whose sender claims an IP we own (another host's reply to our probe, its
 * gratuitous ARP) to detect a duplicate.
 */
export const arpFilter: readonly BpfInstruction[] = allOf([
  notOutgoing,
  { load: LD_H_ABS, offset: 12, equals: ETHERTYPE_ARP },
]);

/** ICMPv6 Neighbor Solicitations (type 135) and Advertisements (136) directly after the IPv6 header. */
export const neighborDiscoveryFilter: readonly BpfInstruction[] = allOf(
  [
    notOutgoing,
    { load: LD_H_ABS, offset: 12, equals: ETHERTYPE_IPV6 },
    { load: LD_B_ABS, offset: ETHERNET_HEADER_LENGTH + 6, equals: NEXT_HEADER_ICMPV6 },
  ],
  { load: LD_B_ABS, offset: ETHERNET_HEADER_LENGTH + 40, values: [135, 136] },
);

/** Frames of one EtherType whose payload starts with `prefix` (a protocol's magic and version): the rest never reach userspace. */
export function payloadPrefixFilter(etherType: number, prefix: Uint8Array): BpfInstruction[] {
  return allOf([
    notOutgoing,
    { load: LD_H_ABS, offset: 12, equals: etherType },
    ...[...prefix].map((byte, i) => ({ load: LD_B_ABS, offset: ETHERNET_HEADER_LENGTH + i, equals: byte })),
  ]);
}

/** struct sock_filter[] in host byte order, as SO_ATTACH_FILTER takes it. */
export function encodeBpfProgram(program: readonly BpfInstruction[]): Buffer {
  const bytes = Buffer.alloc(program.length * 8);
  const little = endianness() === 'LE';
  program.forEach((ins, i) => {
    if (little) {
      bytes.writeUInt16LE(ins.code, i * 8);
      bytes.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
    } else {
      bytes.writeUInt16BE(ins.code, i * 8);
      bytes.writeUInt32BE(ins.k >>> 0, i * 8 + 4);
    }
    bytes[i * 8 + 2] = ins.jt;
    bytes[i * 8 + 3] = ins.jf;
  });
  return bytes;
}

/**
 * Runs a program of the subset above (absolute loads, JEQ, RET) over a frame,
 * the way the kernel would; lets unit tests check the filters without root.
 */
export function runBpf(program: readonly BpfInstruction[], frame: Uint8Array, packetType: number): number {
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const ins = program[pc]!;
    switch (ins.code) {
      case LD_W_ABS:
      case LD_H_ABS:
      case LD_B_ABS: {
        if (ins.k === SKF_AD_PKTTYPE) {
          a = packetType;
          break;
        }
        const size = ins.code === LD_W_ABS ? 4 : ins.code === LD_H_ABS ? 2 : 1;
        if (ins.k + size > frame.length) return 0;
        a = 0;
        for (let i = 0; i < size; i++) a = a * 256 + frame[ins.k + i]!;
        break;
      }
      case JEQ_K:
        pc += a === ins.k ? ins.jt : ins.jf;
        break;
      case RET_K:
        return ins.k;
      default:
        throw new Error(`runBpf: opcode 0x${ins.code.toString(16)} not supported`);
    }
  }
  throw new Error('runBpf: program fell off the end');
}
