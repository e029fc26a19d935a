// The informer's list+watch logic against a scripted ApiAccess: what it lists
// and watches from where, and what handlers and cache see through bookmarks,
// 410s, failures and stops. The same against a real API server is in
// informer.lab.test.ts.
import { describe, expect, it, vi } from 'vitest';
import { err, ok, type Result } from '../result.ts';
import { createLogger } from '../observability/index.ts';
import type { ApiError } from './api-error.ts';
import { createInformer, type InformerOptions } from './informer.ts';
import { defineResource, type ApiObject } from './resources.ts';
import type { ApiAccess, Query, WatchOptions } from './transport/index.ts';

interface Obj extends ApiObject {
  metadata: { namespace: string; name: string; resourceVersion: string; annotations?: Record<string, string> };
  v?: string;
}
const things = defineResource<Obj>('example.io/v1', 'Thing', 'things', true);
const obj = (name: string, rv: string, v = rv): Obj => ({ metadata: { namespace: 'ns', name, resourceVersion: rv }, v });

type ListAnswer = Result<{ items: Obj[]; metadata: { resourceVersion: string } }, ApiError>;
interface OpenWatch {
  readonly query: Query;
  readonly opts: WatchOptions<Obj>;
  readonly signal: AbortSignal | undefined;
  open(): void;
  send(type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK', o: Obj): void;
  end(r: Result<void, ApiError>): void;
}

/**
 * Answers lists from a script and hands each watch to the test. A watch that asks for the initial state streamed
 * (sendInitialEvents) is refused with 422, as by an API server with the WatchList feature gate off, unless
 * `streams` is set: then it is handed to the test like any other.
 */
class ScriptedApi implements ApiAccess {
  readonly server = 'https://198.51.100.1';
  readonly lists: Array<{ path: string; query: Query | undefined }> = [];
  readonly watches: OpenWatch[] = [];
  readonly refusedStreams: Query[] = [];
  private readonly answers: ListAnswer[] = [];
  private readonly streams: boolean;

  constructor(opts: { streams?: boolean } = {}) {
    this.streams = opts.streams ?? false;
  }

  answerList(...answers: ListAnswer[]): void {
    this.answers.push(...answers);
  }

  async request<T>(method: string, path: string, opts: { query?: Query } = {}): Promise<Result<T, ApiError>> {
    expect(method).toBe('GET');
    this.lists.push({ path, query: opts.query });
    const answer = this.answers.shift();
    if (!answer) throw new Error('unexpected list');
    return answer as Result<T, ApiError>;
  }

  watch<T>(_path: string, opts: WatchOptions<T>): Promise<Result<void, ApiError>> {
    if (opts.query?.sendInitialEvents && !this.streams) {
      this.refusedStreams.push(opts.query);
      return Promise.resolve(err({ code: 422, reason: 'Invalid', message: 'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled' }));
    }
    return new Promise((resolve) => {
      const o = opts as unknown as WatchOptions<Obj>;
      let done = false;
      const end = (r: Result<void, ApiError>): void => {
        if (!done) resolve(r);
        done = true;
      };
      opts.signal?.addEventListener('abort', () => end(err({ code: undefined, reason: 'Aborted', message: 'watch stopped' })));
      this.watches.push({
        query: opts.query ?? {},
        opts: o,
        signal: opts.signal,
        open: () => o.onOpen?.(),
        send: (type, object) => o.onEvent({ type, object }),
        end,
      });
    });
  }

  close(): void {}

