// What the core decides, as plain values for the shell to carry out.
import type { IPAddressPoolStatus } from '../../shared/api/index.ts';

export type EventType = 'Normal' | 'Warning';

export interface PlannedEvent {
  readonly type: EventType;
  /** CamelCase, stable: users filter on it (kubectl get events --field-selector reason=…). */
  readonly reason: string;
  readonly message: string;
}

export interface IngressEntry {
  readonly ip: string;
  /** VIP: traffic for the IP reaches the node with the IP as destination (kube-proxy handles it). */
  readonly ipMode: 'VIP';
}

export interface ServicePlan {
  readonly key: string;
  /** undefined: leave status alone; [] clears the ingress list. */
  readonly ingress: readonly IngressEntry[] | undefined;
  readonly events: readonly PlannedEvent[];
  /** Services whose allocation failed and may succeed now that this one freed addresses: sync them again. */
  readonly wake: readonly string[];
}

export interface PoolPlan {
  readonly namespace: string;
  readonly name: string;
  /** undefined: the status in the object is already right. */
  readonly status: IPAddressPoolStatus | undefined;
  readonly finalizer: 'add' | 'remove' | undefined;
  readonly events: readonly PlannedEvent[];
}
