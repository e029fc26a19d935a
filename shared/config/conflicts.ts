// Pools whose ranges overlap: the newer one (later createdAt, then name) is in
// conflict and allocates nothing, naming the older pool and the overlap
// (Cilium's rule; MetalLB rejects overlaps in a webhook but breaks when one
// gets through). "Newer" is pairwise: a pool overlapping any older pool is in
// conflict, whether or not that older pool is itself in conflict, so fixing one
// pool never flips another into conflict.
import type { Family } from '../net/index.ts';
import { formatSpan } from './address-range.ts';
import type { Pool, PoolRange } from './pool.ts';

export interface PoolConflict {
  /** The newer pool: it allocates nothing while the overlap lasts. */
  readonly pool: Pool;
  readonly olderPool: string;
  /** Its entry that overlaps, e.g. "spec.addresses[1]". */
  readonly field: string;
  /** The overlapping addresses, e.g. "198.51.100.128/25". */
  readonly overlap: string;
}

export function formatPoolConflict(c: PoolConflict): string {
  return `IPAddressPool ${c.pool.namespace}/${c.pool.name} ${c.field}: ${c.overlap} overlaps older pool "${c.olderPool}"; this pool allocates nothing until the overlap is removed`;
}

interface Item {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
  readonly rank: number; // 0 = oldest pool
  readonly range: PoolRange;
}

/**
 * One sweep over all ranges sorted by start, O(n log n) in the number of ranges.
 * Two lazy heaps hold the ranges that started earlier: the oldest one tells
 * whether the current range is newer than something it overlaps; the newest
 * ones, popped while newer than the current range, are the ranges that the
 * current (older) one puts in conflict. Each range leaves each heap once.
 */
export function resolvePoolConflicts(pools: readonly Pool[]): { usable: Pool[]; conflicts: PoolConflict[] } {
  const byAge = [...pools].sort((a, b) => a.createdAt - b.createdAt || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const items: Item[] = byAge.flatMap((pool, rank) => pool.ranges.map((range) => ({ family: range.family, first: range.first, last: range.last, rank, range })));
  items.sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0) || a.rank - b.rank);

  const found = new Map<number, { olderRank: number; newer: Item; older: Item }>();
  const note = (newer: Item, older: Item): void => {
    const known = found.get(newer.rank);
    if (!known || older.rank < known.olderRank) found.set(newer.rank, { olderRank: older.rank, newer, older });
  };

  let oldest = new Heap<Item>((a, b) => a.rank < b.rank);
  let newest = new Heap<Item>((a, b) => a.rank > b.rank);
  let family: Family | undefined;
  for (const item of items) {
    if (item.family !== family) {
      family = item.family;
      oldest = new Heap<Item>((a, b) => a.rank < b.rank);
      newest = new Heap<Item>((a, b) => a.rank > b.rank);
    }
    const expired = (other: Item): boolean => other.last < item.first;
    while (oldest.peek() && expired(oldest.peek()!)) oldest.pop();
    const older = oldest.peek();
    if (older && older.rank < item.rank) note(item, older);
    while (newest.peek() && (expired(newest.peek()!) || newest.peek()!.rank > item.rank)) {
      const other = newest.pop()!;
      if (!expired(other)) note(other, item);
    }
    oldest.push(item);
    newest.push(item);
  }

  const conflicts: PoolConflict[] = [...found.values()].map(({ newer, older }) => ({
    pool: byAge[newer.rank]!,
    olderPool: byAge[older.rank]!.name,
    field: newer.range.field,
    overlap: formatSpan(newer.family, max(newer.first, older.first), min(newer.last, older.last)),
  }));
  conflicts.sort((a, b) => (a.pool.name < b.pool.name ? -1 : a.pool.name > b.pool.name ? 1 : 0));
  const conflicted = new Set(conflicts.map((c) => c.pool));
  return { usable: pools.filter((p) => !conflicted.has(p)), conflicts };
}

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Binary heap; `before(a, b)` puts a nearer the top. */
class Heap<T> {
  readonly #items: T[] = [];
  readonly #before: (a: T, b: T) => boolean;

  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const a = this.#items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < a.length && this.#before(a[l]!, a[best]!)) best = l;
        if (r < a.length && this.#before(a[r]!, a[best]!)) best = r;
        if (best === i) break;
        [a[i], a[best]] = [a[best]!, a[i]!];
        i = best;
      }
    }
    return top;
  }
}
