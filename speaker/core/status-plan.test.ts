import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceDecision } from '../election/index.ts';
import { ip } from '../election/test-fixtures.ts';
import { reporterFor } from './reporter.ts';
import { l2StatusLabels, l2StatusRecord, planL2Statuses, type L2StatusAction, type L2StatusRecord } from './status-plan.ts';

const announced = (service: string, node: string, interfaces: 'all' | string[] = 'all'): ServiceDecision => ({
  service,
  ips: [ip('198.51.100.7')],
  movesWith: [],
  announced: true,
  node,
  interfaces: interfaces === 'all' ? 'all' : new Set(interfaces),
});
const notAnnounced = (service: string): ServiceDecision => ({
  service,
  ips: [ip('198.51.100.7')],
  movesWith: [],
  announced: false,
  reason: { code: 'NoLiveSpeaker', message: 'no live speaker' },
});
const record = (name: string, node: string | undefined, service: string | undefined, extra: Partial<L2StatusRecord> = {}): L2StatusRecord => ({
  name,
  uid: `uid-${name}`,
  node,
  service,
  interfaces: undefined,
  hasStatus: true,
  ...extra,
});
const kinds = (actions: L2StatusAction[]) => actions.map((a) => (a.kind === 'create' ? `create ${a.desired.service}@${a.desired.node}` : `${a.kind} ${a.name}`)).sort();

