// Decides which IPs each LoadBalancer Service holds. Pure and deterministic:
// pools and requests in, assignments and failures out; no I/O, no clock.
//
// Policy, in the order assign() applies it (MetalLB parity where it is
// deterministic, see controller/service.go and internal/allocator):
// 1. A Service that holds IPs which still satisfy its request keeps them.
// 2. Requested IPs (annotation or spec.loadBalancerIP): must lie in a usable
//    pool (the named one, if `address-pool` is set).
// 3. Else the named pool; else pools whose serviceAllocation selects the
//    Service by priority; else autoAssign pools without serviceAllocation,
//    by name. Requested IPs and a named pool bypass autoAssign=false but not
//    serviceAllocation selectors. A Service with a sharing key tries first the
//    pools where its key already holds a compatible address.
// 4. All of a Service's IPs come from one pool; within it, the key's lowest
//    compatible shared address, else the lowest free one.
// 5. A Node's own address (InternalIP, ExternalIP) is never handed out, nor
//    granted on request: the node and the Service would both answer for it.
//    A Service that already holds one keeps it (it is not moved silently; the
//    pool's NodeConflict condition names both).
//
// Pool states: allocating; terminating (being deleted: existing assignments
// stay valid, nothing new, like PVC protection); conflicted (overlaps an older
// pool: nothing new, and existing assignments stay valid too, so an edit to
// another pool never silently takes a live IP; the pool's Conflict condition
// says why and usersOf() names who is still on it). Every held address stays
// held whatever its pool's state, so no pool hands it to anyone else.
//
// A failed assign() keeps what the Service held (under its new request)
// unless its new request may not share those IPs with their other holders;
// a failed restore() changes nothing.
import type { NodeAddress, Pool, PoolConflict, ServiceRequest } from '../../shared/config/index.ts';
import { ipFromValue, type Family, type IPAddress } from '../../shared/net/index.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import { AddressSet, firstEndingAtOrAfter } from './address-set.ts';
import type { AllocationFailure, Assignment, Invalidation, InvalidReason, SkippedPool } from './failures.ts';
import { HeldRuns } from './held-runs.ts';
import { byName, byPriorityThenName, selectionMismatch } from './selection.ts';
import { sharingConflict, type AddressUse, type SharingConflict } from './sharing.ts';

export interface FamilyUsage {
  /** Distinct addresses assigned from the pool. */
  readonly assigned: bigint;
  /** Addresses it could still hand out (0 while terminating or conflicted). */
  readonly available: bigint;
}

export interface PoolUsage {
  readonly ipv4: FamilyUsage;
  readonly ipv6: FamilyUsage;
}

type PoolStatus = 'allocating' | 'terminating' | 'conflicted';

interface PoolState {
  readonly pool: Pool;
  readonly status: PoolStatus;
  readonly conflict: PoolConflict | undefined;
  readonly sets: Readonly<Record<Family, AddressSet>>;
  /** Allocating pools only, per family the pool has addresses of. */
  readonly runs: Partial<Record<Family, HeldRuns>>;
}

interface Holding {
  readonly pool: string;
  readonly ips: readonly IPAddress[];
  readonly request: ServiceRequest;
}

interface OwnedSpan {
  readonly first: bigint;
  readonly last: bigint;
  readonly state: PoolState;
}

const FAMILIES: readonly Family[] = [4, 6];

export class Allocator {
  #pools = new Map<string, PoolState>();
  #poolsByName: PoolState[] = [];
  /** Ranges of every non-conflicted pool, sorted; they never overlap (resolvePoolConflicts). */
  #usableSpans: Record<Family, OwnedSpan[]> = { 4: [], 6: [] };
  #conflicted: PoolState[] = [];

