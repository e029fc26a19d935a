// The heartbeat key from its Secret (contract.md: `key`, 32+ random bytes,
// created by the controller). Read by name only (RBAC grants get on this one
// Secret, no list or watch), so it is polled: often until found, then slowly
// to pick up a rotation. `previous-key`, when present, is accepted on received
// beats too, so a key can be rotated without a failover.
import type { V1Secret } from '@kubernetes/client-node';
import { HEARTBEAT_SECRET_KEY } from '../../shared/api/index.ts';
import { formatApiError, objectClient, RESOURCES, type ApiAccess } from '../../shared/k8s/index.ts';
import type { Logger } from '../../shared/observability/index.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import { parseHeartbeatKey } from '../liveness/index.ts';

export const PREVIOUS_KEY = 'previous-key';
const POLL_MISSING_MS = 5_000;
const POLL_FOUND_MS = 60_000;

/** The keys in a Secret: the signing key first. */
export function keysFromSecret(secret: V1Secret): Result<Uint8Array[], string> {
  const data = secret.data ?? {};
  const primary = data[HEARTBEAT_SECRET_KEY];
  if (primary === undefined) return err(`has no "${HEARTBEAT_SECRET_KEY}"`);
  const keys: Uint8Array[] = [];
  for (const [name, value] of [[HEARTBEAT_SECRET_KEY, primary], [PREVIOUS_KEY, data[PREVIOUS_KEY]]] as const) {
    if (value === undefined) continue;
    const bytes = new Uint8Array(Buffer.from(value, 'base64'));
    const checked = parseHeartbeatKey(bytes);
    if (!checked.ok) return err(`"${name}": ${checked.error}`);
    keys.push(bytes);
  }
  return ok(keys);
}

export const sameKeys = (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean =>
  a.length === b.length && a.every((k, i) => Buffer.compare(k, b[i]!) === 0);

export class HeartbeatKeySource {
  readonly #access: ApiAccess;
  readonly #namespace: string;
  readonly #name: string;
  readonly #log: Logger;
  readonly #onKeys: (keys: Uint8Array[]) => void;
  #keys: Uint8Array[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #problem: string | undefined = 'not read yet';
  #logged: string | undefined;

  constructor(opts: { access: ApiAccess; namespace: string; name: string; log: Logger; onKeys: (keys: Uint8Array[]) => void }) {
    this.#access = opts.access;
    this.#namespace = opts.namespace;
    this.#name = opts.name;
    this.#log = opts.log;
    this.#onKeys = opts.onKeys;
  }

  /** Keys known from elsewhere (the state directory) until the Secret is read. */
  seed(keys: Uint8Array[]): void {
    this.#keys = keys;
  }

  start(): void {
    void this.#poll();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  readiness(): Result<void, string> {
    if (this.#keys.length === 0) return err(`no heartbeat key: Secret ${this.#namespace}/${this.#name} ${this.#problem ?? ''}`.trim());
    return ok(undefined);
  }

  async #poll(): Promise<void> {
    if (this.#stopped) return;
    const read = await objectClient(this.#access, RESOURCES.secret).get({ namespace: this.#namespace, name: this.#name }, { timeoutMs: 5_000 });
    let found = false;
    if (!read.ok) {
      this.#problem = read.error.code === 404 ? 'does not exist (the controller creates it)' : `cannot be read: ${formatApiError(read.error)}`;
    } else {
      const keys = keysFromSecret(read.value);
      if (!keys.ok) this.#problem = keys.error;
      else {
        found = true;
        this.#problem = undefined;
        if (!sameKeys(keys.value, this.#keys)) {
          this.#log.info({ secret: `${this.#namespace}/${this.#name}`, keys: keys.value.length }, 'heartbeat key loaded');
          this.#keys = keys.value;
          this.#onKeys(keys.value);
        }
      }
    }
    if (this.#problem !== undefined && this.#problem !== this.#logged) this.#log.warn(`heartbeat Secret ${this.#namespace}/${this.#name} ${this.#problem}`);
    this.#logged = this.#problem;
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#poll(), found ? POLL_FOUND_MS : POLL_MISSING_MS);
    this.#timer.unref();
  }
}