describe('planL2Statuses', () => {
  const plan = (self: string, decisions: ServiceDecision[], existing: L2StatusRecord[], reporter = false, alive = ['node-a', 'node-b']) =>
    planL2Statuses({ self, decisions: new Map(decisions.map((d) => [d.service, d])), existing, isReporter: () => reporter, alive: new Set(alive) });

  it('creates one object for a Service this node announces, with interfaces only when restricted', () => {
    const actions = plan('node-a', [announced('shop/web', 'node-a', ['eth1', 'eth0']), announced('shop/api', 'node-a')], []);
    expect(actions).toEqual([
      { kind: 'create', desired: { service: 'shop/web', serviceNamespace: 'shop', serviceName: 'web', node: 'node-a', interfaces: ['eth0', 'eth1'] } },
      { kind: 'create', desired: { service: 'shop/api', serviceNamespace: 'shop', serviceName: 'api', node: 'node-a', interfaces: undefined } },
    ]);
  });

  it('leaves a correct object alone, and writes the status of one created without it or with other interfaces', () => {
    expect(plan('node-a', [announced('shop/web', 'node-a')], [record('l2-1', 'node-a', 'shop/web')])).toEqual([]);
    expect(kinds(plan('node-a', [announced('shop/web', 'node-a')], [record('l2-1', 'node-a', 'shop/web', { hasStatus: false })]))).toEqual(['write-status l2-1']);
    expect(kinds(plan('node-a', [announced('shop/web', 'node-a', ['eth1'])], [record('l2-1', 'node-a', 'shop/web')]))).toEqual(['write-status l2-1']);
  });

  it('moves: the new announcer creates its own, and deletes the old node\'s only when that node is dead', () => {
    expect(kinds(plan('node-b', [announced('shop/web', 'node-b')], [record('l2-1', 'node-a', 'shop/web')], false, ['node-b']))).toEqual(['create shop/web@node-b', 'delete l2-1']);
    expect(kinds(plan('node-b', [announced('shop/web', 'node-b')], [record('l2-1', 'node-a', 'shop/web')]))).toEqual(['create shop/web@node-b']);
    // The old announcer, alive, removes its own; the new one's object it leaves alone.
    expect(kinds(plan('node-a', [announced('shop/web', 'node-b')], [record('l2-1', 'node-a', 'shop/web'), record('l2-2', 'node-b', 'shop/web')]))).toEqual(['delete l2-1']);
  });

  it('never deletes a live speaker\'s object, even when it disagrees about who announces', () => {
    // node-b still believes it announces (its view lags); node-a thinks nobody does.
    expect(kinds(plan('node-a', [notAnnounced('shop/web')], [record('l2-1', 'node-b', 'shop/web')], true))).toEqual([]);
    expect(kinds(plan('node-a', [announced('shop/web', 'node-a')], [record('l2-1', 'node-b', 'shop/web')]))).toEqual(['create shop/web@node-a']);
  });

  it('keeps one of its own duplicates, preferring the one with status', () => {
    const existing = [record('l2-a', 'node-a', 'shop/web', { hasStatus: false }), record('l2-b', 'node-a', 'shop/web'), record('l2-c', 'node-a', 'shop/web')];
    expect(kinds(plan('node-a', [announced('shop/web', 'node-a')], existing))).toEqual(['delete l2-a', 'delete l2-c']);
  });

  it('removes objects of a Service nobody announces: its own always, a dead node\'s only as the reporter', () => {
    const existing = [record('l2-1', 'node-a', 'shop/web'), record('l2-2', 'node-c', 'shop/web'), record('l2-3', 'node-c', 'shop/gone')];
    expect(kinds(plan('node-a', [notAnnounced('shop/web')], existing))).toEqual(['delete l2-1']);
    expect(kinds(plan('node-b', [notAnnounced('shop/web')], existing, true))).toEqual(['delete l2-2', 'delete l2-3']);
    expect(kinds(plan('node-b', [notAnnounced('shop/web')], existing, false))).toEqual([]);
  });

  it('removes its own objects that name no Service', () => {
    expect(kinds(plan('node-a', [], [record('l2-1', 'node-a', undefined), record('l2-2', 'node-b', undefined)]))).toEqual(['delete l2-1']);
  });

  it('converges from any starting state: one object per announced Service, by its announcer; none otherwise', () => {
    const nodes = ['node-a', 'node-b', 'node-c', 'node-d'];
    const services = ['shop/a', 'shop/b', 'shop/c', 'shop/d'];
    const arbitraryDecision = fc.oneof(
      fc.record({ kind: fc.constant('announced' as const), node: fc.constantFrom(...nodes.slice(0, 3)), interfaces: fc.constantFrom<'all' | string[]>('all', ['eth1']) }),
      fc.record({ kind: fc.constant('not-announced' as const) }),
      fc.record({ kind: fc.constant('gone' as const) }),
    );
    const arbitraryRecord = fc.record({
      node: fc.option(fc.constantFrom(...nodes), { nil: undefined }),
      service: fc.option(fc.constantFrom(...services, 'shop/unknown'), { nil: undefined }),
      hasStatus: fc.boolean(),
      interfaces: fc.constantFrom<readonly string[] | undefined>(undefined, ['eth1'], ['eth0']),
    });
    fc.assert(
      fc.property(fc.tuple(...services.map(() => arbitraryDecision)), fc.array(arbitraryRecord, { maxLength: 8 }), (decided, initial) => {
        // node-d is dead: it appears in old objects only.
        const alive = nodes.slice(0, 3);
        const decisions = new Map<string, ServiceDecision>();
        decided.forEach((d, i) => {
          const service = services[i]!;
          if (d.kind === 'announced') decisions.set(service, announced(service, d.node, d.interfaces));
          else if (d.kind === 'not-announced') decisions.set(service, notAnnounced(service));
        });
        let objects = initial.map((r, i) => record(`l2-${i}`, r.node, r.service, { hasStatus: r.hasStatus, interfaces: r.interfaces }));
        let next = objects.length;
        let rounds = 0;
        for (let changed = true; changed; rounds++) {
          if (rounds > 3) throw new Error('did not converge in 3 rounds');
          changed = false;
          for (const self of alive) {
            for (const action of planL2Statuses({ self, decisions, existing: objects, alive: new Set(alive), isReporter: (s) => reporterFor(s, alive) === self })) {
              changed = true;
              if (action.kind === 'delete') {
                const victim = objects.find((o) => o.name === action.name)!;
                // Nobody deletes what another live speaker owns.
                if (victim.node !== undefined && alive.includes(victim.node)) expect(self).toBe(victim.node);
                objects = objects.filter((o) => o.name !== action.name);
              } else if (action.kind === 'create') {
                objects.push(record(`l2-new-${next++}`, action.desired.node, action.desired.service, { interfaces: action.desired.interfaces }));
              } else {
                objects = objects.map((o) => (o.name === action.name ? { ...o, hasStatus: true, interfaces: action.desired.interfaces } : o));
              }
            }
          }
        }
        for (const service of [...services, 'shop/unknown', undefined]) {
          const d = service === undefined ? undefined : decisions.get(service);
          const left = objects.filter((o) => o.service === service);
          if (d?.announced) {
            expect(left.map((o) => [o.node, o.interfaces, o.hasStatus])).toEqual([[d.node, d.interfaces === 'all' ? undefined : [...d.interfaces], true]]);
          } else if (service !== undefined) {
            expect(left).toEqual([]);
          } else {
            // Objects naming no Service: only their (live) writers remove them.
            expect(left.every((o) => o.node === undefined || !alive.includes(o.node))).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('l2StatusRecord and labels', () => {
  it('reads labels first, then the node annotation, then status', () => {
    const desired = { service: 'shop/web', serviceNamespace: 'shop', serviceName: 'web', node: 'node-a', interfaces: undefined };
    const labels = l2StatusLabels(desired);
    expect(labels).toEqual({ 'ballast.io/node': 'node-a', 'ballast.io/service-namespace': 'shop', 'ballast.io/service-name': 'web' });
    expect(l2StatusRecord({ metadata: { name: 'l2-1', uid: 'u', labels } })).toEqual({ name: 'l2-1', uid: 'u', node: 'node-a', service: 'shop/web', interfaces: undefined, hasStatus: false });
    expect(
      l2StatusRecord({ metadata: { name: 'l2-2' }, status: { node: 'node-b', serviceName: 'api', serviceNamespace: 'shop', interfaces: [{ name: 'eth1' }, { name: 'eth0' }] } }),
    ).toEqual({ name: 'l2-2', uid: undefined, node: 'node-b', service: 'shop/api', interfaces: ['eth0', 'eth1'], hasStatus: true });
  });

  it('leaves out a node name that is no label value; the annotation carries it', () => {
    const long = `${'n'.repeat(70)}.example.com`;
    const labels = l2StatusLabels({ service: 'shop/web', serviceNamespace: 'shop', serviceName: 'web', node: long, interfaces: undefined });
    expect(labels['ballast.io/node']).toBeUndefined();
    expect(l2StatusRecord({ metadata: { name: 'l2-1', labels, annotations: { 'ballast.io/node': long } } })?.node).toBe(long);
  });
});
