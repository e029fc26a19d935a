import { describe, expect, it } from 'vitest';
import { elect } from '../election/index.ts';
import { ad, input, node, service } from '../election/test-fixtures.ts';
import { EMPTY_REPORT_MEMORY, planReports, type ReportInput } from './reports.ts';

const nodes = [node('node-a'), node('node-b'), node('node-c')];
// sha256 order for 198.51.100.7 is node-a, node-b, node-c (election/rendezvous.test.ts).
const web = service('shop/web', ['198.51.100.7']);

function report(memory = EMPTY_REPORT_MEMORY, extra: Partial<ReportInput> & { live?: string[]; ads?: ReturnType<typeof ad>[] } = {}) {
  const election = elect(input({ services: [web], nodes, liveSpeakers: new Set(extra.live ?? ['node-a', 'node-b', 'node-c']), ...(extra.ads ? { advertisements: extra.ads } : {}) }));
  return planReports(memory, { self: 'node-a', election, isReporter: () => true, interfaceProblem: () => undefined, ...extra });
}

describe('planReports', () => {
  it('says NodeAssigned once when this node takes a Service over, and again only after it lost it', () => {
    const first = report();
    expect(first.events).toEqual([{ service: 'shop/web', type: 'Normal', reason: 'NodeAssigned', message: 'announcing 198.51.100.7 from node node-a' }]);
    expect(report(first.memory).events).toEqual([]);
    const lost = report(first.memory, { live: ['node-b', 'node-c'] });
    expect(lost.events).toEqual([]);
    expect(report(lost.memory).events.map((e) => e.reason)).toEqual(['NodeAssigned']);
  });

  it('names the interfaces when the advertisement restricts them', () => {
    expect(report(EMPTY_REPORT_MEMORY, { ads: [ad('x', { interfaces: ['eth1', 'eth0'] })] }).events[0]?.message).toBe('announcing 198.51.100.7 from node node-a on eth0, eth1');
  });

  it('warns with the election\'s reason when nobody announces, once per distinct reason, and only as the reporter', () => {
    const first = report(EMPTY_REPORT_MEMORY, { ads: [] });
    expect(first.events).toEqual([{ service: 'shop/web', type: 'Warning', reason: 'NoAdvertisement', message: 'no L2Advertisement selects pool default (holding 198.51.100.7 of shop/web)' }]);
    expect(report(first.memory, { ads: [] }).events).toEqual([]);
    const other = report(first.memory, { ads: [ad('x', { nodeSelectors: [{ matchLabels: { rack: 'z' } }] })] });
    expect(other.events.map((e) => e.reason)).toEqual(['NoNodeMatchesSelectors']);
    expect(report(EMPTY_REPORT_MEMORY, { ads: [], isReporter: () => false }).events).toEqual([]);
  });

  it('warns again after the Service was announced in between', () => {
    const warned = report(EMPTY_REPORT_MEMORY, { live: [] });
    expect(warned.events.map((e) => e.reason)).toEqual(['NoLiveSpeaker']);
    const back = report(warned.memory);
    expect(report(back.memory, { live: [] }).events.map((e) => e.reason)).toEqual(['NoLiveSpeaker']);
  });

  it('says nothing about a Service without an IP yet (the controller reports that)', () => {
    const election = elect(input({ services: [service('shop/pending', [])], nodes }));
    expect(planReports(EMPTY_REPORT_MEMORY, { self: 'node-a', election, isReporter: () => true, interfaceProblem: () => undefined }).events).toEqual([]);
  });

  it('warns AnnounceFailed when the announcing node lacks interfaces, on each new problem', () => {
    let problem: string | undefined = 'node node-a cannot announce on eth1 (not present); the IPs are not answered anywhere';
    const first = report(EMPTY_REPORT_MEMORY, { interfaceProblem: () => problem });
    expect(first.events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Normal NodeAssigned', 'Warning AnnounceFailed']);
    expect(first.events[1]?.message).toBe(problem);
    expect(report(first.memory, { interfaceProblem: () => problem }).events).toEqual([]);
    problem = undefined;
    const fixed = report(first.memory, { interfaceProblem: () => problem });
    expect(fixed.events).toEqual([]);
    problem = 'node node-a cannot announce on eth1 (no carrier); the IPs are not answered anywhere';
    expect(report(fixed.memory, { interfaceProblem: () => problem }).events.map((e) => e.reason)).toEqual(['AnnounceFailed']);
  });

  it('forgets Services that are gone', () => {
    const warned = report(EMPTY_REPORT_MEMORY, { live: [] });
    const gone = planReports(warned.memory, { self: 'node-a', election: elect(input({ services: [], nodes })), isReporter: () => true, interfaceProblem: () => undefined });
    expect(gone.memory.notAnnounced.size).toBe(0);
  });
});
