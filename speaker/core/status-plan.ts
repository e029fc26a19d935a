// ServiceL2Status objects: one per announced Service, written by the node that
// announces it. Pure: the election's decisions and the objects that exist in,
// the writes that make them agree out.
//
// Who writes what, so that speakers never fight over an object:
// - every speaker keeps its own objects: exactly one for each Service it
//   announces (node is immutable, so a move is a new object), none for the rest;
// - objects of a dead speaker (not alive in this speaker's view), which cannot
//   clean up after itself, are deleted by the Service's announcer, or by the
//   reporter (one live speaker, reporter.ts) when nobody announces it.
// A live speaker's objects are never deleted by another: views of the cluster
// lag a little between speakers, and two speakers that disagree for a moment
// must not delete and re-create each other's objects.
import { SERVICE_L2_STATUS_LABEL, type ServiceL2Status } from '../../shared/api/index.ts';
import type { ServiceDecision } from '../election/index.ts';

/** An existing ServiceL2Status, reduced to what the plan compares. */
export interface L2StatusRecord {
  readonly name: string;
  readonly uid: string | undefined;
  /** From the node label, else status.node. */
  readonly node: string | undefined;
  /** "namespace/name" of the Service, from the labels, else the status. */
  readonly service: string | undefined;
  /** status.interfaces names, sorted; undefined when absent. */
  readonly interfaces: readonly string[] | undefined;
  /** status.node is written (creation and the status write are two calls). */
  readonly hasStatus: boolean;
}

export interface DesiredL2Status {
  readonly service: string;
  readonly serviceNamespace: string;
  readonly serviceName: string;
  readonly node: string;
  /** Only when the advertisements restrict interfaces (MetalLB leaves it empty otherwise). */
  readonly interfaces: readonly string[] | undefined;
}

export type L2StatusAction =
  | { readonly kind: 'create'; readonly desired: DesiredL2Status }
  | { readonly kind: 'write-status'; readonly name: string; readonly desired: DesiredL2Status }
  | { readonly kind: 'delete'; readonly name: string; readonly uid: string | undefined; readonly why: string };

export interface L2StatusPlanInput {
  readonly self: string;
  /** This speaker's Services (election.services). */
  readonly decisions: ReadonlyMap<string, ServiceDecision>;
  readonly existing: readonly L2StatusRecord[];
  /** Speakers alive in this speaker's view: their objects are theirs to keep or delete. */
  readonly alive: ReadonlySet<string>;
  /** Whether this speaker speaks for a Service nobody announces. */
  readonly isReporter: (service: string) => boolean;
}

export function planL2Statuses(input: L2StatusPlanInput): L2StatusAction[] {
  const { self, decisions, alive } = input;
  const orphaned = (r: L2StatusRecord): boolean => r.node === undefined || (r.node !== self && !alive.has(r.node));
  const byService = new Map<string, L2StatusRecord[]>();
  const unkeyed: L2StatusRecord[] = [];
  for (const record of input.existing) {
    if (record.service === undefined) {
      unkeyed.push(record);
      continue;
    }
    let list = byService.get(record.service);
    if (!list) byService.set(record.service, (list = []));
    list.push(record);
  }

  const actions: L2StatusAction[] = [];
  const remove = (record: L2StatusRecord, why: string): void => void actions.push({ kind: 'delete', name: record.name, uid: record.uid, why });

  for (const [service, decision] of decisions) {
    if (!decision.announced || decision.node !== self) continue;
    const records = byService.get(service) ?? [];
    const desired = desiredStatus(service, self, decision.interfaces);
    const mine = records.filter((r) => r.node === self).sort(preferWritten);
    const [keep, ...duplicates] = mine;
    if (keep === undefined) actions.push({ kind: 'create', desired });
    else if (!keep.hasStatus || !sameNames(keep.interfaces, desired.interfaces)) actions.push({ kind: 'write-status', name: keep.name, desired });
    for (const d of duplicates) remove(d, `a second object of node ${self} for ${service}`);
    for (const r of records) if (orphaned(r)) remove(r, `${service} is announced from ${self} now, not ${r.node ?? '(unknown node)'}, which is gone`);
  }

  for (const [service, records] of byService) {
    const decision = decisions.get(service);
    const announcer = decision?.announced ? decision.node : undefined;
    if (announcer === self) continue;
    const why =
      announcer !== undefined
        ? `${service} is announced from ${announcer} now`
        : decision === undefined
          ? `${service} is gone or not a LoadBalancer this speaker serves`
          : `nobody announces ${service}`;
    // A dead speaker's leftovers: the announcer removes them (above), or the reporter when nobody announces.
    const reporter = announcer === undefined && input.isReporter(service);
    for (const r of records) if (r.node === self || (reporter && orphaned(r))) remove(r, why);
  }
  for (const r of unkeyed) if (r.node === self) remove(r, 'it names no Service');
  return actions;
}

function desiredStatus(service: string, node: string, interfaces: 'all' | ReadonlySet<string>): DesiredL2Status {
  const slash = service.indexOf('/');
  return {
    service,
    serviceNamespace: service.slice(0, slash),
    serviceName: service.slice(slash + 1),
    node,
    interfaces: interfaces === 'all' ? undefined : [...interfaces].sort(),
  };
}

/** Keep the object that already has its status, then the first by name: a stable choice. */
function preferWritten(a: L2StatusRecord, b: L2StatusRecord): number {
  if (a.hasStatus !== b.hasStatus) return a.hasStatus ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function sameNames(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** An object as the API returns it → the record the plan compares. */
export function l2StatusRecord(obj: ServiceL2Status): L2StatusRecord | undefined {
  const name = obj.metadata?.name;
  if (!name) return undefined;
  const labels = obj.metadata.labels ?? {};
  const status = obj.status ?? {};
  const namespace = labels[SERVICE_L2_STATUS_LABEL.serviceNamespace] ?? status.serviceNamespace;
  const serviceName = labels[SERVICE_L2_STATUS_LABEL.serviceName] ?? status.serviceName;
  return {
    name,
    uid: obj.metadata.uid,
    node: labels[SERVICE_L2_STATUS_LABEL.node] ?? obj.metadata.annotations?.[SERVICE_L2_STATUS_LABEL.node] ?? status.node,
    service: namespace && serviceName ? `${namespace}/${serviceName}` : undefined,
    interfaces: status.interfaces === undefined ? undefined : status.interfaces.map((i) => i.name).sort(),
    hasStatus: status.node !== undefined,
  };
}

/**
 * The labels of a new object; a value that is not a valid label value (a node
 * name over 63 characters) is left out, and the node name is also an
 * annotation, so the writer recognises its object before the status is written.
 */
export function l2StatusLabels(desired: DesiredL2Status): Record<string, string> {
  const labels: Record<string, string> = {};
  const put = (key: string, value: string): void => {
    if (isLabelValue(value)) labels[key] = value;
  };
  put(SERVICE_L2_STATUS_LABEL.node, desired.node);
  put(SERVICE_L2_STATUS_LABEL.serviceNamespace, desired.serviceNamespace);
  put(SERVICE_L2_STATUS_LABEL.serviceName, desired.serviceName);
  return labels;
}

export const isLabelValue = (value: string): boolean => value.length <= 63 && /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value);
