// The heartbeat speakers send each other, on every announce interface both as
// a raw Ethernet frame (EtherType 0x88B5) and as a UDP datagram to each peer
// (see speaker/shell/wire-worker.ts). Pure codec: bytes in, a checked value or
// a reason out; never throws on what the wire gives.
//
// Layout, version 2 (network byte order):
//   0   4  magic "BLHB"
//   4   1  version = 2
//   5   1  flags: bit 0 LEAVING, 1 JOINING, 2 DETACHED, 3 LEASE, 4 TRUNCATED; others ignored
//   6   2  interval in ms (the sender's beat period)
//   8   8  incarnation (random, drawn whenever the sender's wire worker starts)
//  16   4  sequence (per incarnation, starts random, +1 per beat, wraps: RFC 1982 order)
//  20   2  lease remaining in ms (the tie-break Lease the sender holds; 0 unless LEASE)
//  22   1  n = node name length
//  23   n  node name (RFC 1123 subdomain, what Kubernetes allows for Node names)
//   .   1  m = MAC count (at most 8): the sender's announce interfaces
//   .  6m  MACs
//   .   2  p = peer count
//   . 11p  per peer: name hash (6: sha256 of the name, truncated), the last
//          sequence heard from it (4), flags (1: bit 0 HEARS, bit 1 IN_VIEW)
//   .  16  HMAC-SHA256 over everything before it, truncated to 128 bits (RFC 2104 §5)
//
// Nothing here is ordered by a clock: a beat is fresh when it acknowledges a
// sequence its receiver sent within the last window (membership.ts), which
// is also what refuses replays from before a restart.
import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { err, ok, type Result } from '../../shared/result.ts';

/** IEEE 802 Local Experimental EtherType 1: for protocols that are not registered. */
export const HEARTBEAT_ETHERTYPE = 0x88b5;
/** MetalLB's memberlist uses 7946; ours is the next one. */
export const DEFAULT_HEARTBEAT_PORT = 7947;

export type PeerState = 'joining' | 'active' | 'detached' | 'leaving';

export interface PeerEntry {
  /** 12 lowercase hex digits: nameHash(node). */
  readonly hash: string;
  /** The last sequence the sender heard from that peer (of the incarnation it tracks). */
  readonly sequence: number;
  /** The sender heard a fresh beat from that peer within its window. */
  readonly hears: boolean;
  /** The peer is in the view the sender's current ownership was elected over. */
  readonly inView: boolean;
}

export interface Heartbeat {
  readonly node: string;
  /** 16 lowercase hex digits, random per wire-worker start. */
  readonly incarnation: string;
  readonly sequence: number;
  readonly intervalMs: number;
  readonly state: PeerState;
  /** The sender holds the tie-break Lease for this many more ms (0: it does not). */
  readonly leaseMs: number;
  /** The sender's peer list did not fit: its view is unknown, so nobody can agree with it. */
  readonly truncated: boolean;
  /** The sender's announce interfaces' MACs, formatted aa:bb:cc:dd:ee:ff. */
  readonly macs: readonly string[];
  readonly peers: readonly PeerEntry[];
}

export type HeartbeatRejection = 'bad-size' | 'bad-magic' | 'bad-version' | 'bad-field' | 'bad-name' | 'bad-mac';

const MAGIC = [0x42, 0x4c, 0x48, 0x42]; // "BLHB"
export const HEARTBEAT_VERSION = 2;
const FLAG_LEAVING = 1;
const FLAG_JOINING = 2;
const FLAG_DETACHED = 4;
const FLAG_LEASE = 8;
const FLAG_TRUNCATED = 16;
const PEER_HEARS = 1;
const PEER_IN_VIEW = 2;
const NAME_AT = 23;
const MAC_BYTES = 16;
const PEER_BYTES = 11;
const MAX_NAME = 253;
export const MAX_MACS = 8;
/** Ethernet's payload limit: a beat must fit one frame (and one unfragmented datagram). */
export const MAX_HEARTBEAT_BYTES = 1472;
export const MIN_INTERVAL_MS = 10;
export const MAX_INTERVAL_MS = 10_000;
export const MIN_KEY_BYTES = 16;

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const INCARNATION = /^[0-9a-f]{16}$/;
const HASH = /^[0-9a-f]{12}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** A checked HMAC key. Imported once: handing raw bytes to createHmac re-imports the key per frame, 5× the cost of the MAC itself. */
export type HeartbeatKey = KeyObject;

