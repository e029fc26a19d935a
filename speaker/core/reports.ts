// Events a person reads in `kubectl describe service`: which node took a
// Service over, why nobody announces it, and when the announcing node lacks
// the interfaces it should answer on. Pure: the election and what was already
// said in, the new events out. Only transitions are reported, so a stable
// cluster stays quiet however often it re-elects.
import type { Election } from '../election/index.ts';

export interface PlannedEvent {
  /** "namespace/name" of the Service the event is about. */
  readonly service: string;
  readonly type: 'Normal' | 'Warning';
  readonly reason: Capitalize<string>;
  readonly message: string;
}

/** What this speaker has said, per Service. */
export interface ReportMemory {
  /** Services this node announced at the last report. */
  readonly announcing: ReadonlySet<string>;
  /** Service → the "reason: message" last reported for it not being announced. */
  readonly notAnnounced: ReadonlyMap<string, string>;
  /** Service → the interface problem last reported for it. */
  readonly interfaceProblems: ReadonlyMap<string, string>;
}

export const EMPTY_REPORT_MEMORY: ReportMemory = { announcing: new Set(), notAnnounced: new Map(), interfaceProblems: new Map() };

export interface ReportInput {
  readonly self: string;
  readonly election: Election;
  /** Whether this speaker speaks for a Service nobody announces (one live speaker per Service). */
  readonly isReporter: (service: string) => boolean;
  /** For a Service this node announces: what keeps it from answering on the interfaces it should, if anything. */
  readonly interfaceProblem: (service: string) => string | undefined;
}

export function planReports(memory: ReportMemory, input: ReportInput): { events: PlannedEvent[]; memory: ReportMemory } {
  const { self, election } = input;
  const events: PlannedEvent[] = [];
  const announcing = new Set<string>();
  const notAnnounced = new Map(memory.notAnnounced);
  const interfaceProblems = new Map(memory.interfaceProblems);
  for (const [service, decision] of election.services) {
    if (decision.announced) {
      notAnnounced.delete(service);
      if (decision.node !== self) {
        interfaceProblems.delete(service);
        continue;
      }
      announcing.add(service);
      if (!memory.announcing.has(service)) {
        const where = decision.interfaces === 'all' ? '' : ` on ${[...decision.interfaces].sort().join(', ')}`;
        const also = decision.movesWith.length > 0 ? ` (shared with ${decision.movesWith.join(', ')})` : '';
        events.push({ service, type: 'Normal', reason: 'NodeAssigned', message: `announcing ${decision.ips.map((ip) => ip.text).join(', ')} from node ${self}${where}${also}` });
      }
      const problem = input.interfaceProblem(service);
      if (problem === undefined) interfaceProblems.delete(service);
      else if (interfaceProblems.get(service) !== problem) {
        interfaceProblems.set(service, problem);
        events.push({ service, type: 'Warning', reason: 'AnnounceFailed', message: problem });
      }
      continue;
    }
    interfaceProblems.delete(service);
    // No IP yet is the controller's to report (AllocationFailed); the speaker has nothing to add.
    if (decision.reason.code === 'NoIP' || !input.isReporter(service)) continue;
    const said = `${decision.reason.code}: ${decision.reason.message}`;
    if (notAnnounced.get(service) === said) continue;
    notAnnounced.set(service, said);
    events.push({ service, type: 'Warning', reason: decision.reason.code, message: decision.reason.message });
  }
  for (const service of notAnnounced.keys()) if (!election.services.has(service)) notAnnounced.delete(service);
  return { events, memory: { announcing, notAnnounced, interfaceProblems } };
}
