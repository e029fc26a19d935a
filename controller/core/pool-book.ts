// The pools as the controller sees them: each IPAddressPool parsed, the last
// valid version kept when an edit breaks one (a typo must not take live IPs
// away: MetalLB's "config stale" idea, per pool), overlaps resolved (the newer
// pool allocates nothing), and the status each pool should show, including
// the nodes whose own addresses lie in the pool (the allocator skips them; the
// NodeConflict condition and a Warning say which, since a range that covers
// the nodes' subnet is the most common MetalLB mistake).
import type { Condition, IPAddressPool, IPAddressPoolStatus } from '../../shared/api/index.ts';
import { POOL_FINALIZER } from '../../shared/api/index.ts';
import {
  formatConfigError,
  formatNodeAddress,
  formatPoolConflict,
  parsePool,
  poolContains,
  resolvePoolConflicts,
  type ConfigError,
  type NodeAddress,
  type Pool,
  type PoolConflict,
} from '../../shared/config/index.ts';
import type { IPAddress } from '../../shared/net/index.ts';
import type { PoolUsage } from '../allocator/index.ts';
import type { PlannedEvent, PoolPlan } from './planned.ts';

interface Entry {
  readonly raw: IPAddressPool;
  /** The pool in use: the current spec if it parses, else the last one that did. */
  readonly pool: Pool | undefined;
  readonly errors: readonly ConfigError[];
}

export class PoolBook {
  #entries = new Map<string, Entry>();
  #lastGood = new Map<string, Pool>();
  #conflicts = new Map<string, PoolConflict>();
  #usable: Pool[] = [];
  #conflicted: PoolConflict[] = [];
  #nodeAddresses: readonly NodeAddress[] = [];

  /** The nodes' addresses, for the NodeConflict condition. */
  setNodeAddresses(addresses: readonly NodeAddress[]): void {
    this.#nodeAddresses = addresses;
  }

  /** Replaces the whole set (the informer's cache); returns what the allocator should use. */
  update(raws: readonly IPAddressPool[]): { usable: readonly Pool[]; conflicts: readonly PoolConflict[] } {
    const entries = new Map<string, Entry>();
    for (const raw of raws) {
      const name = raw.metadata.name ?? '';
      const identity = `${name}/${raw.metadata.uid ?? ''}`;
      const parsed = parsePool(raw);
      if (parsed.ok) {
        this.#lastGood.set(identity, parsed.value);
        entries.set(name, { raw, pool: parsed.value, errors: [] });
      } else {
        const last = this.#lastGood.get(identity);
        // A deletion must still be honoured when the spec is broken.
        const pool = last && { ...last, terminating: raw.metadata.deletionTimestamp !== undefined && raw.metadata.deletionTimestamp !== null };
        entries.set(name, { raw, pool, errors: parsed.error });
      }
    }
    for (const identity of this.#lastGood.keys()) {
      const [name, uid] = identity.split('/');
      if (entries.get(name!)?.raw.metadata.uid !== uid) this.#lastGood.delete(identity);
    }
    this.#entries = entries;
    const pools = [...entries.values()].flatMap((e) => (e.pool ? [e.pool] : []));
    const { usable, conflicts } = resolvePoolConflicts(pools);
    this.#usable = usable;
    this.#conflicted = conflicts;
    this.#conflicts = new Map(conflicts.map((c) => [c.pool.name, c]));
    return { usable, conflicts };
  }

  get usable(): readonly Pool[] {
    return this.#usable;
  }
  get conflicts(): readonly PoolConflict[] {
    return this.#conflicted;
  }

