import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/build-js.ts';
import { Counter, Gauge, Histogram, Registry } from './prom.ts';

const json = (path: string): any => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));

describe('prom-client', () => {
  // prom.ts requires prom-client/lib/*, which are not its public API: a minor
  // or patch release may move them. So the version is pinned exactly, and a
  // bump is a deliberate edit that runs this file again.
  it('is pinned to one exact version, the one the lockfile installs', () => {
    const wanted = json('package.json').dependencies['prom-client'];
    expect(wanted).toMatch(/^\d+\.\d+\.\d+$/);
    expect(json('package-lock.json').packages['']['dependencies']['prom-client']).toBe(wanted);
    expect(json('package-lock.json').packages['node_modules/prom-client'].version).toBe(wanted);
  });

  it('its lib/ modules still export the four classes prom.ts takes', () => {
    const registry = new Registry();
    new Counter({ name: 'c_total', help: 'c', registers: [registry] }).inc();
    new Gauge({ name: 'g', help: 'g', registers: [registry] }).set(2);
    new Histogram({ name: 'h', help: 'h', buckets: [1], registers: [registry] }).observe(0.5);
    expect(registry.getMetricsAsArray().map((m) => m.name).sort()).toEqual(['c_total', 'g', 'h']);
  });
});