  readonly #holdings = new Map<string, Holding>();
  readonly #uses: Record<Family, Map<bigint, AddressUse>> = { 4: new Map(), 6: new Map() };
  readonly #usesByKey = new Map<string, Set<AddressUse>>();
  readonly #users = new Map<string, Set<string>>();
  readonly #assigned = new Map<string, Record<Family, bigint>>();
  /** Node addresses by family, value → the nodes that have it. */
  #nodeAddresses: Record<Family, Map<bigint, string[]>> = { 4: new Map(), 6: new Map() };
  #lastPools: { usable: readonly Pool[]; conflicts: readonly PoolConflict[] } = { usable: [], conflicts: [] };

  /**
   * Installs the nodes' addresses: from now on no Service gets one. Returns
   * what setPools returns for the current pools (nothing: node addresses
   * never invalidate a held assignment).
   */
  setNodeAddresses(addresses: readonly NodeAddress[]): Invalidation[] {
    const next: Record<Family, Map<bigint, string[]>> = { 4: new Map(), 6: new Map() };
    for (const { ip, node } of addresses) {
      const nodes = next[ip.family].get(ip.value) ?? [];
      if (!nodes.includes(node)) next[ip.family].set(ip.value, [...nodes, node].sort());
    }
    this.#nodeAddresses = next;
    return this.setPools(this.#lastPools.usable, this.#lastPools.conflicts);
  }

  /** Services holding this address. */
  holdersOf(ip: IPAddress): string[] {
    return (this.#uses[ip.family].get(ip.value)?.holders ?? []).map((h) => h.key).sort();
  }

  /**
   * Installs a new pool configuration. Returns, sorted by Service key, the
   * assignments it made invalid (pool gone, IP outside its pool's ranges or
   * now avoided, serviceAllocation no longer selecting the Service); those are
   * released, for the caller to assign again. Nobody else moves.
   */
  setPools(usable: readonly Pool[], conflicts: readonly PoolConflict[]): Invalidation[] {
    this.#lastPools = { usable, conflicts };
    const next = new Map<string, PoolState>();
    const nodeValues = { 4: [...this.#nodeAddresses[4].keys()], 6: [...this.#nodeAddresses[6].keys()] };
    const add = (pool: Pool, status: PoolStatus, conflict: PoolConflict | undefined): void => {
      if (next.has(pool.name)) throw new Error(`bug: pool "${pool.name}" given twice to setPools`);
      const sets = {
        4: new AddressSet(4, pool.ranges.filter((r) => r.family === 4), pool.avoidBuggyIPs, nodeValues[4]),
        6: new AddressSet(6, pool.ranges.filter((r) => r.family === 6), pool.avoidBuggyIPs, nodeValues[6]),
      };
      next.set(pool.name, { pool, status, conflict, sets, runs: {} });
    };
    for (const pool of usable) add(pool, pool.terminating ? 'terminating' : 'allocating', undefined);
    for (const c of conflicts) add(c.pool, 'conflicted', c);

    const poolsByName = [...next.values()].sort((a, b) => byName(a.pool, b.pool));
    const usableSpans = { 4: ownedSpans(poolsByName, 4), 6: ownedSpans(poolsByName, 6) };

    const invalid: Invalidation[] = [];
    for (const key of [...this.#holdings.keys()].sort()) {
      const holding = this.#holdings.get(key)!;
      const reason = invalidReason(holding, next.get(holding.pool));
      if (reason) invalid.push({ key, assignment: toAssignment(holding), reason });
    }
    for (const inv of invalid) this.#drop(inv.key);

    // Keep the held runs of pools whose addresses did not change; rebuild the rest from the held addresses.
    const rebuilt = new Set<HeldRuns>();
    for (const state of next.values()) {
      if (state.status !== 'allocating') continue;
      const before = this.#pools.get(state.pool.name);
      for (const f of FAMILIES) {
        if (state.sets[f].isEmpty) continue;
        const kept = before?.status === 'allocating' ? before.runs[f] : undefined;
        if (kept && kept.set.fingerprint === state.sets[f].fingerprint) {
          state.runs[f] = kept;
        } else {
          const runs = new HeldRuns(state.sets[f]);
          state.runs[f] = runs;
          rebuilt.add(runs);
        }
      }
    }
    this.#pools = next;
    this.#poolsByName = poolsByName;
    this.#conflicted = poolsByName.filter((s) => s.status === 'conflicted');
    this.#usableSpans = usableSpans;
    if (rebuilt.size > 0) {
      for (const f of FAMILIES) {
        for (const value of this.#uses[f].keys()) {
          const runs = this.#runsHolding(f, value);
          if (runs && rebuilt.has(runs)) runs.take(value);
        }
      }
    }
    return invalid;
  }

  /**
   * Gives the Service IPs for its request, or keeps the ones it holds when
   * they still satisfy it (never changes an IP without cause). A
   * PreferDualStack Service holding one family gains the other from the same
   * pool when it can.
   */
  assign(key: string, req: ServiceRequest): Result<Assignment, AllocationFailure> {
    const current = this.#holdings.get(key);
    if (current && this.#holdingProblem(key, req, current.pool, current.ips) === undefined) {
      this.#drop(key);
      this.#take(key, current.pool, this.#withMissingFamily(key, req, current), req);
      return ok(this.assignmentOf(key)!);
    }
    if (current) this.#drop(key);
    const result = req.requestedIPs.length > 0 ? this.#assignRequested(key, req) : this.#assignFromPools(key, req);
    // A failed assign keeps what the Service held, booked under its new request, unless that
    // request may not share the held IPs with their other holders (its sharing key or ports
    // changed): then keeping them would show one IP on two incompatible Services, so it loses them.
    if (!result.ok && current && !this.#sharingConflictOf(key, req, current)) this.#take(key, current.pool, current.ips, req);
    return result;
  }

  #sharingConflictOf(key: string, req: ServiceRequest, holding: Holding): SharingConflict | undefined {
    for (const ip of holding.ips) {
      const use = this.#uses[ip.family].get(ip.value);
      const conflict = use && sharingConflict(use, key, req, holding.pool);
      if (conflict) return conflict;
    }
    return undefined;
  }

  /**
   * Re-takes exactly these IPs (from Service status) for the Service, whatever
   * the pool's state: on controller start every existing assignment is
   * restored before anything new is allocated (MetalLB #1774, #2443, #2479).
   * `fromPool` (the ip-allocated-from-pool annotation) keeps an IP in the pool
   * it came from where pools overlap (one of them conflicted); without it the
   * usable pool holding the IP wins.
   */
  restore(key: string, req: ServiceRequest, ips: readonly IPAddress[], fromPool?: string): Result<Assignment, AllocationFailure> {
    const sorted = [...ips].sort((a, b) => a.family - b.family);
    if (sorted.length === 0) return err({ kind: 'restore-mismatch', why: 'no IPs given' });
    if (sorted.length === 2 && sorted[0]!.family === sorted[1]!.family) {
      return err({ kind: 'restore-mismatch', why: `two addresses of one family (${sorted[0]!.text}, ${sorted[1]!.text})` });
    }
    if (sorted.length > 2) return err({ kind: 'restore-mismatch', why: `${sorted.length} addresses; at most one per family` });
    // The IPs' own pool: the one they came from if it holds them, else the named one, else whichever holds them.
    const home = this.#homeOf(sorted, this.#poolHolding(sorted, fromPool) ?? this.#poolHolding(sorted, req.pool));
    if (!home.ok) return home;
    const current = this.#holdings.get(key);
    if (current) this.#drop(key);
    // Whether the IPs still match what the request asks for is assign()'s question, as without a
    // restart: a Service that kept its IPs while its new request could not be met keeps them here too.
    const problem = this.#holdingProblem(key, req, home.value.pool.name, sorted, { checkRequest: false });
    if (problem) {
      if (current) this.#take(key, current.pool, current.ips, current.request);
      return err(problem);
    }
    this.#take(key, home.value.pool.name, sorted, req);
    return ok(this.assignmentOf(key)!);
  }

  release(key: string): Assignment | undefined {
    const holding = this.#holdings.get(key);
    if (!holding) return undefined;
    this.#drop(key);
    return toAssignment(holding);
  }

  assignmentOf(key: string): Assignment | undefined {
    const holding = this.#holdings.get(key);
    return holding && toAssignment(holding);
  }

  /** Services holding IPs from the pool, sorted: what keeps a terminating pool's finalizer on. */
  usersOf(pool: string): string[] {
    return [...(this.#users.get(pool) ?? [])].sort();
  }

  usage(pool: string): PoolUsage | undefined {
    const state = this.#pools.get(pool);
    const assigned = this.#assigned.get(pool);
    if (!state && !assigned) return undefined;
    const family = (f: Family): FamilyUsage => ({
      assigned: assigned?.[f] ?? 0n,
      available: state?.status === 'allocating' ? (state.runs[f]?.available ?? 0n) : 0n,
    });
    return { ipv4: family(4), ipv6: family(6) };
  }

  // ---- choosing ----

  #assignRequested(key: string, req: ServiceRequest): Result<Assignment, AllocationFailure> {
    const home = this.#homeOf(req.requestedIPs, req.pool);
    if (!home.ok) return home;
    const state = home.value;
    const closed = closedFailure(state);
    if (closed) return err(closed);
    const nodeOwned = req.requestedIPs.find((ip) => state.sets[ip.family].isExcluded(ip.value));
    if (nodeOwned) return err({ kind: 'ip-of-node', ip: nodeOwned.text, nodes: this.#nodeAddresses[nodeOwned.family].get(nodeOwned.value) ?? [] });
    const problem = this.#holdingProblem(key, req, state.pool.name, req.requestedIPs);
    if (problem) return err(problem);
    this.#take(key, state.pool.name, req.requestedIPs, req);
    return ok(this.assignmentOf(key)!);
  }

  #assignFromPools(key: string, req: ServiceRequest): Result<Assignment, AllocationFailure> {
    const skipped: SkippedPool[] = [];
    let candidates: PoolState[];
    if (req.pool !== undefined) {
      const state = this.#pools.get(req.pool);
      if (!state) return err({ kind: 'unknown-pool', pool: req.pool });
      const closed = closedFailure(state);
      if (closed) return err(closed);
      const why = selectionMismatch(state.pool, req);
      if (why) return err({ kind: 'pool-not-selecting', pool: req.pool, why });
      candidates = [state];
    } else {
      candidates = this.#autoCandidates(req, skipped);
    }
    if (req.sharingKey !== '') {
      const sharing = candidates.filter((s) => req.ipFamilies.some((f) => this.#sharedAddress(s, f, key, req) !== undefined));
      candidates = [...sharing, ...candidates.filter((s) => !sharing.includes(s))];
    }

    const exhausted = new Map<PoolState, Set<Family>>();
    for (const families of familyOptions(req)) {
      for (const state of candidates) {
        if (families.some((f) => state.sets[f].isEmpty)) continue;
        const picked: IPAddress[] = [];
        for (const f of families) {
          const value = this.#sharedAddress(state, f, key, req) ?? state.runs[f]?.lowestFree();
          if (value === undefined) {
            exhausted.set(state, (exhausted.get(state) ?? new Set<Family>()).add(f));
            break;
          }
          picked.push(ipFromValue(f, value));
        }
        if (picked.length === families.length) {
          this.#take(key, state.pool.name, picked.sort((a, b) => a.family - b.family), req);
          return ok(this.assignmentOf(key)!);
        }
      }
    }

    const lacking = (s: PoolState): Family[] => req.ipFamilies.filter((f) => s.sets[f].isEmpty);
    if (req.pool !== undefined && !exhausted.has(candidates[0]!)) {
      return err({ kind: 'family-unavailable', pool: req.pool, families: lacking(candidates[0]!) });
    }
    if (candidates.length > 0 && candidates.every((s) => exhausted.has(s))) {
      return err({ kind: 'pool-exhausted', pools: candidates.map((s) => ({ pool: s.pool.name, families: [...exhausted.get(s)!].sort() })) });
    }
    for (const s of candidates) {
      const full = exhausted.get(s);
      const reason = full
        ? `has no free ${[...full].sort().map((f) => `IPv${f}`).join(' or ')} address`
        : `has no ${lacking(s).map((f) => `IPv${f}`).join(' or ')} range`;
      skipped.push({ pool: s.pool.name, reason });
    }
    return err({ kind: 'no-pool', skipped: skipped.sort((a, b) => (a.pool < b.pool ? -1 : a.pool > b.pool ? 1 : 0)) });
  }

  /** Pools the Service may draw from without naming one: selecting serviceAllocation pools by priority, then plain autoAssign pools by name. */
  #autoCandidates(req: ServiceRequest, skipped: SkippedPool[]): PoolState[] {
    const selecting: PoolState[] = [];
    const plain: PoolState[] = [];
    for (const state of this.#poolsByName) {
      const { pool } = state;
      let reason: string | undefined;
      if (state.status === 'conflicted') reason = `overlaps older pool "${state.conflict!.olderPool}"`;
      else if (state.status === 'terminating') reason = 'is being deleted';
      else if (!pool.autoAssign) reason = 'has autoAssign false (request it by name or IP)';
      else reason = selectionMismatch(pool, req);
      if (reason) skipped.push({ pool: pool.name, reason });
      else (pool.serviceAllocation ? selecting : plain).push(state);
    }
    selecting.sort((a, b) => byPriorityThenName(a.pool, b.pool));
    return [...selecting, ...plain];
  }

  /** The lowest address of family f in the pool that the Service's sharing key holds and it may join. */
  #sharedAddress(state: PoolState, f: Family, key: string, req: ServiceRequest): bigint | undefined {
    if (req.sharingKey === '' || state.status !== 'allocating') return undefined;
    let best: bigint | undefined;
    for (const use of this.#usesByKey.get(req.sharingKey) ?? []) {
      if (use.ip.family !== f || use.pool !== state.pool.name || (best !== undefined && use.ip.value > best)) continue;
      if (!state.sets[f].contains(use.ip.value) || sharingConflict(use, key, req, state.pool.name)) continue;
      best = use.ip.value;
    }
    return best;
  }

  /** A PreferDualStack Service holding one family gains the other from the same pool when it can (MetalLB parity). */
  #withMissingFamily(key: string, req: ServiceRequest, current: Holding): readonly IPAddress[] {
    if (req.ipFamilyPolicy !== 'PreferDualStack' || req.requestedIPs.length > 0 || current.ips.length !== 1) return current.ips;
    const state = this.#pools.get(current.pool)!;
    const missing = req.ipFamilies.find((f) => f !== current.ips[0]!.family);
    if (missing === undefined || state.status !== 'allocating') return current.ips;
    const value = this.#sharedAddress(state, missing, key, req) ?? state.runs[missing]?.lowestFree();
    if (value === undefined) return current.ips;
    return [...current.ips, ipFromValue(missing, value)].sort((a, b) => a.family - b.family);
  }

  /** The one pool these IPs belong to: the named pool, else the usable pool holding them, else a conflicted one. */
  #homeOf(ips: readonly IPAddress[], named: string | undefined): Result<PoolState, AllocationFailure> {
    const homes: PoolState[] = [];
    for (const ip of ips) {
      if (named !== undefined) {
        const state = this.#pools.get(named);
        if (!state) return err({ kind: 'unknown-pool', pool: named });
        if (!state.sets[ip.family].inRanges(ip.value)) return err({ kind: 'ip-not-in-pool', ip: ip.text, pool: named });
        homes.push(state);
        continue;
      }
      const state = this.#usablePoolAt(ip.family, ip.value) ?? this.#conflicted.find((s) => s.sets[ip.family].inRanges(ip.value));
      if (!state) return err({ kind: 'ip-outside-pools', ip: ip.text });
      homes.push(state);
    }
    const first = homes[0]!;
    if (homes.some((s) => s !== first)) {
      return err({ kind: 'ips-in-different-pools', ips: ips.map((ip, i) => ({ ip: ip.text, pool: homes[i]!.pool.name })) });
    }
    return ok(first);
  }

  /** The pool named, if it exists and its ranges hold all these IPs. */
  #poolHolding(ips: readonly IPAddress[], name: string | undefined): string | undefined {
    const state = name === undefined ? undefined : this.#pools.get(name);
    return state && ips.every((ip) => state.sets[ip.family].inRanges(ip.value)) ? name : undefined;
  }

  /** Why the Service may not hold these IPs from this pool with this request, or undefined if it may. */
  #holdingProblem(key: string, req: ServiceRequest, pool: string, ips: readonly IPAddress[], opts = { checkRequest: true }): AllocationFailure | undefined {
    if (opts.checkRequest) {
      if (req.pool !== undefined && req.pool !== pool) return { kind: 'restore-mismatch', why: `the Service asks for pool "${req.pool}", its IPs are from pool "${pool}"` };
      if (req.requestedIPs.length > 0 && !sameIPs(req.requestedIPs, ips)) {
        return { kind: 'restore-mismatch', why: `the Service requests ${texts(req.requestedIPs)}, not ${texts(ips)}` };
      }
      const familyProblem = familiesMismatch(req, ips);
      if (familyProblem) return { kind: 'restore-mismatch', why: familyProblem };
    }
    const state = this.#pools.get(pool);
    if (!state) return { kind: 'unknown-pool', pool };
    for (const ip of ips) {
      const set = state.sets[ip.family];
      if (!set.inRanges(ip.value)) return { kind: 'ip-not-in-pool', ip: ip.text, pool };
      if (set.isAvoided(ip.value)) return { kind: 'ip-avoided', ip: ip.text, pool };
    }
    const why = selectionMismatch(state.pool, req);
    if (why) return { kind: 'pool-not-selecting', pool, why };
    for (const ip of ips) {
      const use = this.#uses[ip.family].get(ip.value);
      const conflict = use && sharingConflict(use, key, req, pool);
      if (conflict) return { kind: 'ip-held', ip: ip.text, conflict };
    }
    return undefined;
  }

  // ---- bookkeeping ----

  #usablePoolAt(f: Family, value: bigint): PoolState | undefined {
    const spans = this.#usableSpans[f];
    const span = spans[firstEndingAtOrAfter(spans, value)];
    return span && span.first <= value ? span.state : undefined;
  }

  /** The held-runs index that tracks this address: the allocating pool whose addresses include it, whoever holds it. */
  #runsHolding(f: Family, value: bigint): HeldRuns | undefined {
    const state = this.#usablePoolAt(f, value);
    const runs = state?.runs[f];
    return runs && runs.set.contains(value) ? runs : undefined;
  }

  #take(key: string, pool: string, ips: readonly IPAddress[], req: ServiceRequest): void {
    for (const ip of ips) {
      let use = this.#uses[ip.family].get(ip.value);
      if (!use) {
        use = { ip, pool, sharingKey: req.sharingKey, backendKey: req.backendKey, holders: [] };
        this.#uses[ip.family].set(ip.value, use);
        if (use.sharingKey !== '') mapSet(this.#usesByKey, use.sharingKey).add(use);
        const counts = this.#assigned.get(pool) ?? { 4: 0n, 6: 0n };
        counts[ip.family]++;
        this.#assigned.set(pool, counts);
        this.#runsHolding(ip.family, ip.value)?.take(ip.value);
      }
      use.holders.push({ key, ports: req.ports });
    }
    this.#holdings.set(key, { pool, ips, request: req });
    mapSet(this.#users, pool).add(key);
  }

  #drop(key: string): void {
    const holding = this.#holdings.get(key);
    if (!holding) return;
    for (const ip of holding.ips) {
      const use = this.#uses[ip.family].get(ip.value)!;
      const at = use.holders.findIndex((h) => h.key === key);
      if (at < 0) throw new Error(`bug: ${key} holds ${ip.text} but is not among its holders`);
      use.holders.splice(at, 1);
      if (use.holders.length > 0) continue;
      this.#uses[ip.family].delete(ip.value);
      if (use.sharingKey !== '') mapDelete(this.#usesByKey, use.sharingKey, use);
      const counts = this.#assigned.get(use.pool)!;
      counts[ip.family]--;
      if (counts[4] === 0n && counts[6] === 0n) this.#assigned.delete(use.pool);
      this.#runsHolding(ip.family, ip.value)?.free(ip.value);
    }
    this.#holdings.delete(key);
    mapDelete(this.#users, holding.pool, key);
  }
}

/** The ranges of the non-conflicted pools, sorted; they must not overlap (resolvePoolConflicts sees to it). */
function ownedSpans(states: readonly PoolState[], f: Family): OwnedSpan[] {
  const spans = states
    .filter((s) => s.status !== 'conflicted')
    .flatMap((state) => state.pool.ranges.filter((r) => r.family === f).map((r) => ({ first: r.first, last: r.last, state })))
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  spans.forEach((span, i) => {
    const before = spans[i - 1];
    if (before && before.last >= span.first) {
      throw new Error(`bug: usable pools "${before.state.pool.name}" and "${span.state.pool.name}" overlap; pass pools through resolvePoolConflicts`);
    }
  });
  return spans;
}

function invalidReason(holding: Holding, state: PoolState | undefined): InvalidReason | undefined {
  if (!state) return { kind: 'pool-removed' };
  for (const ip of holding.ips) {
    const set = state.sets[ip.family];
    if (!set.inRanges(ip.value)) return { kind: 'ip-outside-pool', ip: ip.text };
    if (set.isAvoided(ip.value)) return { kind: 'ip-avoided', ip: ip.text };
  }
  const why = selectionMismatch(state.pool, holding.request);
  return why ? { kind: 'pool-not-selecting', why } : undefined;
}

/** Why a pool takes no new users, if it does not. */
function closedFailure(state: PoolState): AllocationFailure | undefined {
  if (state.status === 'conflicted') {
    return { kind: 'pool-conflicted', pool: state.pool.name, olderPool: state.conflict!.olderPool, overlap: state.conflict!.overlap };
  }
  if (state.status === 'terminating') return { kind: 'pool-terminating', pool: state.pool.name };
  return undefined;
}

/** The family sets to try, best first. PreferDualStack: both, else primary, else secondary (MetalLB). */
function familyOptions(req: ServiceRequest): Family[][] {
  const [primary, secondary] = req.ipFamilies;
  if (req.ipFamilyPolicy === 'PreferDualStack' && primary !== undefined && secondary !== undefined) {
    return [[primary, secondary], [primary], [secondary]];
  }
  return [[...req.ipFamilies]];
}

function familiesMismatch(req: ServiceRequest, ips: readonly IPAddress[]): string | undefined {
  const held = ips.map((ip) => ip.family);
  const fits =
    req.ipFamilyPolicy === 'PreferDualStack'
      ? held.length > 0 && held.every((f) => req.ipFamilies.includes(f))
      : held.length === req.ipFamilies.length && req.ipFamilies.every((f) => held.includes(f));
  if (fits) return undefined;
  return `the Service wants ${req.ipFamilies.map((f) => `IPv${f}`).join(' and ')} (${req.ipFamilyPolicy}), the IPs are ${texts(ips)}`;
}

const sameIPs = (a: readonly IPAddress[], b: readonly IPAddress[]): boolean =>
  a.length === b.length && a.every((ip) => b.some((o) => o.family === ip.family && o.value === ip.value));

const texts = (ips: readonly IPAddress[]): string => ips.map((ip) => ip.text).join(', ');

const toAssignment = (h: Holding): Assignment => ({ pool: h.pool, ips: h.ips });

function mapSet<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  return set;
}

function mapDelete<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
