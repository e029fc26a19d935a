// The TLS material of a connection, re-read as its files change: a kubeconfig
// may name the CA and the client certificate by file (cert-manager, kubeadm's
// certificate rotation and kubelet's client certificates replace them in
// place), and a pod's CA bundle (ca.crt of the service-account volume) is
// updated when the cluster's CA rotates. client-go re-reads both
// (transport/ca_rotation.go, cert_rotation.go: every 5 minutes); so do we, at
// most every maxAgeMs (default 60 s, like token files), and at once after a
// TLS failure or a 401, which is what a rotated CA or client certificate gets.
// Inline `*-data` never changes.
import { createSecureContext } from 'node:tls';
import { err, ok, type Result } from '../../result.ts';

/** PEM text given inline (a `*-data` field, base64-decoded) or a file to read. */
export type PemSource = { readonly file: string } | { readonly pem: string };

/** A connection's TLS settings, with the CA, client certificate and key as P. */
interface TlsFields<P> {
  readonly ca?: P | undefined;
  readonly cert?: P | undefined;
  readonly key?: P | undefined;
  readonly insecureSkipTlsVerify: boolean;
  readonly serverName?: string | undefined;
}

/** TLS material as a connection needs it (PEM text). */
export type TlsSettings = TlsFields<string>;

/** Where the material comes from. */
export type TlsSources = TlsFields<PemSource>;

/** The current TLS settings; refresh() re-reads their files when due. */
export interface TlsMaterial {
  current(): TlsSettings;
  /** Re-reads the files if maxAgeMs has passed (or now, with force); true if the material changed (new connections are due). */
  refresh(force?: boolean): boolean;
}

/** How files are read (tests pass their own clock and reader). */
export interface TlsFileOptions {
  readFile: (path: string) => string;
  now: () => number;
  /** Re-read after this long (default 60 s). */
  maxAgeMs?: number;
}

/** Material that never changes. */
export function fixedTls(settings: TlsSettings): TlsMaterial {
  return { current: () => settings, refresh: () => false };
}

/**
 * Reads the sources now and checks them (a wrong path or a key that does not fit its certificate is an error at
 * start, with a message); later reads that fail or do not fit keep the last good material.
 */
export function tlsFromSources(sources: TlsSources, opts: TlsFileOptions): Result<TlsMaterial, string> {
  const maxAgeMs = opts.maxAgeMs ?? 60_000;
  const read = (): Result<TlsSettings, string> => {
    const pems: Record<'ca' | 'cert' | 'key', string | undefined> = { ca: undefined, cert: undefined, key: undefined };
    for (const [field, what] of [['ca', 'certificate-authority'], ['cert', 'client-certificate'], ['key', 'client-key']] as const) {
      const s = sources[field];
      if (!s) continue;
      if ('pem' in s) {
        pems[field] = s.pem;
        continue;
      }
      let text: string;
      try {
        text = opts.readFile(s.file);
      } catch (e) {
        return err(`${what}: ${(e as Error).message}`);
      }
      if (!text.includes('-----BEGIN ')) return err(`${what} ${s.file}: not PEM`);
      pems[field] = text;
    }
    const settings: TlsSettings = { ...pems, insecureSkipTlsVerify: sources.insecureSkipTlsVerify, serverName: sources.serverName };
    try {
      createSecureContext({ ca: settings.ca, cert: settings.cert, key: settings.key });
    } catch (e) {
      return err(`unusable TLS material: ${(e as Error).message}`);
    }
    return ok(settings);
  };
  const first = read();
  if (!first.ok) return first;
  const fromFiles = [sources.ca, sources.cert, sources.key].some((s) => s !== undefined && 'file' in s);
  if (!fromFiles) return ok(fixedTls(first.value));
  let settings = first.value;
  let readAt = opts.now();
  return ok({
    current: () => settings,
    refresh(force = false) {
      if (!force && opts.now() - readAt < maxAgeMs) return false;
      readAt = opts.now();
      const next = read();
      // A half-written rotation (a new certificate next to the old key) is not usable yet: keep what works.
      if (!next.ok) return false;
      const changed = next.value.ca !== settings.ca || next.value.cert !== settings.cert || next.value.key !== settings.key;
      settings = next.value;
      return changed;
    },
  });
}