/** The shared secret from the Kubernetes Secret; at least 128 bits, as MetalLB's memberlist key. */
export function parseHeartbeatKey(bytes: Uint8Array): Result<HeartbeatKey> {
  if (bytes.length < MIN_KEY_BYTES) return err(`heartbeat key has ${bytes.length} bytes; it needs at least ${MIN_KEY_BYTES}`);
  return ok(createSecretKey(bytes));
}

/** How beats name a peer: 48 bits of sha256 (collisions among 10 000 nodes ≈ 2e-7). */
export function nameHash(node: string): string {
  return createHash('sha256').update(node, 'latin1').digest('hex').slice(0, 12);
}

/** How many peer entries fit beside a name of this length and this many MACs. */
export function peerCapacity(nameLength: number, macs: number): number {
  return Math.floor((MAX_HEARTBEAT_BYTES - NAME_AT - nameLength - 1 - 6 * macs - 2 - MAC_BYTES) / PEER_BYTES);
}

/** Throws on a beat this process made wrong (a bug): bad name, incarnation, field, or too many peers. */
export function encodeHeartbeat(beat: Heartbeat, key: HeartbeatKey): Uint8Array {
  if (beat.node.length > MAX_NAME || !NODE_NAME.test(beat.node)) throw new RangeError(`node name ${JSON.stringify(beat.node)} is not an RFC 1123 subdomain`);
  if (!INCARNATION.test(beat.incarnation)) throw new RangeError('incarnation must be 16 lowercase hex digits');
  if (!isUint32(beat.sequence)) throw new RangeError(`sequence ${beat.sequence} is not a 32-bit unsigned integer`);
  if (!intervalOK(beat.intervalMs)) throw new RangeError(`interval ${beat.intervalMs} ms is outside ${MIN_INTERVAL_MS}–${MAX_INTERVAL_MS}`);
  if (!Number.isInteger(beat.leaseMs) || beat.leaseMs < 0 || beat.leaseMs > 0xffff) throw new RangeError(`lease ${beat.leaseMs} ms is outside 0–65535`);
  if (beat.macs.length > MAX_MACS || !beat.macs.every((m) => MAC.test(m))) throw new RangeError(`at most ${MAX_MACS} MACs, formatted aa:bb:cc:dd:ee:ff`);
  if (beat.peers.length > peerCapacity(beat.node.length, beat.macs.length)) throw new RangeError(`${beat.peers.length} peers do not fit one frame`);
  for (const p of beat.peers) {
    if (!HASH.test(p.hash) || !isUint32(p.sequence)) throw new RangeError(`bad peer entry ${JSON.stringify(p)}`);
  }

  const n = beat.node.length;
  const signedLength = NAME_AT + n + 1 + 6 * beat.macs.length + 2 + PEER_BYTES * beat.peers.length;
  const bytes = new Uint8Array(signedLength + MAC_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint8(4, HEARTBEAT_VERSION);
  view.setUint8(5, stateFlags(beat.state) | (beat.leaseMs > 0 ? FLAG_LEASE : 0) | (beat.truncated ? FLAG_TRUNCATED : 0));
  view.setUint16(6, beat.intervalMs);
  bytes.set(Buffer.from(beat.incarnation, 'hex'), 8);
  view.setUint32(16, beat.sequence);
  view.setUint16(20, beat.leaseMs);
  view.setUint8(22, n);
  bytes.set(Buffer.from(beat.node, 'latin1'), NAME_AT);
  let at = NAME_AT + n;
  view.setUint8(at++, beat.macs.length);
  for (const mac of beat.macs) {
    bytes.set(Buffer.from(mac.replaceAll(':', ''), 'hex'), at);
    at += 6;
  }
  view.setUint16(at, beat.peers.length);
  at += 2;
  for (const p of beat.peers) {
    bytes.set(Buffer.from(p.hash, 'hex'), at);
    view.setUint32(at + 6, p.sequence);
    view.setUint8(at + 10, (p.hears ? PEER_HEARS : 0) | (p.inView ? PEER_IN_VIEW : 0));
    at += PEER_BYTES;
  }
  bytes.set(mac(key, bytes.subarray(0, signedLength)), signedLength);
  return bytes;
}

/**
 * Checks size, magic, version, the layout's own lengths and then the MAC
 * (against each key in turn, so a key rotation can carry several) before
 * trusting any field.
 */
export function decodeHeartbeat(bytes: Uint8Array, keys: readonly HeartbeatKey[]): Result<Heartbeat, HeartbeatRejection> {
  if (bytes.length < NAME_AT + 1 + 1 + 2 + MAC_BYTES || bytes.length > MAX_HEARTBEAT_BYTES) return err('bad-size');
  if (MAGIC.some((b, i) => bytes[i] !== b)) return err('bad-magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(4) !== HEARTBEAT_VERSION) return err('bad-version');
  const n = view.getUint8(22);
  const macsAt = NAME_AT + n;
  if (macsAt + 1 > bytes.length) return err('bad-size');
  const m = view.getUint8(macsAt);
  const peersAt = macsAt + 1 + 6 * m;
  if (peersAt + 2 > bytes.length) return err('bad-size');
  const p = view.getUint16(peersAt);
  const signedLength = peersAt + 2 + PEER_BYTES * p;
  if (bytes.length !== signedLength + MAC_BYTES) return err('bad-size');

  const signed = bytes.subarray(0, signedLength);
  const received = bytes.subarray(signedLength);
  if (!keys.some((key) => timingSafeEqual(mac(key, signed), received))) return err('bad-mac');

  const flags = view.getUint8(5);
  const intervalMs = view.getUint16(6);
  const leaseMs = view.getUint16(20);
  if (!intervalOK(intervalMs) || m > MAX_MACS || ((flags & FLAG_LEAVING) !== 0 && (flags & FLAG_JOINING) !== 0)) return err('bad-field');
  const node = Buffer.from(bytes.subarray(NAME_AT, NAME_AT + n)).toString('latin1');
  if (n === 0 || !NODE_NAME.test(node)) return err('bad-name');
  const macs: string[] = [];
  for (let i = 0; i < m; i++) macs.push(formatMacBytes(bytes.subarray(macsAt + 1 + 6 * i, macsAt + 7 + 6 * i)));
  const peers: PeerEntry[] = [];
  for (let i = 0, at = peersAt + 2; i < p; i++, at += PEER_BYTES) {
    const f = view.getUint8(at + 10);
    peers.push({ hash: Buffer.from(bytes.subarray(at, at + 6)).toString('hex'), sequence: view.getUint32(at + 6), hears: (f & PEER_HEARS) !== 0, inView: (f & PEER_IN_VIEW) !== 0 });
  }
  return ok({
    node,
    incarnation: Buffer.from(bytes.subarray(8, 16)).toString('hex'),
    sequence: view.getUint32(16),
    intervalMs,
    state: flags & FLAG_LEAVING ? 'leaving' : flags & FLAG_JOINING ? 'joining' : flags & FLAG_DETACHED ? 'detached' : 'active',
    leaseMs: flags & FLAG_LEASE ? leaseMs : 0,
    truncated: (flags & FLAG_TRUNCATED) !== 0,
    macs,
    peers,
  });
}

/** RFC 1982 serial number order on 32 bits: is `a` after `b`? (Sequences start at random and wrap.) */
export function sequenceAfter(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x8000_0000;
}

function stateFlags(state: PeerState): number {
  return state === 'leaving' ? FLAG_LEAVING : state === 'joining' ? FLAG_JOINING : state === 'detached' ? FLAG_DETACHED : 0;
}

function formatMacBytes(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function mac(key: HeartbeatKey, data: Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest().subarray(0, MAC_BYTES);
}

function intervalOK(ms: number): boolean {
  return Number.isInteger(ms) && ms >= MIN_INTERVAL_MS && ms <= MAX_INTERVAL_MS;
}

const isUint32 = (x: number): boolean => Number.isInteger(x) && x >= 0 && x <= 0xffff_ffff;
