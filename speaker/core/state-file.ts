// The speaker's state file: the last election inputs it saw, so a speaker
// restarted while the API server is unreachable rebuilds its view from disk
// (Cilium#40735 is what happens without it). Pure: encode and parse; the shell
// reads and writes the file.
import { err, ok, type Result } from '../../shared/result.ts';
import { MODEL_KINDS, type ModelSnapshot } from './cluster-model.ts';

const VERSION = 1;

export interface StateFile {
  readonly version: typeof VERSION;
  /** The node that wrote it: a state directory carried to another node is not used. */
  readonly node: string;
  readonly savedAt: string;
  readonly model: ModelSnapshot;
}

export function encodeState(node: string, savedAt: Date, model: ModelSnapshot): string {
  const file: StateFile = { version: VERSION, node, savedAt: savedAt.toISOString(), model };
  return `${JSON.stringify(file)}\n`;
}

/**
 * The snapshot in a state file, checked as far as its shape; each object is
 * parsed again by the cluster model like one from the API.
 */
export function decodeState(text: string, node: string): Result<{ model: ModelSnapshot; savedAt: string }, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return err(`not JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null) return err('not a JSON object');
  const file = value as Partial<StateFile>;
  if (file.version !== VERSION) return err(`version ${JSON.stringify(file.version)}, expected ${VERSION}`);
  if (file.node !== node) return err(`written by node ${JSON.stringify(file.node)}, this is ${node}`);
  if (typeof file.savedAt !== 'string') return err('savedAt is missing');
  const model = file.model as Record<string, unknown> | undefined;
  if (typeof model !== 'object' || model === null) return err('model is missing');
  for (const kind of MODEL_KINDS) {
    if (!Array.isArray(model[kind])) return err(`model.${kind} is not a list`);
    if (!(model[kind] as unknown[]).every((o) => typeof o === 'object' && o !== null)) return err(`model.${kind} holds something that is not an object`);
  }
  return ok({ model: model as unknown as ModelSnapshot, savedAt: file.savedAt });
}
