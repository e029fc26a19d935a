// The watch wire format: one JSON object per line (Go's json.Encoder writes a
// newline after each), arriving in chunks that split lines anywhere.
import { err, ok, type Result } from '../../result.ts';
import { apiErrorFromStatus, type ApiError } from '../api-error.ts';

/** Splits text that arrives in arbitrary pieces into complete lines (without the newline). */
export class LineSplitter {
  private partial = '';

  /** The lines this chunk completes; a trailing partial line waits for the next chunk. */
  push(chunk: string): string[] {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    return parts.filter((line) => line.trim() !== '');
  }

  /** What is left when the stream ends: a last line without its newline, if any. */
  end(): string[] {
    const rest = this.partial;
    this.partial = '';
    return rest.trim() === '' ? [] : [rest];
  }
}

/** A watch event that carries an object (ERROR events become the watch's result instead). */
export interface WatchEvent<T> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  readonly object: T;
}

/** One line of a watch stream: an event, or the API server's ERROR (its Status as an ApiError, e.g. 410 Expired). */
export type WatchLine<T> = { readonly kind: 'event'; readonly event: WatchEvent<T> } | { readonly kind: 'error'; readonly error: ApiError };

const EVENT_TYPES: ReadonlySet<string> = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']);

/** Parses one line; a line that is not a watch event is an error string (the stream cannot be trusted after it). */
export function parseWatchLine<T>(line: string): Result<WatchLine<T>, string> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return err(`watch stream: not JSON (${(e as Error).message}): ${line.slice(0, 200)}`);
  }
  if (value === null || typeof value !== 'object') return err(`watch stream: not an event: ${line.slice(0, 200)}`);
  const { type, object } = value as { type?: unknown; object?: unknown };
  if (object === null || typeof object !== 'object') return err(`watch stream: event without an object: ${line.slice(0, 200)}`);
  if (type === 'ERROR') return ok({ kind: 'error', error: apiErrorFromStatus(object) });
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) return err(`watch stream: unknown event type ${JSON.stringify(type)}`);
  return ok({ kind: 'event', event: { type: type as WatchEvent<T>['type'], object: object as T } });
}
