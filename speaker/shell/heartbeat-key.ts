// The heartbeat keys from their Secret (created by the controller), watched by
// name (RBAC grants get, list and watch on this one Secret only), so a
// rotation reaches every speaker within a second or two. `key` signs;
// `next-key` and `previous-key` are accepted while a rotation rolls out
// (shared/config/heartbeat-keys.ts). A Secret that disappears or stops
// parsing leaves the last keys in use: a speaker without keys cannot vouch
// for anyone.
import type { V1Secret } from '@kubernetes/client-node';
import { heartbeatKeys } from '../../shared/config/index.ts';
import { createInformer, RESOURCES, type ApiAccess, type Informer } from '../../shared/k8s/index.ts';
import type { Logger } from '../../shared/observability/index.ts';
import { err, ok, type Result } from '../../shared/result.ts';

export const sameKeys = (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean =>
  a.length === b.length && a.every((k, i) => Buffer.compare(k, b[i]!) === 0);

export class HeartbeatKeySource {
  readonly #namespace: string;
  readonly #name: string;
  readonly #log: Logger;
  readonly #onKeys: (keys: Uint8Array[]) => void;
  readonly #informer: Informer<V1Secret>;
  #keys: Uint8Array[] = [];
  #problem: string | undefined = 'not read yet';

  constructor(opts: { access: ApiAccess; namespace: string; name: string; log: Logger; onKeys: (keys: Uint8Array[]) => void }) {
    this.#namespace = opts.namespace;
    this.#name = opts.name;
    this.#log = opts.log;
    this.#onKeys = opts.onKeys;
    this.#informer = createInformer(opts.access, RESOURCES.secret, {
      namespace: opts.namespace,
      fieldSelector: `metadata.name=${opts.name}`,
      logger: opts.log,
      onAdd: (s) => this.#read(s),
      onUpdate: (s) => this.#read(s),
      onDelete: () => this.#report('was deleted; the last keys stay in use (the controller creates a new Secret, with a new key, when it restarts)'),
    });
    this.#informer.synced.then(
      () => {
        if (this.#informer.cache.size === 0) this.#report('does not exist (the controller creates it)');
      },
      () => {},
    );
  }

  /** Keys known from elsewhere (the state directory) until the Secret is read. */
  seed(keys: Uint8Array[]): void {
    this.#keys = keys;
  }

  start(): void {
    this.#informer.start();
  }

  stop(): void {
    void this.#informer.stop();
  }

  readiness(): Result<void, string> {
    if (this.#keys.length === 0) return err(`no heartbeat key: Secret ${this.#namespace}/${this.#name} ${this.#problem ?? ''}`.trim());
    return ok(undefined);
  }

  #read(secret: V1Secret): void {
    const keys = heartbeatKeys(secret.data ?? {});
    if (!keys.ok) return this.#report(keys.error);
    this.#problem = undefined;
    if (sameKeys(keys.value, this.#keys)) return;
    this.#log.info({ secret: `${this.#namespace}/${this.#name}`, keys: keys.value.length }, 'heartbeat keys loaded');
    this.#keys = keys.value;
    this.#onKeys(keys.value);
  }

  #report(problem: string): void {
    if (problem !== this.#problem) this.#log.warn(`heartbeat Secret ${this.#namespace}/${this.#name} ${problem}`);
    this.#problem = problem;
  }
}
