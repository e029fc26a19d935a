// The speakers' heartbeat keys in their Secret, and how to rotate them without
// splitting the cluster. Pure: Secret data in, keys or the next data out.
//
// `key` signs every beat; `next-key` and `previous-key` are accepted too. A
// rotation is three steps, each waiting until every speaker has seen the
// previous one (speakers watch the Secret, so seconds do):
//   stage:   add the new key as next-key     — everyone accepts it, nobody signs with it yet
//   promote: key = new, previous-key = old   — speakers switch one by one; all accept both
//   retire:  drop previous-key               — everyone signs with the new key by now
// At every moment each speaker accepts the key every other speaker signs with.
import { HEARTBEAT_SECRET_KEY, HEARTBEAT_SECRET_NEXT_KEY, HEARTBEAT_SECRET_PREVIOUS_KEY } from '../api/index.ts';
import { err, ok, type Result } from '../result.ts';

/** 128 bits at least, as MetalLB's memberlist key. */
export const MIN_HEARTBEAT_KEY_BYTES = 16;

export type SecretData = Readonly<Record<string, string | undefined>>;

/** The keys in a Secret's data (base64), the signing key first, then next-key, then previous-key. */
export function heartbeatKeys(data: SecretData): Result<Uint8Array[], string> {
  if (data[HEARTBEAT_SECRET_KEY] === undefined) return err(`has no "${HEARTBEAT_SECRET_KEY}"`);
  const keys: Uint8Array[] = [];
  for (const name of [HEARTBEAT_SECRET_KEY, HEARTBEAT_SECRET_NEXT_KEY, HEARTBEAT_SECRET_PREVIOUS_KEY]) {
    const value = data[name];
    if (value === undefined) continue;
    const bytes = /^[A-Za-z0-9+/]*={0,2}$/.test(value) ? Buffer.from(value, 'base64') : Buffer.alloc(0);
    if (bytes.length < MIN_HEARTBEAT_KEY_BYTES) return err(`"${name}": heartbeat key has ${bytes.length} bytes; it needs at least ${MIN_HEARTBEAT_KEY_BYTES}`);
    keys.push(new Uint8Array(bytes));
  }
  return ok(keys);
}

export type RotationStep = 'stage' | 'promote' | 'retire';

/** Where a rotation stands: the step that comes next, or done when only `key` is left. */
export function nextRotationStep(data: SecretData): RotationStep | 'done' {
  if (data[HEARTBEAT_SECRET_NEXT_KEY] !== undefined) return 'promote';
  if (data[HEARTBEAT_SECRET_PREVIOUS_KEY] !== undefined) return 'retire';
  return 'done';
}

/** The Secret data after one step; `newKey` (base64) is used by stage only. */
export function applyRotationStep(data: SecretData, step: RotationStep, newKey?: string): Result<Record<string, string>, string> {
  const current = Object.fromEntries(Object.entries(data).filter((e): e is [string, string] => e[1] !== undefined));
  const key = current[HEARTBEAT_SECRET_KEY];
  if (key === undefined) return err(`the Secret has no "${HEARTBEAT_SECRET_KEY}" to rotate`);
  switch (step) {
    case 'stage':
      if (newKey === undefined) return err('stage needs the new key');
      if (current[HEARTBEAT_SECRET_NEXT_KEY] !== undefined || current[HEARTBEAT_SECRET_PREVIOUS_KEY] !== undefined) return err('a rotation is already under way; finish it first');
      return ok({ ...current, [HEARTBEAT_SECRET_NEXT_KEY]: newKey });
    case 'promote': {
      const next = current[HEARTBEAT_SECRET_NEXT_KEY];
      if (next === undefined) return err(`there is no "${HEARTBEAT_SECRET_NEXT_KEY}" to promote`);
      const { [HEARTBEAT_SECRET_NEXT_KEY]: _promoted, ...rest } = current;
      return ok({ ...rest, [HEARTBEAT_SECRET_KEY]: next, [HEARTBEAT_SECRET_PREVIOUS_KEY]: key });
    }
    case 'retire': {
      const { [HEARTBEAT_SECRET_PREVIOUS_KEY]: _retired, ...rest } = current;
      return ok(rest);
    }
  }
}
