import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventAggregator } from './event-aggregator.ts';

describe('EventAggregator', () => {
  it('the first occurrence is new; repeats of the same (object, type, reason, message) in the window count on it', () => {
    const a = new EventAggregator({ windowMs: 1_000 });
    const first = a.observe('uid-1', 'Normal', 'IPAllocated', 'assigned 203.0.113.5', 0);
    expect(first.kind).toBe('new');
    const again = a.observe('uid-1', 'Normal', 'IPAllocated', 'assigned 203.0.113.5', 900);
    expect(again.kind).toBe('repeat');
    expect(again.kind === 'repeat' && first.kind === 'new' && again.entry === first.entry).toBe(true);
    expect(again.kind === 'repeat' && again.entry.count).toBe(2);
    // The window runs from the last occurrence, so a steady repeat stays on one Event.
    expect(a.observe('uid-1', 'Normal', 'IPAllocated', 'assigned 203.0.113.5', 1_800).kind).toBe('repeat');
  });

  it('a different object, type, reason or message is a different event', () => {
    const a = new EventAggregator();
    a.observe('uid-1', 'Normal', 'IPAllocated', 'm', 0);
    for (const [obj, type, reason, msg] of [
      ['uid-2', 'Normal', 'IPAllocated', 'm'],
      ['uid-1', 'Warning', 'IPAllocated', 'm'],
      ['uid-1', 'Normal', 'ClearAssignment', 'm'],
      ['uid-1', 'Normal', 'IPAllocated', 'm2'],
    ] as const) {
      expect(a.observe(obj, type, reason, msg, 1).kind).toBe('new');
    }
    expect(a.size).toBe(5);
  });

  it('after the window a repeat starts a new Event', () => {
    const a = new EventAggregator({ windowMs: 1_000 });
    const first = a.observe('o', 'Warning', 'AllocationFailed', 'pool exhausted', 0);
    const later = a.observe('o', 'Warning', 'AllocationFailed', 'pool exhausted', 1_001);
    expect(later.kind).toBe('new');
    expect(later.kind === 'new' && first.kind === 'new' && later.entry !== first.entry && later.entry.count).toBe(1);
  });

  it('limits new distinct events per object (burst, then the refill rate), never repeats', () => {
    const a = new EventAggregator({ perObjectBurst: 3, perObjectPerSecond: 1 });
    const kinds = Array.from({ length: 5 }, (_, i) => a.observe('hot', 'Normal', 'Tick', `tick ${i}`, 0).kind);
    expect(kinds).toEqual(['new', 'new', 'new', 'dropped', 'dropped']);
    expect(a.observe('hot', 'Normal', 'Tick', 'tick 0', 10).kind).toBe('repeat');
    expect(a.observe('other', 'Normal', 'Tick', 'tick 9', 10).kind).toBe('new');
    expect(a.observe('hot', 'Normal', 'Tick', 'tick 9', 1_000).kind).toBe('new');
  });

  it('remembers at most maxEntries events, forgetting the least recently seen', () => {
    const a = new EventAggregator({ maxEntries: 2, perObjectBurst: 100 });
    a.observe('o', 'Normal', 'A', 'm', 0);
    a.observe('o', 'Normal', 'B', 'm', 1);
    a.observe('o', 'Normal', 'A', 'm', 2); // A is now more recent than B
    a.observe('o', 'Normal', 'C', 'm', 3); // evicts B
    expect(a.size).toBe(2);
    expect(a.observe('o', 'Normal', 'A', 'm', 4).kind).toBe('repeat');
    expect(a.observe('o', 'Normal', 'B', 'm', 5).kind).toBe('new');
  });

  it('counts every occurrence that is not dropped, exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ obj: fc.constantFrom('a', 'b'), reason: fc.constantFrom('R1', 'R2'), msg: fc.constantFrom('x', 'y', 'z'), gap: fc.integer({ min: 0, max: 3_000 }) }), {
          maxLength: 300,
        }),
        (occurrences) => {
          const a = new EventAggregator({ windowMs: 5_000, perObjectBurst: 4, perObjectPerSecond: 1 });
          const entries = new Set<{ count: number }>();
          let now = 0;
          let kept = 0;
          for (const o of occurrences) {
            now += o.gap;
            const r = a.observe(o.obj, 'Normal', o.reason, o.msg, now);
            if (r.kind !== 'dropped') {
              kept++;
              entries.add(r.entry);
            }
          }
          expect([...entries].reduce((s, e) => s + e.count, 0)).toBe(kept);
        },
      ),
    );
  });
});
