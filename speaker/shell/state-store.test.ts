import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/observability/index.ts';
import { ClusterModel } from '../core/index.ts';
import { nodeObject, svc } from '../core/cluster-model.test.ts';
import { StateStore } from './state-store.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('StateStore', () => {
  it('writes the model and the keys so that a new process reads them back', () => {
    dir = mkdtempSync(join(tmpdir(), 'ballast-state-'));
    const model = new ClusterModel();
    model.set('nodes', nodeObject('node-a'));
    model.set('services', svc('web', ['198.51.100.7']));
    const store = new StateStore(join(dir, 'state'), 'node-a', silentLogger);
    store.saveModel(() => model.snapshot());
    store.saveKeys([new Uint8Array(32).fill(7)]);
    store.flush();
    expect(statSync(join(dir, 'state', 'heartbeat-key')).mode & 0o777).toBe(0o600);

    const loaded = new StateStore(join(dir, 'state'), 'node-a', silentLogger).load();
    expect(loaded.keys).toEqual([new Uint8Array(32).fill(7)]);
    const copy = new ClusterModel();
    copy.load(loaded.model!);
    expect(copy.serviceKeys()).toEqual(['shop/web']);
  });

  it('ignores a state file of another node or a broken one, and starts empty', () => {
    dir = mkdtempSync(join(tmpdir(), 'ballast-state-'));
    const store = new StateStore(dir, 'node-a', silentLogger);
    expect(store.load()).toEqual({ model: undefined, savedAt: undefined, keys: [] });
    writeFileSync(join(dir, 'state.json'), '{"version":1,"node":"node-b","savedAt":"x","model":{}}');
    expect(store.load().model).toBeUndefined();
    writeFileSync(join(dir, 'state.json'), '{broken');
    expect(store.load().model).toBeUndefined();
  });

  it('refuses a saved view older than a day (or from the future) and keys that are not keys', () => {
    dir = mkdtempSync(join(tmpdir(), 'ballast-state-'));
    const store = new StateStore(dir, 'node-a', silentLogger);
    store.saveModel(() => new ClusterModel().snapshot());
    store.flush();
    const saved = Date.parse(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).savedAt as string);
    expect(store.load(saved + 60_000).model).toBeDefined();
    const old = store.load(saved + 25 * 3_600_000);
    expect(old.model).toBeUndefined();
    expect(old.problem).toMatch(/used only within 24 h/);
    expect(store.load(saved - 3_600_000).model).toBeUndefined();
    writeFileSync(join(dir, 'heartbeat-key'), `${Buffer.alloc(8, 1).toString('base64')}\nnot*base64\n${Buffer.alloc(32, 2).toString('base64')}\n`);
    expect(store.load().keys).toEqual([new Uint8Array(32).fill(2)]);
  });

  it('coalesces model writes: the snapshot is taken when the write happens', () => {
    dir = mkdtempSync(join(tmpdir(), 'ballast-state-'));
    const store = new StateStore(dir, 'node-a', silentLogger);
    let calls = 0;
    const model = new ClusterModel();
    for (let i = 0; i < 5; i++) store.saveModel(() => (calls++, model.snapshot()));
    store.flush();
    expect(calls).toBe(1);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).node).toBe('node-a');
  });
});
