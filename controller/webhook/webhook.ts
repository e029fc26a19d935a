// startWebhook: what the controller's main calls. Certificates first (made or
// taken from the shared Secret, caBundle patched), then the HTTPS server, then
// a periodic re-sync that renews the certificate before it expires and picks up
// one another replica renewed.
import { join } from 'node:path';
import { formatApiError, objectClient, RESOURCES, type ApiAccess, type ApiObject, type Resource } from '../../shared/k8s/index.ts';
import { webhookDnsNames } from './certificates.ts';
import { CERT_FILE, KEY_FILE, syncCertificates } from './certificate-sync.ts';
import { silentLogger, startWebhookServer, type WebhookLogger, type WebhookObjects } from './server.ts';

export interface WebhookOptions {
  readonly access: ApiAccess;
  /** The install namespace (--namespace): where the Service, Secret and validated objects live. */
  readonly namespace: string;
  /** --webhook-bind-address, default ":9443". */
  readonly bindAddress?: string;
  /** --webhook-cert-dir: tls.crt and tls.key (and ca.crt) are read from here. */
  readonly certDir: string;
  /**
   * "self-signed" (default): make a CA and serving certificate, share them through
   * `secretName`, and patch `configurationName`'s caBundle. "provided": someone
   * else (cert-manager, a mounted Secret) puts them in certDir; only reload them.
   */
  readonly certificates?: 'self-signed' | 'provided';
  /** Service in front of the webhook, for the certificate's names (default "ballast-webhook"). */
  readonly serviceName?: string;
  /** Extra IP SANs (tests reach the webhook by URL at an IP). */
  readonly ipAddresses?: readonly string[];
  /** Default "ballast-webhook-configuration" (deploy/webhook); undefined means the default, null means do not patch. */
  readonly configurationName?: string | null;
  /** Default "ballast-webhook-cert"; null keeps the certificate per process (one replica, or tests). */
  readonly secretName?: string | null;
  /** How often certificates are re-checked (default 1 h). */
  readonly resyncIntervalMs?: number;
  /** How soon to retry while the caBundle could not be set (default 5 s). */
  readonly untrustedRetryMs?: number;
  /** Where decisions read other objects (default: live LISTs through access). */
  readonly objects?: WebhookObjects;
  readonly log?: WebhookLogger;
  readonly now?: () => Date;
}

export interface Webhook {
  readonly port: number;
  close(): Promise<void>;
}

export async function startWebhook(opts: WebhookOptions): Promise<Webhook> {
  const log = opts.log ?? silentLogger;
  const selfSigned = (opts.certificates ?? 'self-signed') === 'self-signed';
  const sync = (): ReturnType<typeof syncCertificates> =>
    syncCertificates({
      access: opts.access,
      namespace: opts.namespace,
      certDir: opts.certDir,
      dnsNames: webhookDnsNames(opts.serviceName ?? 'ballast-webhook', opts.namespace),
      ipAddresses: opts.ipAddresses ?? [],
      secretName: opts.secretName === null ? undefined : (opts.secretName ?? 'ballast-webhook-cert'),
      configurationName: opts.configurationName === null ? undefined : (opts.configurationName ?? 'ballast-webhook-configuration'),
      now: opts.now ?? (() => new Date()),
      log,
    });
  let trusted = selfSigned ? (await sync()).trusted : true;

  const server = await startWebhookServer({
    bindAddress: opts.bindAddress ?? ':9443',
    certFile: join(opts.certDir, CERT_FILE),
    keyFile: join(opts.certDir, KEY_FILE),
    objects: opts.objects ?? liveObjects(opts.access),
    namespace: opts.namespace,
    log,
  });

  // Re-sync hourly (renewal, a certificate another replica renewed); every few seconds while
  // the caBundle could not be set, since until then the API server cannot call the webhook.
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const schedule = (): void => {
    if (closed || !selfSigned) return;
    const interval = opts.resyncIntervalMs ?? 3_600_000;
    timer = setTimeout(
      () =>
        void sync()
          .then((r) => void (trusted = r.trusted))
          .catch((e: unknown) => log.warn({ err: String(e) }, 'webhook certificate re-sync failed; retrying later'))
          .finally(schedule),
      trusted ? interval : Math.min(interval, opts.untrustedRetryMs ?? 5_000),
    );
    timer.unref();
  };
  schedule();
  return {
    port: server.port,
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await server.close();
    },
  };
}

/** LISTs at admission time, not an informer cache: a pool created a moment ago must already count. */
export function liveObjects(access: ApiAccess): WebhookObjects {
  // The server turns a rejection into a refusal (pools) or a warning (advertisements), with this message.
  const list = async <T extends ApiObject>(resource: Resource<T>, namespace: string): Promise<T[]> => {
    const r = await objectClient(access, resource).list({ namespace });
    if (!r.ok) throw new Error(formatApiError(r.error));
    return r.value.items;
  };
  return {
    pools: (ns) => list(RESOURCES.ipAddressPool, ns),
    l2Advertisements: (ns) => list(RESOURCES.l2Advertisement, ns),
  };
}
