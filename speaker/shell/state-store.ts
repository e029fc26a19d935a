// The state directory: the last election inputs (state.json) and the heartbeat
// keys (heartbeat-key, mode 0600), so a speaker restarted while the API server
// is unreachable still knows what to announce and can hear its peers.
// Writes are atomic (temporary file, then rename) and coalesced. What is read
// back is checked: keys must be keys, and a view older than a day is not
// trusted (nodes come and go; a day-old view could elect a node long gone).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../shared/observability/index.ts';
import { decodeState, encodeState, type ModelSnapshot } from '../core/index.ts';
import { parseHeartbeatKey } from '../liveness/index.ts';

export interface LoadedState {
  readonly model: ModelSnapshot | undefined;
  readonly savedAt: string | undefined;
  readonly keys: Uint8Array[];
  /** Why a saved view was not returned (too old, broken), for the log. */
  readonly problem?: string;
}

/** A saved view older than this is not used. */
export const MAX_STATE_AGE_MS = 24 * 60 * 60 * 1000;

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

  load(nowMs = Date.now()): LoadedState {
    let model: ModelSnapshot | undefined;
    let savedAt: string | undefined;
    let problem: string | undefined;
    const text = this.#read('state.json');
    if (text !== undefined) {
      const decoded = decodeState(text, this.#node);
      if (!decoded.ok) problem = `state.json: ${decoded.error}`;
      else {
        const age = nowMs - Date.parse(decoded.value.savedAt);
        // A clock stepped back makes the age negative: trust it no more than an old one.
        if (!(age >= 0 && age <= MAX_STATE_AGE_MS)) problem = `state.json was saved at ${decoded.value.savedAt}, ${Number.isFinite(age) ? `${Math.round(age / 1000)} s ago` : 'at an unreadable time'}; a saved view is used only within ${MAX_STATE_AGE_MS / 3_600_000} h`;
        else ({ model, savedAt } = decoded.value);
      }
    }
    const keys: Uint8Array[] = [];
    for (const line of (this.#read('heartbeat-key') ?? '').split('\n')) {
      const text = line.trim();
      if (text === '') continue;
      const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? new Uint8Array(Buffer.from(text, 'base64')) : new Uint8Array();
      const key = parseHeartbeatKey(bytes);
      if (key.ok) keys.push(bytes);
      else this.#log.warn(`ignoring a saved heartbeat key: ${bytes.length === 0 ? 'not base64' : key.error}`);
    }
    return problem === undefined ? { model, savedAt, keys } : { model, savedAt, keys, problem };
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
