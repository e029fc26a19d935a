// The addresses one pool may hand out in one family: its ranges, minus IPv4
// addresses ending in .0 or .255 when avoidBuggyIPs is set, minus the
// addresses of Nodes (a Service given a node's own address breaks both).
// Answers by arithmetic and binary search over the ranges, never by listing
// addresses, so a /64 costs as much as a /32.
import type { Family } from '../../shared/net/index.ts';

interface Span {
  readonly first: bigint;
  readonly last: bigint;
}

export class AddressSet {
  readonly family: Family;
  readonly avoidBuggyIPs: boolean;
  /** How many addresses can be handed out. */
  readonly capacity: bigint;
  /** Equal fingerprints ⇔ equal sets. */
  readonly fingerprint: string;
  readonly #spans: readonly Span[];
  /** Node addresses inside #spans, sorted. */
  readonly #excluded: readonly bigint[];
  /** #spans cut at excluded addresses, both ends moved onto eligible addresses, empty ones dropped. */
  readonly #eligible: readonly Span[];

  /** `excluded`: addresses never to hand out (nodes'); those outside the ranges are ignored. */
  constructor(family: Family, ranges: readonly Span[], avoidBuggyIPs: boolean, excluded: readonly bigint[] = []) {
    this.family = family;
    this.avoidBuggyIPs = family === 4 && avoidBuggyIPs;
    this.#spans = mergeAdjacent(ranges);
    this.#excluded = [...new Set(excluded)].filter((x) => this.inRanges(x)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const eligible: Span[] = [];
    let capacity = 0n;
    for (const piece of cutAt(this.#spans, this.#excluded)) {
      const first = this.#up(piece.first);
      const last = this.#down(piece.last);
      if (first > last) continue;
      eligible.push({ first, last });
      capacity += last - first + 1n - (this.avoidBuggyIPs ? avoidedBetween(first, last) : 0n);
    }
    this.#eligible = eligible;
    this.capacity = capacity;
    const spans = this.#spans.map((s) => `${s.first}-${s.last}`).join(',');
    this.fingerprint = `${family}${this.avoidBuggyIPs ? '!' : ''}:${spans}${this.#excluded.length ? `-${this.#excluded.join(',')}` : ''}`;
  }

  get isEmpty(): boolean {
    return this.#spans.length === 0;
  }

  /** x lies in one of the pool's ranges (avoided or not). */
  inRanges(x: bigint): boolean {
    const span = this.#spans[firstEndingAtOrAfter(this.#spans, x)];
    return span !== undefined && span.first <= x;
  }

  /** x may be handed out: in a range, not avoided, not a node's. */
  contains(x: bigint): boolean {
    return this.inRanges(x) && !this.isAvoided(x) && !this.isExcluded(x);
  }

  /** x is a node's address (given to the constructor) inside the ranges. */
  isExcluded(x: bigint): boolean {
    let lo = 0;
    let hi = this.#excluded.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#excluded[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return this.#excluded[lo] === x;
  }

  /** avoidBuggyIPs skips x (MetalLB: an IPv4 address ending in .0 or .255, in any prefix length). */
  isAvoided(x: bigint): boolean {
    if (!this.avoidBuggyIPs) return false;
    const low = x & 0xffn;
    return low === 0n || low === 0xffn;
  }

  /** Least eligible address ≥ x. */
  next(x: bigint): bigint | undefined {
    const span = this.#eligible[firstEndingAtOrAfter(this.#eligible, x)];
    if (!span) return undefined;
    // span.last is eligible, so stepping over an avoided x stays inside span.
    return x <= span.first ? span.first : this.#up(x);
  }

  /** Greatest eligible address ≤ x. */
  prev(x: bigint): bigint | undefined {
    const i = firstEndingAtOrAfter(this.#eligible, x);
    const span = this.#eligible[i];
    // span.first is eligible, so stepping back over an avoided x stays inside span.
    if (span && span.first <= x) return this.#down(x);
    return this.#eligible[i - 1]?.last;
  }

  #up(x: bigint): bigint {
    if (!this.avoidBuggyIPs) return x;
    const low = x & 0xffn;
    return low === 0n ? x + 1n : low === 0xffn ? x + 2n : x;
  }

  #down(x: bigint): bigint {
    if (!this.avoidBuggyIPs) return x;
    const low = x & 0xffn;
    return low === 0xffn ? x - 1n : low === 0n ? x - 2n : x;
  }
}

/** The spans without the excluded addresses (sorted, each inside some span). */
function cutAt(spans: readonly Span[], excluded: readonly bigint[]): Span[] {
  const pieces: Span[] = [];
  let i = 0;
  for (const span of spans) {
    let first = span.first;
    for (; i < excluded.length && excluded[i]! <= span.last; i++) {
      const x = excluded[i]!;
      if (x > first) pieces.push({ first, last: x - 1n });
      first = x + 1n;
    }
    if (first <= span.last) pieces.push({ first, last: span.last });
  }
  return pieces;
}

function mergeAdjacent(ranges: readonly Span[]): Span[] {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const merged: Span[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && r.first <= last.last + 1n) {
      if (r.last > last.last) merged[merged.length - 1] = { first: last.first, last: r.last };
    } else merged.push({ first: r.first, last: r.last });
  }
  return merged;
}

/** Index of the first span whose last ≥ x (spans sorted and disjoint); spans.length if none. */
export function firstEndingAtOrAfter(spans: ReadonlyArray<{ readonly last: bigint }>, x: bigint): number {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]!.last < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How many x in [first, last] end in .0 or .255. */
function avoidedBetween(first: bigint, last: bigint): bigint {
  const endingIn = (low: bigint): bigint => floorDiv(last - low, 256n) - floorDiv(first - 1n - low, 256n);
  return endingIn(0n) + endingIn(255n);
}

const floorDiv = (a: bigint, b: bigint): bigint => (a >= 0n ? a / b : -((-a + b - 1n) / b));
