// The speakers authenticate their LAN heartbeats with a key from a Secret. The
// leader creates it when it is missing (random, never in git) and never changes
// an existing one: rotating it is an operator's decision (speakers accept a
// list of keys while both are rolled out).
import { randomBytes } from 'node:crypto';
import { HEARTBEAT_SECRET, HEARTBEAT_SECRET_KEY } from '../../shared/api/index.ts';
import { formatApiError, objectClient, RESOURCES, type ApiAccess } from '../../shared/k8s/index.ts';
import type { Logger } from '../../shared/observability/index.ts';

export { HEARTBEAT_SECRET, HEARTBEAT_SECRET_KEY };

/** Creates the Secret unless it exists; signal ends it with the leader's term. */
export async function ensureHeartbeatSecret(access: ApiAccess, namespace: string, log: Logger, signal?: AbortSignal): Promise<void> {
  const secrets = objectClient(access, RESOURCES.secret);
  const existing = await secrets.get({ namespace, name: HEARTBEAT_SECRET }, { signal });
  if (existing.ok || signal?.aborted) return;
  if (existing.error.code !== 404) {
    log.warn({ err: formatApiError(existing.error) }, 'could not read the heartbeat Secret');
    return;
  }
  const created = await secrets.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: HEARTBEAT_SECRET, namespace, labels: { 'app.kubernetes.io/name': 'ballast', 'app.kubernetes.io/component': 'speaker' } },
    type: 'Opaque',
    data: { [HEARTBEAT_SECRET_KEY]: randomBytes(32).toString('base64') },
  }, { signal });
  if (created.ok) log.info({ secret: `${namespace}/${HEARTBEAT_SECRET}` }, 'created the speakers\' heartbeat key');
  else if (created.error.code !== 409) log.warn({ err: formatApiError(created.error) }, 'could not create the heartbeat Secret');
}
