// Informers against a real API server: the initial list, the watch, selectors,
// custom resources, and what happens when the API server goes away and comes back.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { join } from 'node:path';
import { ControlPlane, FaultProxy, accessFromHandle, accessFromKubeconfig, uniqueName, waitFor } from '../../test/lab/index.ts';
import { createLogger } from '../observability/index.ts';
import { createInformer, defineResource, objectClient, RESOURCES, type ApiAccess, type Informer, type ObjectClient } from './index.ts';

const configMaps = defineResource<V1ConfigMap>('v1', 'ConfigMap', 'configmaps', true);

interface Seen {
  added: string[];
  updated: Array<{ name: string; oldData: string | undefined; newData: string | undefined }>;
  deleted: string[];
}

function recorder(): Seen & { handlers: Parameters<typeof createInformer<V1ConfigMap>>[2] } {
  const seen: Seen = { added: [], updated: [], deleted: [] };
  return {
    ...seen,
    handlers: {
      onAdd: (o) => seen.added.push(o.metadata!.name!),
      onUpdate: (o, old) => seen.updated.push({ name: o.metadata!.name!, oldData: old.data?.v, newData: o.data?.v }),
      onDelete: (o) => seen.deleted.push(o.metadata!.name!),
    },
    get added() {
      return seen.added;
    },
    get updated() {
      return seen.updated;
    },
    get deleted() {
      return seen.deleted;
    },
  };
}

const cm = (namespace: string, name: string, v: string, labels: Record<string, string> = {}): V1ConfigMap => ({
  metadata: { namespace, name, labels },
  data: { v },
});

