// Which addresses of one pool's AddressSet are held, as maximal runs of
// consecutive eligible addresses (start → last) in an ordered map. The lowest
// free address is one lookup away: the run at the set's first address, if
// any, ends just before it. Memory grows with the number of runs (≤ held
// addresses), never with the pool's size; every operation is O(log n).
// MetalLB instead walks each CIDR from its first address (O(n) per
// allocation, O(n²) to fill a pool).
import type { AddressSet } from './address-set.ts';
import { OrderedMap } from './ordered-map.ts';

export class HeldRuns {
  readonly set: AddressSet;
  readonly #runs = new OrderedMap<bigint>();
  #held = 0n;

  constructor(set: AddressSet) {
    this.set = set;
  }

  /** Held addresses of the set. */
  get held(): bigint {
    return this.#held;
  }

  get available(): bigint {
    return this.set.capacity - this.#held;
  }

  /** Internal runs, for tests and the memory benchmark. */
  get runCount(): number {
    return this.#runs.size;
  }

  isHeld(x: bigint): boolean {
    const run = this.#runs.floor(x);
    return run !== undefined && run.value >= x;
  }

  lowestFree(): bigint | undefined {
    const first = this.set.next(0n);
    if (first === undefined) return undefined;
    const run = this.#runs.get(first);
    // Runs are maximal, so the address after the first run is free.
    return run === undefined ? first : this.set.next(run + 1n);
  }

  take(x: bigint): void {
    if (!this.set.contains(x) || this.isHeld(x)) throw new Error(`bug: take(${x}) of an address that is ineligible or held`);
    const before = this.set.prev(x - 1n);
    const after = this.set.next(x + 1n);
    const left = before === undefined ? undefined : this.#runs.floor(before);
    const joinsLeft = left !== undefined && left.value === before;
    const rightLast = after === undefined ? undefined : this.#runs.get(after);
    if (rightLast !== undefined) this.#runs.delete(after!);
    const last = rightLast ?? x;
    if (joinsLeft) this.#runs.set(left.key, last);
    else this.#runs.set(x, last);
    this.#held++;
  }

  free(x: bigint): void {
    const run = this.#runs.floor(x);
    if (run === undefined || run.value < x) throw new Error(`bug: free(${x}) of an address that is not held`);
    const { key: start, value: last } = run;
    if (start === x) this.#runs.delete(start);
    else this.#runs.set(start, this.set.prev(x - 1n)!);
    if (last !== x) this.#runs.set(this.set.next(x + 1n)!, last);
    this.#held--;
  }

  /** Every held address, ascending; for tests on small pools. */
  *addresses(): Generator<bigint> {
    for (const { key, value } of this.#runs.entries()) {
      for (let x: bigint | undefined = key; x !== undefined && x <= value; x = this.set.next(x + 1n)) yield x;
    }
  }
}
