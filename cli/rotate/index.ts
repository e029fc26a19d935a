// `ballast rotate-heartbeat-key`: the three steps of shared/config/heartbeat-keys.ts
// on the live Secret, waiting between them so that every speaker (each
// watches the Secret) has the step before it takes the next. An interrupted
// rotation is picked up where it stopped. Every write carries the
// resourceVersion it read: two people rotating at once get a conflict, not a
// lost key.
import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { HEARTBEAT_SECRET } from '../../shared/api/index.ts';
import { applyRotationStep, nextRotationStep, type RotationStep } from '../../shared/config/index.ts';
import { formatApiError, objectClient, RESOURCES, type ApiAccess } from '../../shared/k8s/index.ts';

export interface RotateOptions {
  readonly namespace: string;
  readonly name?: string;
  /** Between steps: long enough for every speaker to see a change of the Secret (they watch it: seconds). */
  readonly waitMs: number;
  readonly say: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

const WHAT: Record<RotationStep, string> = {
  stage: 'added the new key as next-key: every speaker accepts it, none signs with it yet',
  promote: 'made the new key the signing key, the old one previous-key: speakers switch, and all accept both',
  retire: 'removed previous-key: every speaker signs with the new key',
};

export async function rotateHeartbeatKey(access: ApiAccess, opts: RotateOptions): Promise<void> {
  const secrets = objectClient(access, RESOURCES.secret);
  const name = opts.name ?? HEARTBEAT_SECRET;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const read = async (): Promise<V1Secret> => {
    const got = await secrets.get({ namespace: opts.namespace, name });
    if (!got.ok) throw new Error(`reading Secret ${opts.namespace}/${name}: ${formatApiError(got.error)}`);
    return got.value;
  };
  let secret = await read();
  let step: RotationStep | 'done' = nextRotationStep(secret.data ?? {});
  if (step === 'done') step = 'stage';
  else opts.say(`a rotation is under way: continuing with ${step}`);
  for (;;) {
    const data = applyRotationStep(secret.data ?? {}, step, randomBytes(32).toString('base64'));
    if (!data.ok) throw new Error(data.error);
    const written = await secrets.replace({ ...secret, data: data.value });
    if (!written.ok) throw new Error(`writing Secret ${opts.namespace}/${name} (${step}): ${formatApiError(written.error)}`);
    opts.say(`${step}: ${WHAT[step]}`);
    const next = nextRotationStep(data.value);
    if (next === 'done') return;
    opts.say(`waiting ${Math.round(opts.waitMs / 1000)} s for every speaker to see it`);
    await sleep(opts.waitMs);
    secret = await read();
    step = next;
  }
}