async function must<T>(p: Promise<{ ok: true; value: T } | { ok: false; error: { message: string } }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('informer on the shared control plane', () => {
  const access = accessFromHandle(inject('controlPlane'));
  const maps = objectClient(access, configMaps);
  const ns = uniqueName('informer');
  const informers: Array<Informer<unknown>> = [];

  beforeAll(async () => {
    await must(objectClient(access, RESOURCES.namespace).create({ metadata: { name: ns } }));
  });
  afterAll(async () => {
    await Promise.all(informers.map((i) => i.stop()));
    await objectClient(access, RESOURCES.namespace).delete({ name: ns });
  });

  it('delivers the initial list before synced resolves, then watch adds, updates (with the old object) and deletes; the cache follows', async () => {
    await must(maps.create(cm(ns, 'a', '1')));
    await must(maps.create(cm(ns, 'b', '1')));
    const seen = recorder();
    const inf = createInformer(access, configMaps, { namespace: ns, ...seen.handlers });
    informers.push(inf);
    expect(inf.healthy).toBe(false);
    inf.start();
    await inf.synced;
    expect(seen.added.sort()).toEqual(['a', 'b']);
    expect(inf.cache.size).toBe(2);
    expect(inf.readiness()).toEqual({ ok: true, value: undefined });
    // List items of built-in kinds come without apiVersion/kind; the cache has them (Events need them).
    expect(inf.cache.get(`${ns}/a`)).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { v: '1' } });

    await must(maps.create(cm(ns, 'c', '1')));
    await must(maps.patch({ namespace: ns, name: 'a' }, { data: { v: '2' } }));
    await must(maps.delete({ namespace: ns, name: 'b' }));
    await waitFor('the watch events', () => seen.deleted.length === 1 && seen.updated.length === 1 && seen.added.length === 3);
    expect(seen.added).toContain('c');
    expect(seen.updated).toEqual([{ name: 'a', oldData: '1', newData: '2' }]);
    expect(seen.deleted).toEqual(['b']);
    expect([...inf.cache.keys()].sort()).toEqual([`${ns}/a`, `${ns}/c`]);
    expect(inf.cache.get(`${ns}/a`)?.data?.v).toBe('2');
    expect(inf.healthy).toBe(true);
  });

  it('applies label and field selectors to the list and to the watch', async () => {
    await must(maps.create(cm(ns, 'sel-1', '1', { app: 'x' })));
    await must(maps.create(cm(ns, 'sel-2', '1', { app: 'y' })));
    await must(maps.create(cm(ns, 'sel-skip', '1', { app: 'x' })));
    const seen = recorder();
    const inf = createInformer(access, configMaps, { namespace: ns, labelSelector: 'app=x', fieldSelector: 'metadata.name!=sel-skip', ...seen.handlers });
    informers.push(inf);
    inf.start();
    await inf.synced;
    expect(seen.added).toEqual(['sel-1']);
    await must(maps.create(cm(ns, 'sel-3', '1', { app: 'x' })));
    await must(maps.create(cm(ns, 'sel-4', '1', { app: 'y' })));
    // Relabelled out of the selector: a watch reports that as a delete.
    await must(maps.patch({ namespace: ns, name: 'sel-1' }, { metadata: { labels: { app: 'y' } } }));
    await waitFor('sel-3 and the relabel', () => seen.added.includes('sel-3') && seen.deleted.includes('sel-1'));
    expect([...inf.cache.keys()]).toEqual([`${ns}/sel-3`]);
    expect(seen.added).not.toContain('sel-4');
  });

  it('watches custom resources typed by shared/api (cluster-wide when no namespace is given)', async () => {
    const pools = objectClient(access, RESOURCES.ipAddressPool);
    const names: string[] = [];
    const inf = createInformer(access, RESOURCES.ipAddressPool, { onAdd: (p) => names.push(`${p.metadata.namespace}/${p.metadata.name}:${p.spec.addresses.join(',')}`) });
    informers.push(inf as Informer<unknown>);
    inf.start();
    await inf.synced;
    await must(pools.create({ metadata: { namespace: ns, name: 'pool' }, spec: { addresses: ['203.0.113.0/28'] } }));
    await waitFor('the pool', () => names.includes(`${ns}/pool:203.0.113.0/28`));
    expect(inf.cache.get(`${ns}/pool`)).toMatchObject({ apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', spec: { autoAssign: true } });
  });

  it('logs a throwing handler and keeps delivering events', async () => {
    const lines: string[] = [];
    const logger = createLogger({ component: 'test', level: 'error', destination: { write: (s: string) => void lines.push(s) } });
    const added: string[] = [];
    const inf = createInformer(access, configMaps, {
      namespace: ns,
      labelSelector: 'throw=yes',
      logger,
      onAdd: (o) => {
        added.push(o.metadata!.name!);
        if (o.metadata!.name === 'bad') throw new Error('handler bug');
      },
    });
    informers.push(inf);
    inf.start();
    await inf.synced;
    await must(maps.create(cm(ns, 'bad', '1', { throw: 'yes' })));
    await must(maps.create(cm(ns, 'good', '1', { throw: 'yes' })));
    await waitFor('both adds', () => added.length === 2);
    expect(inf.cache.size).toBe(2);
    expect(inf.healthy).toBe(true);
    expect(lines.join('')).toContain('handler bug');
  });

  it('stopping before the first list rejects synced', async () => {
    const inf = createInformer(access, RESOURCES.service, { namespace: ns });
    const stopped = inf.stop();
    await stopped;
    await expect(inf.synced).rejects.toThrow(/stopped before it synced/);
  });
});

describe('informer: where its state comes from (through the fault proxy, against the real API server)', () => {
  const handle = inject('controlPlane');
  const admin = accessFromHandle(handle);
  const maps = objectClient(admin, configMaps);
  const ns = uniqueName('informer-rv');
  let proxy: FaultProxy;
  let via: ApiAccess;
  const requests = () => proxy.requests({ path: `/namespaces/${ns}/configmaps` });
  const watchesOf = { path: `/namespaces/${ns}/configmaps`, watch: true } as const;
  // What this API server answers to a list at a version it has not reached (captured from kube-apiserver 1.36).
  const tooLarge = {
    kind: 'fail',
    status: 504,
    reason: 'Timeout',
    message: 'Timeout: Too large resource version: 99999999, current: 201',
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  } as const;

  beforeAll(async () => {
    await must(objectClient(admin, RESOURCES.namespace).create({ metadata: { name: ns } }));
    proxy = await FaultProxy.forControlPlane(handle);
    via = accessFromKubeconfig(proxy.writeKubeconfig(join(handle.dir, `${ns}.kubeconfig`)));
  });
  // One informer at a time: an earlier test's informer, cut too, could take the next test's one-time rule. And a
  // rule one test left unused must not decide the next one's requests.
  const running: Informer<V1ConfigMap>[] = [];
  afterEach(async () => {
    for (const inf of running.splice(0)) await inf.stop();
    proxy.clear();
  });
  afterAll(async () => {
    await proxy.close();
    await objectClient(admin, RESOURCES.namespace).delete({ name: ns });
  });

  async function started(prefix: string) {
    const seen = recorder();
    const lines: string[] = [];
    const logger = createLogger({ component: 'test', level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    const inf = createInformer(via, configMaps, { namespace: ns, labelSelector: `set=${prefix}`, logger, ...seen.handlers });
    running.push(inf);
    inf.start();
    await inf.synced;
    // Cutting a stream before its initial state has all come would test something else (the same stream again):
    // wait for the n-th one to be whole.
    const streamed = (n: number) => waitFor(`stream ${n} to be whole`, () => lines.filter((l) => l.includes('streamed the initial state')).length >= n);
    return { inf, seen, streamed };
  }
  const lastQuery = (match: (q: URLSearchParams) => boolean): URLSearchParams | undefined => requests().filter((r) => match(r.query)).at(-1)?.query;

  it('streams the latest state from the watch cache; after a 410, the state "not older than" what it had; after "too large", the latest again', async () => {
    for (const name of ['s-1', 's-2']) await must(maps.create(cm(ns, name, '1', { set: 's' })));
    const { inf, seen, streamed } = await started('s');
    expect(seen.added.sort()).toEqual(['s-1', 's-2']);
    const first = requests()[0]!.query;
    expect([first.get('sendInitialEvents'), first.get('resourceVersionMatch'), first.get('resourceVersion')]).toEqual(['true', 'NotOlderThan', null]);
    expect(requests().filter((r) => !r.watch)).toEqual([]); // no list at all

    // The watch position is compacted away (410, as the watch cache sends it): the state again, not older than what it had.
    await must(maps.patch({ namespace: ns, name: 's-1' }, { data: { v: '2' } }));
    await waitFor('the update', () => seen.updated.length === 1);
    const had = inf.cache.get(`${ns}/s-1`)!.metadata!.resourceVersion!;
    proxy.add({ match: { ...watchesOf, where: (r) => !r.query.has('sendInitialEvents') }, action: { kind: 'fail', status: 410, reason: 'Expired', message: 'too old resource version', asWatchEvent: true }, times: 1 });
    proxy.cut(watchesOf);
    await waitFor('a stream not older than what it had', () => lastQuery((q) => q.get('resourceVersion') === had && q.has('sendInitialEvents')));
    expect(lastQuery((q) => q.get('resourceVersion') === had)?.get('resourceVersionMatch')).toBe('NotOlderThan');
    await streamed(2);

    // This API server has not got as far as the informer has (an etcd restore, a lagging HA peer): the latest state.
    const streamsBefore = requests().filter((r) => r.query.has('sendInitialEvents')).length;
    proxy.add({ match: { ...watchesOf, where: (r) => !r.query.has('sendInitialEvents') }, action: tooLarge, times: 1 });
    proxy.cut(watchesOf);
    await waitFor('a stream of the latest state', () => requests().filter((r) => r.query.has('sendInitialEvents') && !r.query.has('resourceVersion')).length > 1 && requests().filter((r) => r.query.has('sendInitialEvents')).length > streamsBefore);
    await must(maps.create(cm(ns, 's-3', '1', { set: 's' })));
    await waitFor('events after all that', () => seen.added.includes('s-3'));
    expect(inf.healthy).toBe(true);
  });

  it('where the API server does not stream (WatchList off): a first list from the watch cache (resourceVersion 0), NotOlderThan after a 410, a quorum read after "too large"', async () => {
    proxy.add({ match: { ...watchesOf, where: (r) => r.query.has('sendInitialEvents') }, action: { kind: 'fail', status: 422, reason: 'Invalid', message: 'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled' } });
    await must(maps.create(cm(ns, 'l-1', '1', { set: 'l' })));
    const { inf, seen } = await started('l');
    expect(seen.added).toEqual(['l-1']);
    const lists = () => requests().filter((r) => !r.watch && r.query.get('labelSelector') === 'set=l');
    expect(lists()[0]!.query.get('resourceVersion')).toBe('0');

    const had = inf.cache.get(`${ns}/l-1`)!.metadata!.resourceVersion!;
    proxy.add({ match: watchesOf, action: { kind: 'fail', status: 410, reason: 'Expired', message: 'too old resource version', asWatchEvent: true }, times: 1 });
    proxy.cut(watchesOf);
    await waitFor('a list not older than what it had', () => lists().length === 2);
    expect([lists()[1]!.query.get('resourceVersion'), lists()[1]!.query.get('resourceVersionMatch'), lists()[1]!.query.get('limit')]).toEqual([had, 'NotOlderThan', null]);

    // The list at that version cannot be served: read etcd (no resourceVersion, paged) at once.
    proxy.add({ match: { path: `/namespaces/${ns}/configmaps`, method: 'GET', where: (r) => !r.watch && r.query.get('resourceVersionMatch') === 'NotOlderThan' }, action: tooLarge, times: 1 });
    proxy.add({ match: watchesOf, action: { kind: 'fail', status: 410, reason: 'Expired', message: 'too old resource version', asWatchEvent: true }, times: 1 });
    proxy.cut(watchesOf);
    await waitFor('a quorum read', () => lists().length === 4);
    expect([lists()[3]!.query.get('resourceVersion'), lists()[3]!.query.get('limit')]).toEqual([null, '500']);
    await must(maps.create(cm(ns, 'l-2', '1', { set: 'l' })));
    await waitFor('events after all that', () => seen.added.includes('l-2'));
  });
});

describe('informer while the API server goes away and comes back', () => {
  let cp: ControlPlane;
  let access: ApiAccess;
  let maps: ObjectClient<V1ConfigMap>;
  const ns = 'outage';
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    cp = await ControlPlane.start({ controllerManager: false });
    access = cp.access();
    maps = objectClient(access, configMaps);
    await must(objectClient(access, RESOURCES.namespace).create({ metadata: { name: ns } }));
  });
  afterAll(async () => {
    for (const stop of stops) await stop();
    await cp?.stop();
  });

  it('keeps its cache while unreachable, then relists: deletes, updates and adds made before it reconnected are delivered', async () => {
    for (const name of ['keep', 'gone', 'changed']) await must(maps.create(cm(ns, name, '1')));
    const seen = recorder();
    const lines: string[] = [];
    const logger = createLogger({ component: 'test', level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
    // Through a proxy that keeps the informer away until the changes below are made, however fast the API server is back.
    const proxy = await FaultProxy.forControlPlane(cp);
    stops.push(() => proxy.close());
    const via = accessFromKubeconfig(proxy.writeKubeconfig(join(cp.dir, 'outage-proxy.kubeconfig')));
    const inf = createInformer(via, configMaps, { namespace: ns, backoff: { initialMs: 500, maxMs: 500, random: () => 1 }, logger, ...seen.handlers });
    stops.push(() => inf.stop());
    inf.start();
    await inf.synced;
    expect(inf.cache.size).toBe(3);

    await cp.stopApiServer();
    await waitFor('the informer to notice', () => !inf.healthy, { timeoutMs: 10_000 });
    expect(inf.cache.size).toBe(3);
    expect(inf.cache.get(`${ns}/gone`)?.data?.v).toBe('1');
    const down = inf.readiness();
    expect(down.ok).toBe(false);
    expect(!down.ok && down.error).toMatch(/configmaps informer: watch down since .*: no response \((ECONNREFUSED|ECONNRESET|Unresponsive)\).*serving 3 cached objects/);

    const away = proxy.add({ match: {}, action: { kind: 'fail', status: 503, reason: 'ServiceUnavailable', message: 'injected: still away' } });
    await cp.startApiServer();
    await must(maps.delete({ namespace: ns, name: 'gone' }));
    await must(maps.patch({ namespace: ns, name: 'changed' }, { data: { v: '2' } }));
    await must(maps.create(cm(ns, 'new', '1')));
    expect(inf.healthy).toBe(false); // the changes above happened while its watch was broken
    away.remove();
    const syncs = (): number => lines.filter((l) => l.includes('"msg":"listed"') || l.includes('"msg":"streamed the initial state"')).length;
    const syncsBefore = syncs();

    await waitFor('convergence', () => inf.healthy && seen.deleted.includes('gone') && seen.added.includes('new') && seen.updated.length === 1, {
      timeoutMs: 20_000,
    });
    expect(seen.deleted).toEqual(['gone']);
    expect(seen.updated).toEqual([{ name: 'changed', oldData: '1', newData: '2' }]);
    expect([...inf.cache.keys()].sort()).toEqual([`${ns}/changed`, `${ns}/keep`, `${ns}/new`]);
    expect(syncs()).toBe(syncsBefore + 1);
    expect(inf.readiness().ok).toBe(true);
  });

  it('started while the API server is down: not synced, retries with backoff, syncs once it is up', async () => {
    await cp.stopApiServer();
    const seen = recorder();
    const inf = createInformer(access, configMaps, { namespace: ns, backoff: { initialMs: 100, maxMs: 1_000 }, ...seen.handlers });
    stops.push(() => inf.stop());
    inf.start();
    let synced = false;
    void inf.synced.then(() => (synced = true));
    await new Promise((r) => setTimeout(r, 1_500));
    expect(synced).toBe(false);
    const r = inf.readiness();
    expect(!r.ok && r.error).toMatch(/not synced yet: no response \(ECONNREFUSED\)/);
    await cp.startApiServer();
    await inf.synced;
    expect(inf.cache.size).toBe(3);
    await waitFor('healthy', () => inf.healthy);
  });

  it('after etcd is restored from a backup (every version it handed out since is in the future): syncs to the restored state and follows from there', async () => {
    const set = { set: 'restore' };
    await must(maps.create(cm(ns, 'restore-kept', '1', set)));
    const backup = await cp.backupEtcd();
    const seen = recorder();
    const lines: string[] = [];
    const logger = createLogger({ component: 'test', level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
    // Watches of 75 s: a full one brings at least one bookmark (about every minute, and 2 s before its end).
    const watching = cp.access({ watchTimeoutSeconds: () => 75 });
    const inf = createInformer(watching, configMaps, { namespace: ns, labelSelector: 'set=restore', logger, ...seen.handlers });
    stops.push(async () => {
      await inf.stop();
      watching.close();
    });
    inf.start();
    await inf.synced;
    // Versions handed out after the backup: more of them than the restored etcd makes in the minutes below.
    await must(maps.create(cm(ns, 'restore-lost', '1', set)));
    for (let i = 0; i < 150; i++) await must(maps.create(cm(ns, `filler-${i}`, '1')));
    await waitFor('the informer to see the object made after the backup', () => seen.added.includes('restore-lost'));

    await cp.restoreEtcd(backup);
    const restoredAt = performance.now();
    // Rare but seen (1 in ~15 runs, 2026-12-02): past 200 s. What the informer did then says why.
    await waitFor('the restored state', () => seen.deleted.includes('restore-lost'), { timeoutMs: 200_000, intervalMs: 500 }).catch((e: Error) => {
      throw new Error(`${e.message} (${Math.round(performance.now() - restoredAt)} ms after the restore); the informer's log:\n${lines.join('')}`);
    });
    expect([...inf.cache.keys()]).toEqual([`${ns}/restore-kept`]);
    expect(lines.some((l) => l.includes('a whole watch without a bookmark'))).toBe(true);
    await must(maps.create(cm(ns, 'after-restore', '1', set)));
    await waitFor('a change after the restore', () => seen.added.includes('after-restore'), { timeoutMs: 20_000 });
  }, 300_000);
});
