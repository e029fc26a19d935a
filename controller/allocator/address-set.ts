// The addresses one pool may hand out in one family: its ranges, minus IPv4
// addresses ending in .0 or .255 when avoidBuggyIPs is set. Answers by
// arithmetic and binary search over the ranges, never by listing addresses,
// so a /64 costs as much as a /32.
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
  /** #spans with both ends moved onto eligible addresses, empty ones dropped. */
  readonly #eligible: readonly Span[];

  constructor(family: Family, ranges: readonly Span[], avoidBuggyIPs: boolean) {
    this.family = family;
    this.avoidBuggyIPs = family === 4 && avoidBuggyIPs;
    this.#spans = mergeAdjacent(ranges);
    const eligible: Span[] = [];
    let capacity = 0n;
    for (const span of this.#spans) {
      const first = this.#up(span.first);
      const last = this.#down(span.last);
      if (first > last) continue;
      eligible.push({ first, last });
      capacity += last - first + 1n - (this.avoidBuggyIPs ? avoidedBetween(first, last) : 0n);
    }
    this.#eligible = eligible;
    this.capacity = capacity;
    this.fingerprint = `${family}${this.avoidBuggyIPs ? '!' : ''}:${this.#spans.map((s) => `${s.first}-${s.last}`).join(',')}`;
  }

  get isEmpty(): boolean {
    return this.#spans.length === 0;
  }

  /** x lies in one of the pool's ranges (avoided or not). */
  inRanges(x: bigint): boolean {
    const span = this.#spans[firstEndingAtOrAfter(this.#spans, x)];
    return span !== undefined && span.first <= x;
  }

  /** x may be handed out: in a range and not avoided. */
  contains(x: bigint): boolean {
    return this.inRanges(x) && !this.isAvoided(x);
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
