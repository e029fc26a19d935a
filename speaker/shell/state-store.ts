// The state directory: the last election inputs (state.json) and the heartbeat
// key (heartbeat-key, mode 0600), so a speaker restarted while the API server
// is unreachable still knows what to announce and can hear its peers.
// Writes are atomic (temporary file, then rename) and coalesced.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../shared/observability/index.ts';
import { decodeState, encodeState, type ModelSnapshot } from '../core/index.ts';

export interface LoadedState {
  readonly model: ModelSnapshot | undefined;
  readonly savedAt: string | undefined;
  readonly keys: Uint8Array[];
}

/** Model writes are coalesced to one per this many ms: endpoint churn must not become disk churn. */
const SAVE_EVERY_MS = 1_000;

export class StateStore {
  readonly #dir: string;
  readonly #node: string;
  readonly #log: Logger;
  #pending: (() => ModelSnapshot) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #warned = false;

  constructor(dir: string, node: string, log: Logger) {
    this.#dir = dir;
    this.#node = node;
    this.#log = log.child({ stateDir: dir });
  }

  load(): LoadedState {
    let model: ModelSnapshot | undefined;
    let savedAt: string | undefined;
    const text = this.#read('state.json');
    if (text !== undefined) {
      const decoded = decodeState(text, this.#node);
      if (decoded.ok) ({ model, savedAt } = decoded.value);
      else this.#log.warn(`ignoring state.json: ${decoded.error}`);
    }
    const keys = (this.#read('heartbeat-key') ?? '')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => new Uint8Array(Buffer.from(line.trim(), 'base64')));
    return { model, savedAt, keys };
  }

  /** Saves the model within SAVE_EVERY_MS; `snapshot` is called when the write happens, so it is the latest. */
  saveModel(snapshot: () => ModelSnapshot): void {
    this.#pending = snapshot;
    this.#timer ??= setTimeout(() => this.flush(), SAVE_EVERY_MS);
  }

  saveKeys(keys: readonly Uint8Array[]): void {
    this.#write('heartbeat-key', keys.map((k) => Buffer.from(k).toString('base64')).join('\n') + '\n');
  }

  /** Writes what is pending now (on shutdown). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const snapshot = this.#pending;
    this.#pending = undefined;
    if (snapshot !== undefined) this.#write('state.json', encodeState(this.#node, new Date(), snapshot()));
  }

  #read(file: string): string | undefined {
    try {
      return readFileSync(join(this.#dir, file), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.#log.warn({ err: (e as Error).message }, `cannot read ${file}`);
      return undefined;
    }
  }

  #write(file: string, content: string): void {
    const path = join(this.#dir, file);
    try {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      const tmp = `${path}.tmp`;
      writeFileSync(tmp, content, { mode: 0o600 });
      renameSync(tmp, path);
      this.#warned = false;
    } catch (e) {
      // Logged once per failure streak: a read-only directory must not flood the log.
      if (!this.#warned) this.#log.warn({ err: (e as Error).message }, `cannot write ${file}; a restart without the API server will not know what to announce`);
      this.#warned = true;
    }
  }
}
