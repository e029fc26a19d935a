// IPAddressPool → Pool: every address entry checked, defaults applied,
// selectors compiled. The allocator never sees an unchecked string.
import type { IPAddressPool, ServiceAllocationSpec } from '../api/index.ts';
import { compileSelector, type LabelSelector, type Selector } from '../labels/index.ts';
import type { IPAddress } from '../net/index.ts';
import { err, ok, type Result } from '../result.ts';
import { parseAddressRange, type AddressRange } from './address-range.ts';
import type { ConfigError } from './config-error.ts';
import { reservedMessage, reservedOverlaps } from './reserved-ranges.ts';

export interface PoolRange extends AddressRange {
  /** Where the entry came from, for messages: "spec.addresses[2]". */
  readonly field: string;
}

export interface ServiceAllocation {
  /** Lower first; undefined sorts last. 0 counts as unset, as in MetalLB (Go cannot tell 0 from absent). */
  readonly priority: number | undefined;
  readonly namespaces: readonly string[];
  readonly namespaceSelectors: readonly Selector[];
  readonly serviceSelectors: readonly Selector[];
}

export interface Pool {
  readonly namespace: string;
  readonly name: string;
  /** In spec order; never empty, never overlapping each other. */
  readonly ranges: readonly PoolRange[];
  readonly autoAssign: boolean;
  /** Skip IPv4 addresses ending in .0 or .255 (MetalLB semantics, for clients that mistake them for broadcast). */
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation: ServiceAllocation | undefined;
  /** ms since epoch; decides which of two overlapping pools is in conflict (the newer one). */
  readonly createdAt: number;
  /** metadata.deletionTimestamp is set: keeps its assignments, allocates nothing new. */
  readonly terminating: boolean;
}

/** The address lies in one of the pool's ranges (avoidBuggyIPs aside: an avoided address is still the pool's). */
export function poolContains(pool: Pick<Pool, 'ranges'>, ip: IPAddress): boolean {
  return pool.ranges.some((r) => r.family === ip.family && r.first <= ip.value && ip.value <= r.last);
}

export function parsePool(raw: IPAddressPool): Result<Pool, ConfigError[]> {
  const namespace = raw.metadata?.namespace ?? '';
  const name = raw.metadata?.name ?? '';
  const errors: ConfigError[] = [];
  const fail = (field: string, message: string): void => {
    errors.push({ kind: 'IPAddressPool', namespace, name, field, message });
  };
  if (name === '') fail('metadata.name', 'is empty');

  const createdAt = parseTimestamp(raw.metadata?.creationTimestamp);
  if (createdAt === undefined) fail('metadata.creationTimestamp', `"${String(raw.metadata?.creationTimestamp)}" is not a timestamp`);

  const spec = raw.spec ?? ({} as Partial<IPAddressPool['spec']>);
  const ranges = parseRanges(spec.addresses, fail);
  const autoAssign = parseFlag(spec.autoAssign, true, 'spec.autoAssign', fail);
  const avoidBuggyIPs = parseFlag(spec.avoidBuggyIPs, false, 'spec.avoidBuggyIPs', fail);
  const serviceAllocation = parseServiceAllocation(spec.serviceAllocation, fail);

  if (errors.length > 0) return err(errors);
  return ok({
    namespace,
    name,
    ranges,
    autoAssign,
    avoidBuggyIPs,
    serviceAllocation,
    createdAt: createdAt ?? Number.MAX_SAFE_INTEGER,
    terminating: raw.metadata?.deletionTimestamp != null,
  });
}

type Fail = (field: string, message: string) => void;

/**
 * A missing timestamp counts as newest: an object of unknown age never pushes
 * an older pool into conflict. The API server always sets it.
 */