  names(): string[] {
    return [...this.#entries.keys()].sort();
  }

  /**
   * What each pool object should look like: status (only when it differs), finalizer, events on a change of state.
   * holdersOf names the Services holding an address (for a node address a Service got before the node did).
   */
  plans(usageOf: (pool: string) => PoolUsage | undefined, usersOf: (pool: string) => readonly string[], holdersOf: (ip: IPAddress) => readonly string[], now: Date): PoolPlan[] {
    const plans: PoolPlan[] = [];
    for (const name of this.names()) {
      const entry = this.#entries.get(name)!;
      const raw = entry.raw;
      const terminating = raw.metadata.deletionTimestamp !== undefined && raw.metadata.deletionTimestamp !== null;
      const users = usersOf(name);
      const state = this.#state(entry, terminating, users, holdersOf);
      const usage = usageOf(name);
      const status = statusFor(state, usage, raw.status, raw.metadata.generation, now);
      const hasFinalizer = raw.metadata.finalizers?.includes(POOL_FINALIZER) ?? false;
      const finalizer = !terminating && !hasFinalizer ? 'add' : terminating && hasFinalizer && users.length === 0 ? 'remove' : undefined;
      const before = raw.status?.conditions?.find((c) => c.type === 'Ready');
      const events: PlannedEvent[] = [];
      if (state.ready.status !== 'True' && (before?.reason !== state.ready.reason || before.message !== state.ready.message)) {
        events.push({ type: 'Warning', reason: state.ready.reason, message: state.ready.message });
      }
      const nodeBefore = raw.status?.conditions?.find((c) => c.type === 'NodeConflict');
      if (state.nodeConflict.status === 'True' && nodeBefore?.message !== state.nodeConflict.message) {
        events.push({ type: 'Warning', reason: state.nodeConflict.reason, message: state.nodeConflict.message });
      }
      plans.push({
        namespace: raw.metadata.namespace ?? '',
        name,
        status: sameStatus(status, raw.status) ? undefined : status,
        finalizer,
        events,
      });
    }
    return plans;
  }

  #state(entry: Entry, terminating: boolean, users: readonly string[], holdersOf: (ip: IPAddress) => readonly string[]): PoolState {
    const name = entry.raw.metadata.name ?? '';
    const nodeConflict = nodeConflictOf(entry.pool, this.#nodeAddresses, holdersOf);
    const conflict = this.#conflicts.get(name);
    const conflictCondition: ConditionValue = conflict
      ? { status: 'True', reason: 'Overlap', message: formatPoolConflict(conflict) }
      : { status: 'False', reason: 'NoOverlap', message: 'no other pool overlaps this one' };
    let ready: ConditionValue;
    if (terminating) {
      ready = users.length
        ? { status: 'False', reason: 'Terminating', message: `being deleted; waits for ${users.length} Service(s) still using it: ${listUsers(users)}` }
        : { status: 'False', reason: 'Terminating', message: 'being deleted; no Service uses it any more' };
    } else if (entry.errors.length > 0) {
      const what = entry.errors.map(formatConfigError).join('; ');
      ready = {
        status: 'False',
        reason: 'InvalidConfiguration',
        message: entry.pool ? `${what}; still serving the last valid spec (${entry.pool.ranges.map((r) => r.text).join(', ')})` : `${what}; allocating nothing`,
      };
    } else if (conflict) {
      ready = { status: 'False', reason: 'Conflict', message: conflictCondition.message };
    } else {
      ready = { status: 'True', reason: 'Allocating', message: 'allocating addresses' };
    }
    return { ready, conflict: conflictCondition, nodeConflict, allocating: ready.status === 'True', inUse: users };
  }
}

/** NodeConflict: which nodes' addresses the pool holds, by entry; who holds one already. */
function nodeConflictOf(pool: Pool | undefined, addresses: readonly NodeAddress[], holdersOf: (ip: IPAddress) => readonly string[]): ConditionValue {
  const inside = pool ? addresses.filter((a) => poolContains(pool, a.ip)) : [];
  if (!pool || inside.length === 0) return { status: 'False', reason: 'NoNodeAddress', message: 'no node address lies in this pool' };
  const sorted = [...inside].sort((a, b) => a.ip.family - b.ip.family || (a.ip.value < b.ip.value ? -1 : a.ip.value > b.ip.value ? 1 : 0) || a.node.localeCompare(b.node));
  const parts = sorted.slice(0, 10).map((a) => {
    const entry = pool.ranges.find((r) => poolContains({ ranges: [r] }, a.ip))!;
    const holders = holdersOf(a.ip);
    return `${entry.field} (${entry.text}) holds the ${formatNodeAddress(a)}${holders.length ? `, yet Service ${holders.join(', ')} has it: move that Service to another address` : ''}`;
  });
  const more = sorted.length > 10 ? `; and ${sorted.length - 10} more` : '';
  return {
    status: 'True',
    reason: 'NodeAddressInPool',
    message: `${parts.join('; ')}${more}. Ballast gives no Service a node's address; take it out of spec.addresses`,
  };
}

interface ConditionValue {
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

interface PoolState {
  readonly ready: ConditionValue;
  readonly conflict: ConditionValue;
  readonly nodeConflict: ConditionValue;
  readonly allocating: boolean;
  readonly inUse: readonly string[];
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** JSON numbers from JavaScript stay exact only up to 2^53-1; the exact figure goes into availableIPv6Text. */
const capped = (n: bigint): number => Number(n > MAX_SAFE ? MAX_SAFE : n);

function listUsers(users: readonly string[]): string {
  const shown = users.slice(0, 10).join(', ');
  return users.length > 10 ? `${shown} and ${users.length - 10} more` : shown;
}

function statusFor(state: PoolState, usage: PoolUsage | undefined, previous: IPAddressPoolStatus | undefined, generation: number | undefined, now: Date): IPAddressPoolStatus {
  const v4 = usage?.ipv4 ?? { assigned: 0n, available: 0n };
  const v6 = usage?.ipv6 ?? { assigned: 0n, available: 0n };
  const exhausted: ConditionValue =
    state.allocating && v4.available === 0n && v6.available === 0n
      ? { status: 'True', reason: 'NoFreeAddress', message: 'every address of the pool is in use' }
      : { status: 'False', reason: state.allocating ? 'FreeAddresses' : 'NotAllocating', message: state.allocating ? 'the pool has free addresses' : 'the pool allocates nothing now' };
  const condition = (type: string, v: ConditionValue): Condition => {
    const before = previous?.conditions?.find((c) => c.type === type);
    return {
      type,
      status: v.status,
      reason: v.reason,
      message: v.message,
      lastTransitionTime: before && before.status === v.status ? before.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  };
  return {
    assignedIPv4: capped(v4.assigned),
    assignedIPv6: capped(v6.assigned),
    availableIPv4: capped(v4.available),
    availableIPv6: capped(v6.available),
    availableIPv6Text: v6.available.toString(),
    conditions: [condition('Ready', state.ready), condition('Conflict', state.conflict), condition('NodeConflict', state.nodeConflict), condition('Exhausted', exhausted)],
  };
}

function sameStatus(a: IPAddressPoolStatus, b: IPAddressPoolStatus | undefined): boolean {
  if (!b) return false;
  const canonical = (s: IPAddressPoolStatus): string =>
    JSON.stringify([
      s.assignedIPv4,
      s.assignedIPv6,
      s.availableIPv4,
      s.availableIPv6,
      s.availableIPv6Text,
      [...(s.conditions ?? [])]
        .sort((x, y) => x.type.localeCompare(y.type))
        .map((c) => [c.type, c.status, c.reason, c.message, Date.parse(c.lastTransitionTime), c.observedGeneration]),
    ]);
  return canonical(a) === canonical(b);
}
