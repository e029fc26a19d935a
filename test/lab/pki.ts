// Certificates for the lab's control plane, made with openssl: a CA, the API
// server's serving certificate (SAN 127.0.0.1: node namespaces reach it through
// a forwarder on their own loopback), client certificates (admin is in
// system:masters) and the service-account signing key.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.ts';

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  saKey: string;
  saPub: string;
  admin: ClientCert;
}

export interface ClientCert {
  cert: string;
  key: string;
}

/** A CA that signs certificates: its files, and the directory new ones go to. */
export type CertificateAuthority = Pick<Pki, 'dir' | 'caCert' | 'caKey'>;

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

async function signed(dir: string, name: string, subject: string, extensions: string, ca: { cert: string; key: string }): Promise<ClientCert> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  await run(['openssl', 'req', '-new', '-nodes', ...EC_KEY, '-keyout', key, '-out', csr, '-subj', subject]);
  await run(['openssl', 'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '30', '-extfile', ext]);
  return { cert, key };
}

export async function createPki(dir: string): Promise<Pki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  await run(['openssl', 'req', '-x509', '-new', '-nodes', ...EC_KEY, '-keyout', caKey, '-out', caCert, '-days', '30', '-subj', '/CN=ballast-lab-ca']);
  const ca = { cert: caCert, key: caKey };
  const server = await signed(
    dir,
    'apiserver',
    '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n',
    ca,
  );
  const admin = await signed(dir, 'admin', '/O=system:masters/CN=ballast-lab-admin', 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n', ca);
  const saKey = join(dir, 'sa.key');
  const saPub = join(dir, 'sa.pub');
  await run(['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', saKey]);
  await run(['openssl', 'pkey', '-in', saKey, '-pubout', '-out', saPub]);
  return { dir, caCert, caKey, serverCert: server.cert, serverKey: server.key, saKey, saPub, admin };
}

/** A serving certificate for something the API server calls back (e.g. an admission webhook), signed by the lab CA. */
export function createServingCert(pki: CertificateAuthority, name: string, sans: string[]): Promise<ClientCert> {
  return signed(pki.dir, name, `/CN=${name}`, `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n`, { cert: pki.caCert, key: pki.caKey });
}

/** A client certificate (CN = user, O = groups) signed by the CA. */
export function createClientCert(ca: CertificateAuthority, name: string, user: string, groups: readonly string[] = []): Promise<ClientCert> {
  const subject = `${groups.map((g) => `/O=${g}`).join('')}/CN=${user}`;
  return signed(ca.dir, name, subject, 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n', { cert: ca.caCert, key: ca.caKey });
}

/** A kubeconfig (JSON is valid YAML) for one server and one identity: a client certificate or a bearer token. */
export function writeKubeconfig(path: string, opts: { server: string; caCert: string; user: ClientCert | { token: string }; name?: string }): void {
  const name = opts.name ?? 'ballast-lab';
  const user =
    'token' in opts.user
      ? { token: opts.user.token }
      : {
          'client-certificate-data': readFileSync(opts.user.cert).toString('base64'),
          'client-key-data': readFileSync(opts.user.key).toString('base64'),
        };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: opts.server, 'certificate-authority-data': readFileSync(opts.caCert).toString('base64') } }],
    users: [{ name, user }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
  };
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 });
}