function parseTimestamp(value: string | Date | undefined): number | undefined {
  if (value == null) return Number.MAX_SAFE_INTEGER;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function parseRanges(addresses: unknown, fail: Fail): PoolRange[] {
  if (!Array.isArray(addresses) || addresses.length === 0) {
    fail('spec.addresses', 'lists no addresses; give at least one CIDR (198.51.100.0/24) or range (198.51.100.10-198.51.100.20)');
    return [];
  }
  const ranges: PoolRange[] = [];
  addresses.forEach((entry: unknown, i) => {
    const field = `spec.addresses[${i}]`;
    if (typeof entry !== 'string') return fail(field, `must be a string, not ${JSON.stringify(entry)}`);
    const range = parseAddressRange(entry);
    if (!range.ok) return fail(field, range.error);
    const reserved = reservedOverlaps(range.value);
    for (const r of reserved) fail(field, `"${range.value.text}" ${reservedMessage(r)}`);
    if (reserved.length === 0) ranges.push({ ...range.value, field });
  });
  for (const [later, earlier] of overlappingEntries(ranges)) {
    fail(later.field, `${later.text} overlaps ${earlier.field} (${earlier.text}) of the same pool`);
  }
  return ranges;
}

/** Each entry that overlaps an entry listed before it, paired with that entry; O(n log n). */
function overlappingEntries(ranges: readonly PoolRange[]): Array<[PoolRange, PoolRange]> {
  const order = ranges.map((range, index) => ({ range, index }));
  order.sort((a, b) => a.range.family - b.range.family || cmp(a.range.first, b.range.first) || a.index - b.index);
  const pairs: Array<[PoolRange, PoolRange]> = [];
  let reach: (typeof order)[number] | undefined;
  for (const current of order) {
    if (reach && reach.range.family === current.range.family && current.range.first <= reach.range.last) {
      pairs.push(reach.index < current.index ? [current.range, reach.range] : [reach.range, current.range]);
    }
    if (!reach || reach.range.family !== current.range.family || current.range.last > reach.range.last) reach = current;
  }
  return pairs;
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

function parseFlag(value: unknown, fallback: boolean, field: string, fail: Fail): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  fail(field, `must be true or false, not ${JSON.stringify(value)}`);
  return fallback;
}

function parseServiceAllocation(raw: ServiceAllocationSpec | undefined, fail: Fail): ServiceAllocation | undefined {
  if (raw === undefined || raw === null) return undefined;
  const base = 'spec.serviceAllocation';
  let priority: number | undefined;
  if (raw.priority !== undefined && raw.priority !== null) {
    if (!Number.isSafeInteger(raw.priority)) fail(`${base}.priority`, `must be an integer, not ${JSON.stringify(raw.priority)}`);
    else if (raw.priority !== 0) priority = raw.priority;
  }
  const namespaces: string[] = [];
  listAt(raw.namespaces, `${base}.namespaces`, fail).forEach((ns: unknown, i) => {
    if (typeof ns !== 'string' || ns === '') fail(`${base}.namespaces[${i}]`, `must be a namespace name, not ${JSON.stringify(ns)}`);
    else namespaces.push(ns);
  });
  return {
    priority,
    namespaces,
    namespaceSelectors: compileSelectors(raw.namespaceSelectors, `${base}.namespaceSelectors`, fail),
    serviceSelectors: compileSelectors(raw.serviceSelectors, `${base}.serviceSelectors`, fail),
  };
}

function compileSelectors(raw: LabelSelector[] | undefined, field: string, fail: Fail): Selector[] {
  const selectors: Selector[] = [];
  listAt(raw, field, fail).forEach((selector, i) => {
    const compiled = compileSelector(selector);
    if (compiled.ok) selectors.push(compiled.value);
    else fail(`${field}[${i}]`, compiled.error);
  });
  return selectors;
}

/** The list at field, or [] with an error when it is something else (the CRD schema forbids that, but a parser must not throw). */
function listAt<T>(raw: readonly T[] | undefined | null, field: string, fail: Fail): readonly T[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    fail(field, `must be a list, not ${JSON.stringify(raw)}`);
    return [];
  }
  return raw;
}
