import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LineSplitter, parseWatchLine } from './ndjson.ts';

/** Cuts text at the given offsets (sorted, deduplicated, inside the text). */
function cut(text: string, offsets: readonly number[]): string[] {
  const at = [...new Set(offsets.map((o) => o % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const o of at) {
    pieces.push(text.slice(from, o));
    from = o;
  }
  pieces.push(text.slice(from));
  return pieces;
}

describe('LineSplitter', () => {
  it('yields the same lines however the stream is chunked', () => {
    const line = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\n') && s.trim() !== '');
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), fc.boolean(), (lines, offsets, trailingNewline) => {
        const text = lines.join('\n') + (trailingNewline && lines.length ? '\n' : '');
        const splitter = new LineSplitter();
        const got = cut(text, offsets).flatMap((piece) => splitter.push(piece));
        got.push(...splitter.end());
        expect(got).toEqual(lines);
      }),
    );
  });

  it('holds a partial line until its newline, and skips blank lines', () => {
    const s = new LineSplitter();
    expect(s.push('{"a":')).toEqual([]);
    expect(s.push('1}\n\n  \n{"b"')).toEqual(['{"a":1}']);
    expect(s.push(':2}\n')).toEqual(['{"b":2}']);
    expect(s.end()).toEqual([]);
  });
});

describe('parseWatchLine', () => {
  it('events carry their object; BOOKMARK is an event too', () => {
    expect(parseWatchLine('{"type":"ADDED","object":{"metadata":{"name":"a"}}}')).toEqual({ ok: true, value: { kind: 'event', event: { type: 'ADDED', object: { metadata: { name: 'a' } } } } });
    const bookmark = parseWatchLine('{"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"214"}}}');
    expect(bookmark.ok && bookmark.value.kind === 'event' && bookmark.value.event.type).toBe('BOOKMARK');
  });

  it('an ERROR event is the API server’s Status: 410 Expired means list again', () => {
    const line = '{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 5 (214)","reason":"Expired","code":410}}';
    expect(parseWatchLine(line)).toEqual({ ok: true, value: { kind: 'error', error: { code: 410, reason: 'Expired', message: 'too old resource version: 5 (214)' } } });
  });

  it('refuses what is not a watch event, quoting it', () => {
    expect(parseWatchLine('{"type":"ADDED"')).toMatchObject({ ok: false, error: expect.stringMatching(/^watch stream: not JSON .*\{"type":"ADDED"$/) });
    expect(parseWatchLine('[1]')).toMatchObject({ ok: false, error: expect.stringContaining('event without an object') });
    expect(parseWatchLine('{"type":"RENAMED","object":{}}')).toEqual({ ok: false, error: 'watch stream: unknown event type "RENAMED"' });
  });
});
