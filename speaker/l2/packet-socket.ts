// TypeScript face of the native packet-socket addon (native/packet_socket.cc).
import { createRequire } from 'node:module';
import { err, ok, type Result } from '../../shared/result.ts';
import type { IPAddress } from '../../shared/net/index.ts';
import type { MacAddress } from './ethernet.ts';
import { ipBytes } from './ip-bytes.ts';
import { encodeBpfProgram, type BpfInstruction } from './socket-filters.ts';

export { PacketType } from './packet-type.ts';

export interface SocketError {
  /** errno name, e.g. ENODEV, EPERM, ENETDOWN. */
  readonly code: string;
  readonly syscall: string;
  readonly message: string;
  /** The socket stopped receiving and must be reopened. */
  readonly fatal: boolean;
}

export interface PacketSocketOptions {
  readonly interfaceName: string;
  readonly etherType: number;
  /** Attached before the socket is bound, so no unfiltered frame is ever queued. */
  readonly filter?: readonly BpfInstruction[];
  /**
   * `frame` is a view of the socket's receive buffer, valid only until the
   * callback returns: copy what you keep (the decoders do). `receivedAtNs`
   * (CLOCK_REALTIME) is set only when `timestamps` is on.
   */
  readonly onFrame: (frame: Uint8Array, packetType: number, receivedAtNs?: bigint) => void;
  readonly onError: (error: SocketError) => void;
  /** Kernel receive timestamps (SO_TIMESTAMPNS), for measurements. */
  readonly timestamps?: boolean;
}

export interface PacketSocket {
  readonly interfaceName: string;
  readonly ifindex: number;
  /** The interface's hardware address when the socket was opened. */
  readonly mac: MacAddress;
  /** Sends one complete Ethernet frame; the error is an errno name. */
  send(frame: Uint8Array): Result<void, string>;
  /** Lets the interface accept a link-layer multicast address (PACKET_ADD_MEMBERSHIP). */
  addMembership(mac: MacAddress): Result<void, string>;
  dropMembership(mac: MacAddress): Result<void, string>;
  /**
   * Joins an IPv6 multicast group through the kernel on this interface (by
   * index), so it sends MLD reports for it; held until leave or close.
   */
  joinGroup(group: IPAddress): Result<void, string>;
  leaveGroup(group: IPAddress): Result<void, string>;
  /**
   * Delivers every frame the kernel has queued now, synchronously, through
   * onFrame: read the socket dry before acting on "nothing arrived by the
   * deadline" (after an event-loop stall, timers run before polled sockets).
   */
  drain(): void;
  /** Idempotent; stops callbacks and releases memberships. */
  close(): void;
}

interface NativeSocket {
  send(frame: Uint8Array): string | undefined;
  addMembership(mac: Buffer): string | undefined;
  dropMembership(mac: Buffer): string | undefined;
  joinGroup(group: Buffer): string | undefined;
  leaveGroup(group: Buffer): string | undefined;
  info(): { ifindex?: number; address?: Buffer; error?: string };
  drain(): void;
  close(): void;
}

type NativeConstructor = new (
  ifname: string,
  etherType: number,
  filter: Buffer | undefined,
  onFrame: (frame: Uint8Array, packetType: number, receivedAtNs?: bigint) => void,
  onError: (error: Error & Partial<SocketError>) => void,
  timestamps: boolean,
) => NativeSocket;

let addon: Result<NativeConstructor, SocketError> | undefined;

function loadAddon(): Result<NativeConstructor, SocketError> {
  if (addon === undefined) {
    try {
      const module = createRequire(import.meta.url)('../../build/Release/ballast_packet.node') as { PacketSocket: NativeConstructor };
      addon = ok(module.PacketSocket);
    } catch (e) {
      const message = `packet-socket addon not loadable (build it with npm ci / node-gyp rebuild): ${(e as Error).message}`;
      addon = err({ code: 'EADDON', syscall: 'dlopen', message, fatal: true });
    }
  }
  return addon;
}

const toSocketError = (e: Error & Partial<SocketError>): SocketError => ({
  code: e.code ?? 'EUNKNOWN',
  syscall: e.syscall ?? 'unknown',
  message: e.message,
  fatal: e.fatal ?? false,
});

const asResult = (code: string | undefined): Result<void, string> => (code === undefined ? ok(undefined) : err(code));

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Opens an AF_PACKET socket on one interface for one EtherType (needs CAP_NET_RAW). */
export function openPacketSocket(options: PacketSocketOptions): Result<PacketSocket, SocketError> {
  const loaded = loadAddon();
  if (!loaded.ok) return loaded;
  let native: NativeSocket;
  try {
    native = new loaded.value(
      options.interfaceName,
      options.etherType,
      options.filter === undefined ? undefined : encodeBpfProgram(options.filter),
      options.onFrame,
      (e) => options.onError(toSocketError(e)),
      options.timestamps ?? false,
    );
  } catch (e) {
    return err(toSocketError(e as Error & Partial<SocketError>));
  }
  const info = native.info();
  if (info.error !== undefined || info.ifindex === undefined || info.address === undefined) {
    native.close();
    return err({ code: info.error ?? 'EUNKNOWN', syscall: 'getsockname', message: `getsockname on ${options.interfaceName} failed`, fatal: true });
  }
  const mac = new Uint8Array(info.address);
  return ok({
    interfaceName: options.interfaceName,
    ifindex: info.ifindex,
    mac,
    send: (frame) => asResult(native.send(frame)),
    addMembership: (group) => asResult(native.addMembership(asBuffer(group))),
    dropMembership: (group) => asResult(native.dropMembership(asBuffer(group))),
    joinGroup: (group) => (group.family === 6 ? asResult(native.joinGroup(asBuffer(ipBytes(group)))) : err('EAFNOSUPPORT')),
    leaveGroup: (group) => (group.family === 6 ? asResult(native.leaveGroup(asBuffer(ipBytes(group)))) : err('EAFNOSUPPORT')),
    drain: () => native.drain(),
    close: () => native.close(),
  });
}
