// Keeps the webhook's certificate in place: shared by the controller replicas
// through one Secret (each replica minting its own CA would make them fight
// over caBundle, and the API server would trust only the last one), written to
// --webhook-cert-dir for the server, and trusted through the
// ValidatingWebhookConfiguration's caBundle. Run at start and then periodically;
// every step is idempotent, so replicas converge.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Secret, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { defineResource, formatApiError, objectClient, RESOURCES, type ApiAccess, type ApiError } from '../../shared/k8s/index.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import { certificateProblem, createCertificates, type CertificateBundle, type CertificateSubject } from './certificates.ts';
import type { WebhookLogger } from './server.ts';

export const CERT_FILE = 'tls.crt';
export const KEY_FILE = 'tls.key';
export const CA_FILE = 'ca.crt';

export interface CertificateSyncOptions extends CertificateSubject {
  readonly access: ApiAccess;
  readonly namespace: string;
  readonly certDir: string;
  /** Secret shared by the replicas (undefined: this process keeps its own, in certDir). */
  readonly secretName: string | undefined;
  /** ValidatingWebhookConfiguration whose caBundle is kept current (undefined: leave it alone). */
  readonly configurationName: string | undefined;
  readonly now: () => Date;
  readonly log: WebhookLogger;
}

export interface SyncResult {
  readonly bundle: CertificateBundle;
  /** The configuration's caBundle is current (false: it could not be patched yet; retry soon). */
  readonly trusted: boolean;
}

/**
 * Makes sure certDir holds a good certificate and the API server trusts its CA.
 * Failing to patch the configuration is not fatal (it may be created after the
 * controller, or RBAC may be missing): it is logged and reported as not trusted.
 */
export async function syncCertificates(o: CertificateSyncOptions): Promise<SyncResult> {
  const bundle = o.secretName ? await fromSecret(o, o.secretName) : await fromCertDir(o);
  await writeCertDir(o.certDir, bundle);
  if (!o.configurationName) return { bundle, trusted: true };
  const patched = await patchCABundle(o.access, o.configurationName, bundle.caBundle, o.log);
  if (patched.ok) return { bundle, trusted: true };
  const code = typeof patched.error === 'string' ? undefined : patched.error.code;
  o.log.warn(
    { configuration: o.configurationName, code, err: typeof patched.error === 'string' ? patched.error : formatApiError(patched.error) },
    code === 404 ? 'ValidatingWebhookConfiguration not found; its caBundle will be set once it exists' : 'cannot update the webhook caBundle; retrying',
  );
  return { bundle, trusted: false };
}

async function fromCertDir(o: CertificateSyncOptions): Promise<CertificateBundle> {
  const existing = await readCertDir(o.certDir);
  const problem = certificateProblem(existing, { ...o, now: o.now() });
  if (!problem && existing) return existing;
  o.log.info({ certDir: o.certDir, reason: problem }, 'creating webhook certificate');
  return createCertificates({ ...o, now: o.now(), previousCA: existing?.caCert });
}

