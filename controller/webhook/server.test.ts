import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IPAddressPool } from '../../shared/api/index.ts';
import { createCertificates, type CertificateBundle } from './certificates.ts';
import { parseBindAddress, startWebhookServer, type WebhookObjects, type WebhookServer } from './server.ts';

const NS = 'ballast-system';
const pool = (name: string, addresses: string[]): IPAddressPool => ({
  apiVersion: 'ballast.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace: NS, creationTimestamp: '2025-01-01T00:00:00Z' },
  spec: { addresses },
});
const review = (object: unknown, kind = 'IPAddressPool'): string =>
  JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'uid-7', kind: { group: 'ballast.io', version: 'v1beta1', kind }, operation: 'CREATE', namespace: NS, object } });

describe('webhook HTTPS server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-webhook-'));
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  let first: CertificateBundle;
  let server: WebhookServer;
  let failLists = false;
  const objects: WebhookObjects = {
    pools: async () => {
      if (failLists) throw new Error('403 Forbidden');
      return [pool('db', ['203.0.113.128/25'])];
    },
    l2Advertisements: async () => [],
  };

  beforeAll(async () => {
    first = await createCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], now: new Date() });
    writeFileSync(certFile, first.cert);
    writeFileSync(keyFile, first.key);
    server = await startWebhookServer({ bindAddress: '127.0.0.1:0', certFile, keyFile, objects, reloadIntervalMs: 50 });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: string, opts: { method?: string; ca?: string } = {}): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.port, path, method: opts.method ?? 'POST', ca: opts.ca ?? first.caCert, headers: { 'content-type': 'application/json' } },
        (res) => {
          let data = '';
          res.on('data', (d: Buffer) => (data += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('answers a review with the decision for that uid', async () => {
    const refused = await post('/validate-ipaddresspool', review(pool('web', ['203.0.113.0/24'])));
    expect(refused.status).toBe(200);
    expect(JSON.parse(refused.body)).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: 'uid-7',
        allowed: false,
        status: { code: 422, reason: 'Invalid', message: 'spec.addresses[0] (203.0.113.0/24): 203.0.113.128/25 overlaps IPAddressPool "db"; pools must not share addresses' },
        warnings: ['no L2Advertisement in namespace ballast-system selects this pool: Services get its addresses, but no node announces them'],
      },
    });
    const allowed = await post('/validate-ipaddresspool', review(pool('web', ['203.0.113.0/25'])));
    expect(JSON.parse(allowed.body).response.allowed).toBe(true);
  });

  it.each([
    ['/validate-ipaddresspool', 'POST', '{not json', 400, 'body is not JSON'],
    ['/validate-ipaddresspool', 'POST', '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}', 400, 'malformed AdmissionReview: AdmissionReview has no request'],
    ['/validate-ipaddresspool', 'POST', '', 400, 'body is not JSON'],
    ['/validate-ipaddresspool', 'GET', '', 405, 'use POST'],
    ['/elsewhere', 'POST', '{}', 404, 'no webhook at /elsewhere'],
  ])('%s %s %j → %i', async (path, method, body, status, message) => {
    const res = await post(path, body, { method });
    expect(res.status).toBe(status);
    expect(res.body).toContain(message);
  });

  it('refuses a body over the limit with 413 and keeps serving', async () => {
    const res = await post('/validate-ipaddresspool', 'x'.repeat(9 * 1024 * 1024));
    expect(res.status).toBe(413);
    expect((await post('/validate-ipaddresspool', review(pool('ok', ['198.51.100.0/24'])))).status).toBe(200);
  });

  it('refuses, with the reason, when the other pools cannot be read', async () => {
    failLists = true;
    try {
      const res = JSON.parse((await post('/validate-ipaddresspool', review(pool('web', ['198.51.100.0/24'])))).body);
      expect(res.response.allowed).toBe(false);
      expect(res.response.status.message).toBe('cannot check this object against the other IPAddressPools: listing them failed: Error: 403 Forbidden');
    } finally {
      failLists = false;
    }
  });

  it('serves a new certificate once both files change, ignoring a half-written pair', async () => {
    const next = await createCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], now: new Date() });
    const loads = server.certificateLoads;
    writeFileSync(certFile, next.cert); // the key is still the old one: mismatched pair
    await new Promise((r) => setTimeout(r, 200));
    expect(server.certificateLoads).toBe(loads);
    expect(await peerCertificate(server.port, first.caCert)).toBe(new X509Certificate(first.cert).fingerprint256);

    writeFileSync(keyFile, next.key);
    await waitUntil(() => server.certificateLoads > loads);
    expect(await peerCertificate(server.port, next.caCert)).toBe(new X509Certificate(next.cert).fingerprint256);
    first = next;
  });
});

describe('parseBindAddress', () => {
  it.each([
    [':9443', { host: undefined, port: 9443 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:9443', { host: '::1', port: 9443 }],
  ])('%s', (text, want) => expect(parseBindAddress(text)).toEqual(want));

  it.each(['9443', 'host', ':99999', '::1:9443'])('rejects %s', (text) => expect(() => parseBindAddress(text)).toThrow(/is not host:port/));
});

function peerCertificate(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

async function waitUntil(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
