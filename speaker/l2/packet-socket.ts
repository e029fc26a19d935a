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
  /** SO_RCVBUF: how much the kernel queues while we are busy (capped by net.core.rmem_max). */
  readonly receiveBufferBytes?: number;
}

/** Since the socket opened: frames delivered to it, and frames the kernel dropped because its queue was full. */
export interface SocketStats {
  readonly received: number;
  readonly dropped: number;
}

export interface PacketSocket {
  readonly interfaceName: string;
  readonly ifindex: number;
  /** The interface's hardware address when the socket was opened. */
  readonly mac: MacAddress;
  /**
   * Sends one complete Ethernet frame; the error is an errno name. With
   * `notAfterMs` (CLOCK_MONOTONIC ms, as process.hrtime), the frame is not
   * sent once that instant has passed, checked just before the syscall: ETIME.
   */
  send(frame: Uint8Array, notAfterMs?: number): Result<void, string>;
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
  stats(): SocketStats;
  /** Idempotent; stops callbacks and releases memberships. */
  close(): void;
}

interface NativeSocket {
  send(frame: Uint8Array, notAfterMs?: number): string | undefined;
  addMembership(mac: Buffer): string | undefined;
  dropMembership(mac: Buffer): string | undefined;
  joinGroup(group: Buffer): string | undefined;
  leaveGroup(group: Buffer): string | undefined;
  info(): { ifindex?: number; address?: Buffer; error?: string };
  stats(): SocketStats;
  drain(): void;
  close(): void;
}

interface NativeDatagramSocket {
  sendTo(data: Uint8Array, address: Buffer, port: number, scopeId?: number): string | undefined;
  stats(): DatagramStats;
  drain(): void;
  close(): void;
}

type NativeDatagramConstructor = new (
  port: number,
  prefix: Buffer,
  onDatagram: (data: Uint8Array, ifindex: number, from: Buffer, fromPort: number) => void,
  onError: (error: Error & Partial<SocketError>) => void,
  receiveBufferBytes?: number,
) => NativeDatagramSocket;

type NativeConstructor = new (
  ifname: string,
  etherType: number,
  filter: Buffer | undefined,
  onFrame: (frame: Uint8Array, packetType: number, receivedAtNs?: bigint) => void,
  onError: (error: Error & Partial<SocketError>) => void,
  timestamps: boolean,
  receiveBufferBytes?: number,
) => NativeSocket;

interface Addon {
  readonly PacketSocket: NativeConstructor;
  readonly DatagramSocket: NativeDatagramConstructor;
}

let addon: Result<Addon, SocketError> | undefined;

function loadAddon(): Result<Addon, SocketError> {
  if (addon === undefined) {
    try {
      addon = ok(createRequire(import.meta.url)('../../build/Release/ballast_packet.node') as Addon);
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
    native = new loaded.value.PacketSocket(
      options.interfaceName,
      options.etherType,
      options.filter === undefined ? undefined : encodeBpfProgram(options.filter),
      options.onFrame,
      (e) => options.onError(toSocketError(e)),
      options.timestamps ?? false,
      options.receiveBufferBytes,
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
    send: (frame, notAfterMs) => asResult(notAfterMs === undefined || notAfterMs === Infinity ? native.send(frame) : native.send(frame, notAfterMs)),
    addMembership: (group) => asResult(native.addMembership(asBuffer(group))),
    dropMembership: (group) => asResult(native.dropMembership(asBuffer(group))),
    joinGroup: (group) => (group.family === 6 ? asResult(native.joinGroup(asBuffer(ipBytes(group)))) : err('EAFNOSUPPORT')),
    leaveGroup: (group) => (group.family === 6 ? asResult(native.leaveGroup(asBuffer(ipBytes(group)))) : err('EAFNOSUPPORT')),
    drain: () => native.drain(),
    stats: () => native.stats(),
    close: () => native.close(),
  });
}

export interface DatagramSocketOptions {
  readonly port: number;
  /** Datagrams that do not start with these bytes are dropped (and counted) before JavaScript sees them. */
  readonly prefix: Uint8Array;
  /**
   * `data` is a view of the receive buffer, valid only until the callback
   * returns. `ifindex`: the interface it arrived on; `from`: the sender's
   * address as 16 bytes (IPv4 mapped into IPv6).
   */
  readonly onDatagram: (data: Uint8Array, ifindex: number, from: Uint8Array, fromPort: number) => void;
  readonly onError: (error: SocketError) => void;
  readonly receiveBufferBytes?: number;
}

export interface DatagramStats extends SocketStats {
  /** Dropped because they did not start with the prefix, or did not fit the buffer. */
  readonly rejected: number;
}

export interface DatagramSocket {
  readonly port: number;
  /** Sends one datagram; the error is an errno name. `scopeId`: the interface index for link-local addresses. */
  sendTo(data: Uint8Array, address: IPAddress, port: number, scopeId?: number): Result<void, string>;
  stats(): DatagramStats;
  drain(): void;
  close(): void;
}

/** A UDP socket for IPv4 and IPv6 on one port (binding needs nothing, but ports below 1024 need CAP_NET_BIND_SERVICE). */
export function openDatagramSocket(options: DatagramSocketOptions): Result<DatagramSocket, SocketError> {
  const loaded = loadAddon();
  if (!loaded.ok) return loaded;
  let native: NativeDatagramSocket;
  try {
    native = new loaded.value.DatagramSocket(options.port, asBuffer(options.prefix), options.onDatagram, (e) => options.onError(toSocketError(e)), options.receiveBufferBytes);
  } catch (e) {
    return err(toSocketError(e as Error & Partial<SocketError>));
  }
  return ok({
    port: options.port,
    sendTo: (data, address, port, scopeId) => asResult(native.sendTo(data, asBuffer(ipv6Bytes(address)), port, scopeId)),
    stats: () => native.stats(),
    drain: () => native.drain(),
    close: () => native.close(),
  });
}

/** An IPv6 address's 16 bytes, or an IPv4 address mapped into IPv6 (::ffff:a.b.c.d), as a dual-stack socket takes it. */
function ipv6Bytes(address: IPAddress): Uint8Array {
  if (address.family === 6) return ipBytes(address);
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  bytes.set(ipBytes(address), 12);
  return bytes;
}