  async nextWatch(count: number): Promise<OpenWatch> {
    await vi.waitFor(() => expect(this.watches.length).toBeGreaterThanOrEqual(count), { timeout: 2_000, interval: 2 });
    return this.watches[count - 1]!;
  }
}

const listed = (rv: string, ...items: Obj[]): ListAnswer => ok({ items, metadata: { resourceVersion: rv } });
const initialEventsEnd = (rv: string): Obj => ({ metadata: { namespace: '', name: '', resourceVersion: rv, annotations: { 'k8s.io/initial-events-end': 'true' } } }) as Obj;
const refused: ApiError = { code: undefined, reason: 'ECONNREFUSED', message: 'connect ECONNREFUSED 198.51.100.1:443' };
const gone: ApiError = { code: 410, reason: 'Expired', message: 'too old resource version: 5 (90)' };

function recording(api: ScriptedApi, opts: InformerOptions<Obj> = {}) {
  const seen: string[] = [];
  const informer = createInformer(api, things, {
    namespace: 'ns',
    labelSelector: 'app=x',
    backoff: { initialMs: 1, maxMs: 1, random: () => 1 },
    onAdd: (o) => seen.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`),
    onUpdate: (o, old) => seen.push(`update ${o.metadata.name}@${old.metadata.resourceVersion}→${o.metadata.resourceVersion}`),
    onDelete: (o) => seen.push(`delete ${o.metadata.name}@${o.metadata.resourceVersion}`),
    ...opts,
  });
  return { informer, seen };
}

describe('informer (scripted API)', () => {
  it('lists, then watches from the list’s resourceVersion with the same selectors; synced once the watch is open', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('10', obj('a', '5')));
    const { informer, seen } = recording(api);
    let synced = false;
    void informer.synced.then(() => (synced = true));
    informer.start();
    const w = await api.nextWatch(1);
    expect(api.lists).toEqual([{ path: '/apis/example.io/v1/namespaces/ns/things', query: expect.objectContaining({ labelSelector: 'app=x', limit: 500 }) }]);
    expect(w.query).toEqual({ resourceVersion: '10', labelSelector: 'app=x', fieldSelector: undefined });
    expect(seen).toEqual(['add a@5']);
    expect(synced).toBe(false);
    w.open();
    await informer.synced;
    expect(informer.healthy).toBe(true);
    expect(informer.readiness()).toEqual({ ok: true, value: undefined });
    // Lists of built-in kinds lack apiVersion/kind; the cache has them.
    expect(informer.cache.get('ns/a')).toMatchObject({ apiVersion: 'example.io/v1', kind: 'Thing' });
    await informer.stop();
  });

  it('applies watch events in order (update with the old object), and resumes from the last bookmark when the server ends the watch', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('10', obj('a', '5')));
    const { informer, seen } = recording(api);
    informer.start();
    const w = await api.nextWatch(1);
    w.open();
    w.send('ADDED', obj('b', '11'));
    w.send('MODIFIED', obj('a', '12'));
    w.send('MODIFIED', obj('a', '12')); // the same version again: nothing new
    w.send('DELETED', obj('b', '13'));
    w.send('DELETED', obj('never-seen', '14'));
    w.send('BOOKMARK', { metadata: { namespace: '', name: '', resourceVersion: '20' } });
    expect(seen).toEqual(['add a@5', 'add b@11', 'update a@5→12', 'delete b@13']);
    expect([...informer.cache.keys()]).toEqual(['ns/a']);
    w.end(ok(undefined));
    const again = await api.nextWatch(2);
    expect(again.query.resourceVersion).toBe('20');
    expect(api.lists).toHaveLength(1);
    expect(informer.healthy).toBe(true); // a scheduled end is not an outage
    await informer.stop();
  });

  it('410 Gone lists again: vanished objects are deleted with their last state, changed ones updated, unchanged ones left alone', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('10', obj('keep', '1'), obj('gone', '2'), obj('changed', '3')), listed('50', obj('keep', '1'), obj('changed', '40'), obj('new', '45')));
    const { informer, seen } = recording(api);
    informer.start();
    const w = await api.nextWatch(1);
    w.open();
    seen.length = 0;
    w.end(err(gone));
    const after = await api.nextWatch(2);
    expect(after.query.resourceVersion).toBe('50');
    expect(seen).toEqual(['delete gone@2', 'update changed@3→40', 'add new@45']);
    expect([...informer.cache.keys()].sort()).toEqual(['ns/changed', 'ns/keep', 'ns/new']);
    await informer.stop();
  });

  it('a failed watch keeps the cache, reports why, and resumes from where it was (no list) after a backoff', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('10', obj('a', '5')));
    const lines: string[] = [];
    const logger = createLogger({ component: 'test', level: 'info', destination: { write: (s: string) => void lines.push(s) } });
    const { informer } = recording(api, { logger, backoff: { initialMs: 50, maxMs: 50, random: () => 1 } });
    informer.start();
    const w = await api.nextWatch(1);
    w.open();
    w.send('MODIFIED', obj('a', '15'));
    w.end(err(refused));
    await vi.waitFor(() => expect(informer.healthy).toBe(false), { interval: 1 });
    const r = informer.readiness();
    expect(!r.ok && r.error).toMatch(/^things informer: watch down since \S+: no response \(ECONNREFUSED\): connect ECONNREFUSED 198\.51\.100\.1:443; serving 1 cached objects$/);
    expect(informer.cache.get('ns/a')?.metadata.resourceVersion).toBe('15');
    const again = await api.nextWatch(2);
    expect(again.query.resourceVersion).toBe('15');
    expect(api.lists).toHaveLength(1);
    again.open();
    expect(informer.readiness().ok).toBe(true);
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      'the API server does not stream initial state; listing instead',
      'list/watch failed; keeping the cache and retrying',
      'watch re-established',
    ]);
    await informer.stop();
  });

  it('a failing first list: not synced, says why, and retries until a list succeeds', async () => {
    const api = new ScriptedApi();
    api.answerList(err(refused), err(refused), listed('7'));
    const { informer } = recording(api);
    informer.start();
    const w = await api.nextWatch(1);
    expect(api.lists).toHaveLength(3);
    w.open();
    await informer.synced;
    expect(informer.readiness().ok).toBe(true);
    await informer.stop();
  });

  it('a 410 right after a list waits a backoff before listing again, instead of listing in a loop', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('10'), listed('11'), listed('12'));
    const { informer } = recording(api, { backoff: { initialMs: 60_000, maxMs: 60_000, random: () => 1 } });
    informer.start();
    (await api.nextWatch(1)).end(err(gone)); // after a list that had time to be watched: list again at once
    (await api.nextWatch(2)).end(err(gone)); // again, right after that list: now wait
    await new Promise((r) => setTimeout(r, 100));
    expect(api.lists).toHaveLength(2);
    await informer.stop();
  });

  it('a watch that ends at once without an event is a failure with a backoff, not a reason to reconnect in a loop', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('10'));
    const { informer } = recording(api, { backoff: { initialMs: 60_000, maxMs: 60_000, random: () => 1 } });
    informer.start();
    const w = await api.nextWatch(1);
    w.open();
    w.end(ok(undefined));
    await vi.waitFor(() => expect(informer.healthy).toBe(false), { interval: 1 });
    const r = informer.readiness();
    expect(!r.ok && r.error).toMatch(/no response \(ShortWatch\): the watch ended at once without an event/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(api.watches).toHaveLength(1);
    await informer.stop();
  });

  it('a handler that throws is logged; the events after it are still delivered', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('1'));
    const lines: string[] = [];
    const logger = createLogger({ component: 'test', level: 'error', destination: { write: (s: string) => void lines.push(s) } });
    const added: string[] = [];
    const { informer } = recording(api, {
      logger,
      onAdd: (o) => {
        added.push(o.metadata.name);
        if (o.metadata.name === 'bad') throw new Error('handler bug');
      },
    });
    informer.start();
    const w = await api.nextWatch(1);
    w.open();
    w.send('ADDED', obj('bad', '2'));
    w.send('ADDED', obj('good', '3'));
    expect(added).toEqual(['bad', 'good']);
    expect(informer.cache.size).toBe(2);
    expect(lines.join('')).toContain('handler bug');
    await informer.stop();
  });

  it('stop ends the open watch and delivers nothing more; stopping before the first list rejects synced', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('1'));
    const { informer, seen } = recording(api);
    informer.start();
    const w = await api.nextWatch(1);
    w.open();
    await informer.stop();
    expect(w.signal?.aborted).toBe(true);
    w.send('ADDED', obj('late', '9'));
    expect(seen).toEqual([]);
    expect(informer.healthy).toBe(false);

    const never = createInformer(new ScriptedApi(), things);
    await never.stop();
    await expect(never.synced).rejects.toThrow(/stopped before it synced/);
  });
});

const tooLarge: ApiError = {
  code: 504,
  reason: 'Timeout',
  message: 'Too large resource version: 90, current: 40',
  causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
};

describe('informer: the initial state streamed (WatchList)', () => {
  it('asks for the latest state streamed from the watch cache; objects arrive one by one; synced at the end bookmark', async () => {
    const api = new ScriptedApi({ streams: true });
    const { informer, seen } = recording(api);
    let synced = false;
    void informer.synced.then(() => (synced = true));
    informer.start();
    const w = await api.nextWatch(1);
    expect(w.query).toEqual({ sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', resourceVersion: undefined, labelSelector: 'app=x', fieldSelector: undefined });
    w.open();
    w.send('ADDED', obj('a', '7'));
    w.send('ADDED', obj('b', '5'));
    expect(seen).toEqual(['add a@7', 'add b@5']);
    expect(synced).toBe(false);
    w.send('BOOKMARK', initialEventsEnd('9'));
    await informer.synced;
    // The same stream goes on as a watch.
    w.send('MODIFIED', obj('a', '11'));
    expect(seen).toEqual(['add a@7', 'add b@5', 'update a@7→11']);
    expect(api.lists).toEqual([]);
    w.end(ok(undefined));
    expect((await api.nextWatch(2)).query).toEqual({ resourceVersion: '11', labelSelector: 'app=x', fieldSelector: undefined });
    await informer.stop();
  });

  it('a new stream (relist, a 410) replaces the state: what it did not bring is deleted at its end, unchanged objects are left alone', async () => {
    const api = new ScriptedApi({ streams: true });
    const { informer, seen } = recording(api);
    informer.start();
    const w = await api.nextWatch(1);
    w.send('ADDED', obj('keep', '1'));
    w.send('ADDED', obj('gone', '2'));
    w.send('BOOKMARK', initialEventsEnd('5'));
    w.send('MODIFIED', obj('keep', '6'));
    w.end(err(gone));
    const again = await api.nextWatch(2);
    expect(again.query).toMatchObject({ sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', resourceVersion: '6' });
    seen.length = 0;
    again.send('ADDED', obj('keep', '6'));
    again.send('ADDED', obj('new', '8'));
    expect(seen).toEqual(['add new@8']);
    again.send('BOOKMARK', initialEventsEnd('9'));
    expect(seen).toEqual(['add new@8', 'delete gone@2']);
    const relisted = informer.relist();
    const third = await api.nextWatch(3);
    expect(third.query.resourceVersion).toBeUndefined();
    third.send('ADDED', obj('keep', '6'));
    third.send('BOOKMARK', initialEventsEnd('12'));
    await relisted;
    expect([...informer.cache.keys()]).toEqual(['ns/keep']);
    await informer.stop();
  });

  it('an API server that refuses to stream (WatchList off): lists from then on', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('10', obj('a', '5')));
    const { informer } = recording(api);
    informer.start();
    await api.nextWatch(1);
    expect(api.refusedStreams).toHaveLength(1);
    expect(api.lists).toHaveLength(1);
    await informer.stop();
  });
});

describe('informer: which list, and when (client-go’s rules)', () => {
  it('the first list may come from the API server’s watch cache (resourceVersion "0"), paged as usual', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('10', obj('a', '5')));
    const { informer } = recording(api);
    informer.start();
    await api.nextWatch(1);
    expect(api.lists[0]!.query).toMatchObject({ resourceVersion: '0', limit: 500 });
    expect(api.lists[0]!.query?.resourceVersionMatch).toBeUndefined();
    await informer.stop();
  });

  it('after a 410 it lists "not older than" the last version seen, in one page (never back in time)', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('10', obj('a', '5')), listed('30', obj('a', '25')));
    const { informer } = recording(api);
    informer.start();
    const w = await api.nextWatch(1);
    w.open();
    w.send('MODIFIED', obj('a', '20'));
    w.end(err(gone));
    await api.nextWatch(2);
    expect(api.lists[1]!.query).toMatchObject({ resourceVersion: '20', resourceVersionMatch: 'NotOlderThan' });
    expect(api.lists[1]!.query?.limit).toBeUndefined();
    await informer.stop();
  });

  it('"too large resource version" (an etcd restore, a lagging API server) reads etcd: a list without a resourceVersion', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('90', obj('a', '85')), listed('40', obj('a', '35')));
    const { informer, seen } = recording(api);
    informer.start();
    const w = await api.nextWatch(1);
    w.open();
    w.end(err(tooLarge));
    const again = await api.nextWatch(2);
    expect(api.lists[1]!.query).toMatchObject({ limit: 500 });
    expect(api.lists[1]!.query?.resourceVersion).toBeUndefined();
    // The restored state is the truth now, even though its versions are older.
    expect(again.query.resourceVersion).toBe('40');
    expect(seen).toEqual(['add a@85', 'update a@85→35']);
    await informer.stop();
  });

  it('a list the API server cannot serve at that version (410, too large) is retried at once as a quorum read', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('10'), err(tooLarge), listed('12'));
    const { informer } = recording(api, { backoff: { initialMs: 60_000, maxMs: 60_000, random: () => 1 } });
    informer.start();
    const w = await api.nextWatch(1);
    w.open();
    w.send('BOOKMARK', { metadata: { namespace: '', name: '', resourceVersion: '11' } });
    w.end(err(gone));
    await api.nextWatch(2);
    expect(api.lists.map((l) => [l.query?.resourceVersion, l.query?.resourceVersionMatch])).toEqual([
      ['0', undefined],
      ['11', 'NotOlderThan'],
      [undefined, undefined],
    ]);
    await informer.stop();
  });

  it('relist(): ends the watch, reads etcd, delivers the changes, resolves once they are in the cache, watches on from there', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('10', obj('a', '5'), obj('b', '6')), listed('50', obj('a', '45')));
    const { informer, seen } = recording(api);
    informer.start();
    const w = await api.nextWatch(1);
    w.open();
    await informer.synced;
    const done = informer.relist();
    expect(w.signal?.aborted).toBe(true);
    await done;
    expect(api.lists[1]!.query?.resourceVersion).toBeUndefined();
    expect(seen).toEqual(['add a@5', 'add b@6', 'delete b@6', 'update a@5→45']);
    expect((await api.nextWatch(2)).query.resourceVersion).toBe('50');
    expect(informer.healthy).toBe(true); // asked for, not an outage
    await informer.stop();
    await expect(informer.relist()).rejects.toThrow(/stopped/);
  });

  it('waits at least the Retry-After of a 429 before watching again', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('10'));
    const { informer } = recording(api);
    informer.start();
    const w = await api.nextWatch(1);
    w.end(err({ code: 429, reason: 'TooManyRequests', message: 'too many requests', retryAfterMs: 60_000 }));
    await new Promise((r) => setTimeout(r, 100));
    expect(api.watches).toHaveLength(1);
    await informer.stop();
  });

  it('transform: the cache and the handlers get the trimmed object, with its resourceVersion, apiVersion and kind', async () => {
    const api = new ScriptedApi();
    api.answerList(listed('10', { ...obj('a', '5'), v: 'big' }));
    const trimmedTo: Obj[] = [];
    const { informer, seen } = recording(api, {
      transform: (o) => {
        const t = { metadata: { namespace: o.metadata.namespace, name: o.metadata.name } } as Obj;
        trimmedTo.push(t);
        return t;
      },
    });
    informer.start();
    const w = await api.nextWatch(1);
    w.send('MODIFIED', { ...obj('a', '12'), v: 'bigger' });
    expect(seen).toEqual(['add a@5', 'update a@5→12']);
    expect(informer.cache.get('ns/a')).toEqual({ apiVersion: 'example.io/v1', kind: 'Thing', metadata: { namespace: 'ns', name: 'a', resourceVersion: '12' } });
    expect(trimmedTo).toHaveLength(2);
    // The same version again is recognised although the cached object was trimmed.
    w.send('MODIFIED', { ...obj('a', '12'), v: 'bigger' });
    expect(trimmedTo).toHaveLength(2);
    await informer.stop();
  });
});

describe('informer: a watch from a version the API server has not reached (an etcd restore)', () => {
  it('a whole watch without even a bookmark is followed by a sync not older than it (which such a server answers "too large"); one with a bookmark is simply resumed', async () => {
    vi.useFakeTimers({ toFake: ['performance', 'setTimeout', 'clearTimeout', 'Date'] });
    try {
      const api = new ScriptedApi();
      api.answerList(listed('10', obj('a', '5')), listed('10', obj('a', '5')));
      const { informer } = recording(api);
      informer.start();
      const w1 = await api.nextWatch(1);
      w1.open();
      await vi.advanceTimersByTimeAsync(80_000);
      w1.send('BOOKMARK', { metadata: { namespace: '', name: '', resourceVersion: '11' } });
      w1.end(ok(undefined)); // a normal end: resumed from the bookmark
      const w2 = await api.nextWatch(2);
      expect(w2.query.resourceVersion).toBe('11');
      w2.open();
      await vi.advanceTimersByTimeAsync(80_000);
      w2.end(ok(undefined)); // silent all the way through
      await vi.waitFor(() => expect(api.lists).toHaveLength(2));
      expect(api.lists[1]!.query).toMatchObject({ resourceVersion: '11', resourceVersionMatch: 'NotOlderThan' });
      await informer.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
