// The heartbeat payload speakers broadcast on their announce interfaces (in an
// Ethernet frame with EtherType 0x88B5, built by the packet layer). Pure codec:
// bytes in, a checked value or a reason out; never throws on what the wire gives.
//
// Layout, version 1 (network byte order):
//   0  4  magic "BLHB"
//   4  1  version = 1
//   5  1  flags: bit 0 LEAVING, bit 1 JOINING; other bits ignored
//   6  2  interval in ms (the sender's beat period)
//   8  8  sequence (per boot, strictly increasing)
//  16  8  sender's wall clock, ms since the epoch (orders boots, see membership.ts)
//  24 16  boot id (random per process)
//  40  1  n = node name length
//  41  n  node name (RFC 1123 subdomain, what Kubernetes allows for Node names)
//  41+n 16 HMAC-SHA256 over bytes [0, 41+n), truncated to 128 bits (RFC 2104 §5)
// The smallest frame (58 bytes) is above Ethernet's 46-byte minimum payload, so
// no padding ever follows and the length must match exactly.
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { err, ok, type Result } from '../../shared/result.ts';

/** IEEE 802 Local Experimental EtherType 1: for protocols that are not registered. */
export const HEARTBEAT_ETHERTYPE = 0x88b5;

export interface Heartbeat {
  readonly node: string;
  /** 32 lowercase hex digits: 16 random bytes chosen when the speaker process starts. */
  readonly bootId: string;
  readonly sequence: number;
  readonly intervalMs: number;
  /** The sender's wall clock in ms since the epoch. */
  readonly sentAt: number;
  /** Graceful shutdown: drop this speaker now instead of waiting for its beats to stop. */
  readonly leaving: boolean;
  /** Still listening before it may claim IPs: present, but not a candidate yet. */
  readonly joining: boolean;
}

export type HeartbeatRejection = 'bad-size' | 'bad-magic' | 'bad-version' | 'bad-field' | 'bad-name' | 'bad-mac';

const MAGIC = [0x42, 0x4c, 0x48, 0x42]; // "BLHB"
const VERSION = 1;
const FLAG_LEAVING = 1;
const FLAG_JOINING = 2;
const HEADER = 41;
const MAC_BYTES = 16;
const MAX_NAME = 253;
export const MIN_INTERVAL_MS = 10;
export const MAX_INTERVAL_MS = 10_000;
export const MIN_KEY_BYTES = 16;

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const BOOT_ID = /^[0-9a-f]{32}$/;

/** A checked HMAC key. Imported once: handing raw bytes to createHmac re-imports the key per frame, 5× the cost of the MAC itself. */
export type HeartbeatKey = KeyObject;

/** The shared secret from the Kubernetes Secret; at least 128 bits, as MetalLB's memberlist key. */
export function parseHeartbeatKey(bytes: Uint8Array): Result<HeartbeatKey> {
  if (bytes.length < MIN_KEY_BYTES) return err(`heartbeat key has ${bytes.length} bytes; it needs at least ${MIN_KEY_BYTES}`);
  return ok(createSecretKey(bytes));
}

/** Throws on a beat this process made wrong (a bug): bad name, boot id, sequence or interval. */
export function encodeHeartbeat(beat: Heartbeat, key: HeartbeatKey): Uint8Array {
  if (beat.node.length > MAX_NAME || !NODE_NAME.test(beat.node)) throw new RangeError(`node name ${JSON.stringify(beat.node)} is not an RFC 1123 subdomain`);
  if (!BOOT_ID.test(beat.bootId)) throw new RangeError('boot id must be 32 lowercase hex digits');
  if (!Number.isSafeInteger(beat.sequence) || beat.sequence < 0) throw new RangeError(`sequence ${beat.sequence} is not a non-negative safe integer`);
  if (!intervalOK(beat.intervalMs)) throw new RangeError(`interval ${beat.intervalMs} ms is outside ${MIN_INTERVAL_MS}–${MAX_INTERVAL_MS}`);
  if (!Number.isSafeInteger(beat.sentAt) || beat.sentAt < 0) throw new RangeError(`sentAt ${beat.sentAt} is not a non-negative safe integer`);

  const n = beat.node.length;
  const bytes = new Uint8Array(HEADER + n + MAC_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint8(4, VERSION);
  view.setUint8(5, (beat.leaving ? FLAG_LEAVING : 0) | (beat.joining ? FLAG_JOINING : 0));
  view.setUint16(6, beat.intervalMs);
  view.setBigUint64(8, BigInt(beat.sequence));
  view.setBigUint64(16, BigInt(beat.sentAt));
  bytes.set(Buffer.from(beat.bootId, 'hex'), 24);
  view.setUint8(40, n);
  bytes.set(Buffer.from(beat.node, 'latin1'), HEADER);
  bytes.set(mac(key, bytes.subarray(0, HEADER + n)), HEADER + n);
  return bytes;
}

/**
 * Checks size, magic, version and the MAC (against each key in turn, so a key
 * rotation can carry the old and the new key) before trusting any field.
 */
export function decodeHeartbeat(bytes: Uint8Array, keys: readonly HeartbeatKey[]): Result<Heartbeat, HeartbeatRejection> {
  if (bytes.length < HEADER + 1 + MAC_BYTES || bytes.length > HEADER + MAX_NAME + MAC_BYTES) return err('bad-size');
  if (MAGIC.some((b, i) => bytes[i] !== b)) return err('bad-magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(4) !== VERSION) return err('bad-version');
  const n = view.getUint8(40);
  if (bytes.length !== HEADER + n + MAC_BYTES) return err('bad-size');

  const signed = bytes.subarray(0, HEADER + n);
  const received = bytes.subarray(HEADER + n);
  if (!keys.some((key) => timingSafeEqual(mac(key, signed), received))) return err('bad-mac');

  const flags = view.getUint8(5);
  const intervalMs = view.getUint16(6);
  const sequence = view.getBigUint64(8);
  const sentAt = view.getBigUint64(16);
  if (!intervalOK(intervalMs) || sequence > BigInt(Number.MAX_SAFE_INTEGER) || sentAt > BigInt(Number.MAX_SAFE_INTEGER)) return err('bad-field');
  const node = Buffer.from(bytes.subarray(HEADER, HEADER + n)).toString('latin1');
  if (!NODE_NAME.test(node)) return err('bad-name');
  return ok({
    node,
    bootId: Buffer.from(bytes.subarray(24, 40)).toString('hex'),
    sequence: Number(sequence),
    intervalMs,
    sentAt: Number(sentAt),
    leaving: (flags & FLAG_LEAVING) !== 0,
    joining: (flags & FLAG_JOINING) !== 0,
  });
}

function mac(key: HeartbeatKey, data: Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest().subarray(0, MAC_BYTES);
}

function intervalOK(ms: number): boolean {
  return Number.isInteger(ms) && ms >= MIN_INTERVAL_MS && ms <= MAX_INTERVAL_MS;
}
