// Writes ServiceL2Status objects as core/status-plan.ts decides, one pass at a
// time, and again whenever the decisions or the objects change. The informer
// lags behind our own writes, so what we created, patched or deleted is
// remembered until the informer shows it: otherwise the next pass would create
// a second object for the same Service.
import { API_VERSION, SERVICE_L2_STATUS_LABEL, type OwnerReference, type ServiceL2Status } from '../../shared/api/index.ts';
import { formatApiError, objectClient, RESOURCES, type Informer, type ObjectClient, type ApiAccess } from '../../shared/k8s/index.ts';
import type { Logger } from '../../shared/observability/index.ts';
import type { ServiceDecision } from '../election/index.ts';
import { l2StatusLabels, l2StatusRecord, planL2Statuses, type DesiredL2Status, type L2StatusAction, type L2StatusRecord } from '../core/index.ts';

export interface StatusWriterOptions {
  readonly access: ApiAccess;
  readonly namespace: string;
  readonly self: string;
  readonly informer: Informer<ServiceL2Status>;
  readonly log: Logger;
  /** The speaker's own Pod, when there is one (none in the lab): objects are garbage-collected with it. */
  readonly owner: () => OwnerReference | undefined;
  readonly onWrite?: (op: L2StatusAction['kind'], ok: boolean) => void;
}

interface Inputs {
  readonly decisions: ReadonlyMap<string, ServiceDecision>;
  readonly alive: ReadonlySet<string>;
  readonly isReporter: (service: string) => boolean;
}

const RETRY_MS = [500, 1_000, 2_000, 5_000];

export class StatusWriter {
  readonly #opts: StatusWriterOptions;
  readonly #api: ObjectClient<ServiceL2Status>;
  #inputs: Inputs | undefined;
  #running = false;
  #dirty = false;
  #stopped = false;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  /** Written by us, not yet (or not yet so) in the informer's cache. */
  readonly #written = new Map<string, L2StatusRecord>();
  readonly #deleted = new Set<string>();

  constructor(opts: StatusWriterOptions) {
    this.#opts = opts;
    this.#api = objectClient(opts.access, RESOURCES.serviceL2Status);
  }

  /** New decisions: make the objects agree. */
  update(decisions: ReadonlyMap<string, ServiceDecision>, alive: ReadonlySet<string>, isReporter: (service: string) => boolean): void {
    this.#inputs = { decisions, alive, isReporter };
    this.kick();
  }

  /**
   * Writes nothing until the next update: this speaker does not take part now
   * (listening, isolated, leaving), and its last decisions are stale.
   */
  pause(): void {
    this.#inputs = undefined;
  }

  /** The objects changed (informer event): check again. */
  kick(): void {
    if (this.#stopped || this.#inputs === undefined) return;
    this.#dirty = true;
    if (!this.#running && this.#retry === undefined) void this.#run();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
  }

  /** What exists, as far as we know: the cache, corrected by our own writes it has not shown yet. */
  existing(): L2StatusRecord[] {
    const cache = this.#opts.informer.cache;
    for (const name of this.#deleted) if (!cache.has(`${this.#opts.namespace}/${name}`)) this.#deleted.delete(name);
    const records = new Map<string, L2StatusRecord>();
    for (const obj of cache.values()) {
      const record = l2StatusRecord(obj);
      if (record === undefined || this.#deleted.has(record.name)) continue;
      const written = this.#written.get(record.name);
      if (written !== undefined && (written.hasStatus ? record.hasStatus && sameList(written.interfaces, record.interfaces) : true)) this.#written.delete(record.name);
      records.set(record.name, this.#written.get(record.name) ?? record);
    }
    for (const [name, record] of this.#written) if (!records.has(name) && !this.#deleted.has(name)) records.set(name, record);
    return [...records.values()];
  }

  async #run(): Promise<void> {
    this.#running = true;
    let failed = false;
    try {
      while (this.#dirty && !this.#stopped && !failed) {
        this.#dirty = false;
        const inputs = this.#inputs;
        if (inputs === undefined) break;
        const actions = planL2Statuses({ self: this.#opts.self, decisions: inputs.decisions, existing: this.existing(), alive: inputs.alive, isReporter: inputs.isReporter });
        for (const action of actions) {
          // Paused or replaced meanwhile: the rest of this plan is stale.
          if (this.#stopped || this.#inputs !== inputs) break;
          const done = await this.#apply(action);
          this.#opts.onWrite?.(action.kind, done);
          if (!done) failed = true;
        }
      }
    } finally {
      this.#running = false;
    }
    if (failed && !this.#stopped && this.#inputs !== undefined) {
      // The API server refused or is away: try the whole plan again later.
      const delay = RETRY_MS[Math.min(this.#failures++, RETRY_MS.length - 1)]!;
      this.#dirty = true;
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        void this.#run();
      }, delay);
    } else this.#failures = 0;
  }

  async #apply(action: L2StatusAction): Promise<boolean> {
    const { namespace, log } = this.#opts;
    switch (action.kind) {
      case 'create': {
        const owner = this.#opts.owner();
        const created = await this.#api.create({
          apiVersion: API_VERSION,
          kind: 'ServiceL2Status',
          metadata: {
            generateName: 'l2-',
            namespace,
            labels: l2StatusLabels(action.desired),
            annotations: { [SERVICE_L2_STATUS_LABEL.node]: action.desired.node },
            ...(owner ? { ownerReferences: [owner] } : {}),
          },
          spec: {},
        });
        if (!created.ok) {
          this.#failed({ service: action.desired.service, err: formatApiError(created.error) }, 'creating a ServiceL2Status failed; will retry');
          return false;
        }
        const name = created.value.metadata.name!;
        const record = l2StatusRecord(created.value)!;
        this.#written.set(name, record);
        log.info({ service: action.desired.service, name }, 'ServiceL2Status created');
        return this.#writeStatus(name, action.desired);
      }
      case 'write-status':
        return this.#writeStatus(action.name, action.desired);
      case 'delete': {
        const gone = await this.#api.delete({ namespace, name: action.name }, action.uid === undefined ? {} : { uid: action.uid });
        // 404: someone else removed it; 409: the uid precondition failed, it is another object now.
        if (!gone.ok && gone.error.code !== 404 && gone.error.code !== 409) {
          this.#failed({ name: action.name, err: formatApiError(gone.error) }, 'deleting a ServiceL2Status failed; will retry');
          return false;
        }
        this.#deleted.add(action.name);
        this.#written.delete(action.name);
        log.info({ name: action.name, why: action.why }, 'ServiceL2Status deleted');
        return true;
      }
    }
  }

  /** The first failure of a streak is a warning; the retries while the API server stays away are debug lines. */
  #failed(fields: Record<string, string>, message: string): void {
    if (this.#failures === 0) this.#opts.log.warn(fields, message);
    else this.#opts.log.debug(fields, message);
  }

  async #writeStatus(name: string, desired: DesiredL2Status): Promise<boolean> {
    const written = await this.#api.patchStatus(
      { namespace: this.#opts.namespace, name },
      {
        node: desired.node,
        serviceName: desired.serviceName,
        serviceNamespace: desired.serviceNamespace,
        // A merge patch removes a field set to null.
        interfaces: (desired.interfaces?.map((n) => ({ name: n })) ?? null) as never,
      },
    );
    if (!written.ok) {
      if (written.error.code === 404) return true; // deleted meanwhile; the next pass sees that
      this.#failed({ name, err: formatApiError(written.error) }, 'writing ServiceL2Status status failed; will retry');
      return false;
    }
    this.#written.set(name, l2StatusRecord(written.value)!);
    return true;
  }
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
