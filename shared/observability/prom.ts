// prom-client, the parts a Ballast process uses. Its index also loads Summary,
// Pushgateway, cluster aggregation and the default collectors: ≈21 MB RSS,
// against ≈3 MB for these four classes, and the speaker runs on every node
// with an 80 MB budget. So they come from their own modules, and the process
// metrics from process-metrics.ts. (`import type` from the package is erased
// at run time; test/imports checks that nothing loads its index.)
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
export const Histogram = require('prom-client/lib/histogram') as typeof PromClient.Histogram;
export type Registry = PromClient.Registry;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;
