// A self-signed CA and the webhook's serving certificate, made in process.
// node:crypto makes keys and parses certificates but cannot sign X.509, and the
// runtime image has no openssl binary, so node-forge (pure JS, no dependencies,
// no global polyfills) builds and signs the certificates; node:crypto makes the
// RSA keys (native: forge's JS key generation takes seconds) and checks results.
import { generateKeyPair, randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { promisify } from 'node:util';
import type * as Forge from 'node-forge';

type ForgeModule = typeof Forge;
/** Loaded on first use: the CLI and a controller with provided certificates never pay for it. */
const loadForge = async (): Promise<ForgeModule> => ((await import('node-forge')) as { default: ForgeModule }).default;

export interface CertificateBundle {
  /** PEM: the CA that signed `cert`. */
  readonly caCert: string;
  readonly caKey: string;
  /** PEM: the serving certificate and its key (tls.crt, tls.key). */
  readonly cert: string;
  readonly key: string;
  /** What the API server should trust (the webhook's caBundle): caCert, plus the previous CA during a rotation. */
  readonly caBundle: string;
}

export interface CertificateSubject {
  /** e.g. ballast-webhook.ballast-system.svc; the first is also the common name. */
  readonly dnsNames: readonly string[];
  readonly ipAddresses?: readonly string[];
}

export interface CreateCertificatesOptions extends CertificateSubject {
  readonly now: Date;
  readonly caValidityDays?: number;
  readonly certValidityDays?: number;
  /** The CA being replaced: still trusted until it expires, so servers that have not reloaded yet keep working. */
  readonly previousCA?: string | undefined;
}

/** `ballast-webhook.<ns>.svc` and the shorter names a Service answers to. */
export function webhookDnsNames(service: string, namespace: string): string[] {
  return [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, `${service}.${namespace}`, service];
}

const DAY_MS = 86_400_000;
const generateRsa = promisify(generateKeyPair);

export async function createCertificates(opts: CreateCertificatesOptions): Promise<CertificateBundle> {
  const forge = await loadForge();
  const [ca, server] = await Promise.all([rsaKeyPair(forge), rsaKeyPair(forge)]);
  const commonName = opts.dnsNames[0] ?? opts.ipAddresses?.[0] ?? 'ballast-webhook';

  const caCert = forge.pki.createCertificate();
  caCert.publicKey = ca.publicKey;
  caCert.serialNumber = serialNumber();
  caCert.validity.notBefore = new Date(opts.now.getTime() - 60_000); // tolerate small clock skew
  caCert.validity.notAfter = new Date(opts.now.getTime() + (opts.caValidityDays ?? 3650) * DAY_MS);
  // forge encodes names as PrintableString, and Go (the API server) refuses characters outside it, such as "@".
  const caName = [{ name: 'commonName', value: `ballast-webhook-ca ${Math.floor(opts.now.getTime() / 1000)}` }];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.privateKey, forge.md.sha256.create());

  const cert = forge.pki.createCertificate();
  cert.publicKey = server.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = caCert.validity.notBefore;
  cert.validity.notAfter = new Date(opts.now.getTime() + (opts.certValidityDays ?? 365) * DAY_MS);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    // Go's TLS (the API server) checks only subjectAltName, never the common name.
    {
      name: 'subjectAltName',
      altNames: [...opts.dnsNames.map((value) => ({ type: 2, value })), ...(opts.ipAddresses ?? []).map((ip) => ({ type: 7, ip }))],
    },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.privateKey, forge.md.sha256.create());

  const caPem = forge.pki.certificateToPem(caCert);
  const previous = opts.previousCA && !certificateExpired(opts.previousCA, opts.now) ? opts.previousCA : undefined;
  return {
    caCert: caPem,
    caKey: ca.pem,
    cert: forge.pki.certificateToPem(cert),
    key: server.pem,
    caBundle: previous && previous.trim() !== caPem.trim() ? `${caPem.trim()}\n${previous.trim()}\n` : caPem,
  };
}

/**
 * Why this bundle must be replaced, or undefined if it can serve: it must be
 * whole, the certificate signed by the CA and matching its key, valid for
 * another `renewBeforeDays` (default 30) and valid for every name.
 */
export function certificateProblem(bundle: Partial<CertificateBundle> | undefined, subject: CertificateSubject & { now: Date; renewBeforeDays?: number }): string | undefined {
  if (!bundle?.cert || !bundle.key || !bundle.caCert) return 'no certificate yet';
  try {
    const cert = new X509Certificate(bundle.cert);
    const ca = new X509Certificate(bundle.caCert);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'the certificate is not signed by the CA';
    if (!cert.checkPrivateKey(createPrivateKey(bundle.key))) return 'the key does not belong to the certificate';
    const renewAt = Date.parse(cert.validTo) - (subject.renewBeforeDays ?? 30) * DAY_MS;
    if (subject.now.getTime() >= renewAt) return `the certificate expires ${cert.validTo}`;
    if (subject.now.getTime() < Date.parse(cert.validFrom)) return `the certificate is not valid before ${cert.validFrom}`;
    if (subject.now.getTime() >= Date.parse(ca.validTo) - (subject.renewBeforeDays ?? 30) * DAY_MS) return `the CA expires ${ca.validTo}`;
    const missing = [...subject.dnsNames.filter((n) => cert.checkHost(n, { wildcards: false }) !== n), ...(subject.ipAddresses ?? []).filter((ip) => cert.checkIP(ip) !== ip)];
    if (missing.length > 0) return `the certificate is not valid for ${missing.join(', ')}`;
    return undefined;
  } catch (e) {
    return `the certificate does not parse: ${(e as Error).message}`;
  }
}

function certificateExpired(pem: string, now: Date): boolean {
  try {
    return now.getTime() >= Date.parse(new X509Certificate(pem).validTo);
  } catch {
    return true;
  }
}

async function rsaKeyPair(forge: ForgeModule): Promise<{ pem: string; privateKey: Forge.pki.rsa.PrivateKey; publicKey: Forge.pki.rsa.PublicKey }> {
  const { privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem);
  return { pem, privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

/** 16 random bytes, positive (RFC 5280 §4.1.2.2: at most 20 octets, non-negative). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}