async function fromSecret(o: CertificateSyncOptions, name: string): Promise<CertificateBundle> {
  const secrets = objectClient(o.access, RESOURCES.secret);
  for (let attempt = 0; attempt < 5; attempt++) {
    const read = await secrets.get({ name, namespace: o.namespace });
    if (!read.ok && read.error.code !== 404) throw new Error(`reading Secret ${o.namespace}/${name}: ${formatApiError(read.error)}`);
    const secret = read.ok ? read.value : undefined;
    const existing = secret ? bundleFromSecret(secret) : undefined;
    const problem = certificateProblem(existing, { ...o, now: o.now() });
    if (!problem && existing) return existing;

    o.log.info({ secret: `${o.namespace}/${name}`, reason: problem }, 'creating webhook certificate');
    const bundle = await createCertificates({ ...o, now: o.now(), previousCA: existing?.caCert });
    const body: V1Secret = {
      metadata: { name, namespace: o.namespace, ...(secret?.metadata?.resourceVersion ? { resourceVersion: secret.metadata.resourceVersion } : {}) },
      type: 'kubernetes.io/tls',
      data: {
        [CERT_FILE]: b64(bundle.cert),
        [KEY_FILE]: b64(bundle.key),
        [CA_FILE]: b64(bundle.caCert),
        'ca.key': b64(bundle.caKey),
        'ca-bundle.crt': b64(bundle.caBundle),
      },
    };
    const written = secret ? await secrets.replace(body) : await secrets.create(body);
    if (written.ok) return bundle;
    // 409: another replica wrote first: use its certificate (read again).
    if (written.error.code !== 409) throw new Error(`writing Secret ${o.namespace}/${name}: ${formatApiError(written.error)}`);
  }
  throw new Error(`Secret ${o.namespace}/${name} kept changing while the webhook certificate was written`);
}

function bundleFromSecret(secret: V1Secret): CertificateBundle | undefined {
  const get = (key: string): string | undefined => {
    const v = secret.data?.[key];
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
  };
  const [cert, key, caCert] = [get(CERT_FILE), get(KEY_FILE), get(CA_FILE)];
  if (!cert || !key || !caCert) return undefined;
  return { cert, key, caCert, caKey: get('ca.key') ?? '', caBundle: get('ca-bundle.crt') ?? caCert };
}

async function readCertDir(dir: string): Promise<CertificateBundle | undefined> {
  try {
    const [cert, key, caCert] = await Promise.all([CERT_FILE, KEY_FILE, CA_FILE].map((f) => readFile(join(dir, f), 'utf8')));
    return { cert: cert!, key: key!, caCert: caCert!, caKey: '', caBundle: caCert! };
  } catch {
    return undefined;
  }
}

/** Writes only what changed, each file by rename, key before certificate (the server ignores a mismatched pair until both are new). */
async function writeCertDir(dir: string, bundle: CertificateBundle): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files: Array<[string, string, number]> = [
    [CA_FILE, bundle.caBundle, 0o644],
    [KEY_FILE, bundle.key, 0o600],
    [CERT_FILE, bundle.cert, 0o644],
  ];
  for (const [file, content, mode] of files) {
    const path = join(dir, file);
    const old = await readFile(path, 'utf8').catch(() => undefined);
    if (old === content) continue;
    await writeFile(`${path}.tmp`, content, { mode });
    await rename(`${path}.tmp`, path);
  }
}

const webhookConfigurations = defineResource<V1ValidatingWebhookConfiguration>(
  'admissionregistration.k8s.io/v1',
  'ValidatingWebhookConfiguration',
  'validatingwebhookconfigurations',
  false,
);

/** Sets every webhook's clientConfig.caBundle in the configuration; optimistic concurrency, retried on conflict. */
async function patchCABundle(access: ApiAccess, name: string, caBundlePem: string, log: WebhookLogger): Promise<Result<void, ApiError | string>> {
  const configurations = objectClient(access, webhookConfigurations);
  const wanted = b64(caBundlePem);
  for (let attempt = 0; attempt < 5; attempt++) {
    const read = await configurations.get({ name });
    if (!read.ok) return read;
    const config = read.value;
    const hooks = config.webhooks ?? [];
    if (hooks.every((h) => h.clientConfig.caBundle === wanted)) return ok(undefined);
    for (const h of hooks) h.clientConfig.caBundle = wanted;
    // The read's resourceVersion makes this a conditional write: 409 if someone changed it meanwhile.
    const written = await configurations.replace(config);
    if (written.ok) {
      log.info({ configuration: name, webhooks: hooks.map((h) => h.name) }, 'webhook caBundle updated');
      return ok(undefined);
    }
    if (written.error.code !== 409) return written;
  }
  return err(`ValidatingWebhookConfiguration ${name} kept changing while its caBundle was updated`);
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
