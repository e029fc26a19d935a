import { describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:https';
import { connect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { certificateProblem, createCertificates, webhookDnsNames } from './certificates.ts';

const NOW = new Date('2025-06-01T00:00:00Z');
const DAY = 86_400_000;
const names = webhookDnsNames('ballast-webhook', 'ballast-system');

describe('createCertificates', async () => {
  const bundle = await createCertificates({ dnsNames: names, ipAddresses: ['127.0.0.1'], now: NOW });

  it('makes a CA that signed a serving certificate for the Service names and IPs', () => {
    const ca = new X509Certificate(bundle.caCert);
    const cert = new X509Certificate(bundle.cert);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe(
      'DNS:ballast-webhook.ballast-system.svc, DNS:ballast-webhook.ballast-system.svc.cluster.local, DNS:ballast-webhook.ballast-system, DNS:ballast-webhook, IP Address:127.0.0.1',
    );
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth
    expect(Date.parse(cert.validTo) - NOW.getTime()).toBeCloseTo(365 * DAY, -5);
    expect(Date.parse(ca.validTo) - NOW.getTime()).toBeCloseTo(3650 * DAY, -5);
    expect(bundle.caBundle).toBe(bundle.caCert);
  });

  it('writes names only with PrintableString characters, which Go requires of that ASN.1 type', () => {
    // The API server refused a CA named "ballast-webhook-ca@…" with "invalid PrintableString".
    for (const pem of [bundle.caCert, bundle.cert]) {
      const cert = new X509Certificate(pem);
      for (const name of [cert.subject, cert.issuer]) expect(name).toMatch(/^CN=[A-Za-z0-9 '()+,\-./:=?]+$/);
    }
  });

  it('is accepted by a TLS client that trusts only the CA and checks the name', async () => {
    // TLS checks validity against the real clock.
    const bundle = await createCertificates({ dnsNames: names, now: new Date() });
    const server = createServer({ cert: bundle.cert, key: bundle.key }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const authorized = await new Promise<boolean>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, ca: bundle.caBundle, servername: names[0] }, () => {
          resolve(socket.authorized);
          socket.end();
        });
        socket.on('error', reject);
      });
      expect(authorized).toBe(true);
      const refused = await new Promise<string>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port, ca: bundle.caBundle, servername: 'other.example' }, () => resolve('connected'));
        socket.on('error', (e) => resolve(e.message));
      });
      expect(refused).toContain("Hostname/IP does not match certificate's altnames");
    } finally {
      server.close();
    }
  });

  it('keeps trusting the previous CA during a rotation, and drops it once expired', async () => {
    const next = await createCertificates({ dnsNames: names, now: new Date(NOW.getTime() + DAY), previousCA: bundle.caCert });
    expect(next.caBundle).toBe(`${next.caCert.trim()}\n${bundle.caCert.trim()}\n`);
    const late = await createCertificates({ dnsNames: names, now: new Date(NOW.getTime() + 4000 * DAY), previousCA: bundle.caCert });
    expect(late.caBundle).toBe(late.caCert);
  });

  describe('certificateProblem', () => {
    it('finds nothing wrong with a fresh bundle', () => {
      expect(certificateProblem(bundle, { dnsNames: names, ipAddresses: ['127.0.0.1'], now: NOW })).toBeUndefined();
    });

    it('asks for renewal 30 days before expiry', () => {
      expect(certificateProblem(bundle, { dnsNames: names, now: new Date(NOW.getTime() + 334 * DAY) })).toBeUndefined();
      expect(certificateProblem(bundle, { dnsNames: names, now: new Date(NOW.getTime() + 336 * DAY) })).toMatch(/^the certificate expires/);
    });

    it('notices a missing name, a foreign CA, a wrong key, garbage and absence', async () => {
      const other = await createCertificates({ dnsNames: ['x.example'], now: NOW });
      expect(certificateProblem(bundle, { dnsNames: [...names, 'ballast-webhook.other.svc'], now: NOW })).toBe('the certificate is not valid for ballast-webhook.other.svc');
      expect(certificateProblem(bundle, { dnsNames: names, ipAddresses: ['198.51.100.1'], now: NOW })).toBe('the certificate is not valid for 198.51.100.1');
      expect(certificateProblem({ ...bundle, caCert: other.caCert }, { dnsNames: names, now: NOW })).toBe('the certificate is not signed by the CA');
      expect(certificateProblem({ ...bundle, key: other.key }, { dnsNames: names, now: NOW })).toBe('the key does not belong to the certificate');
      expect(certificateProblem({ ...bundle, cert: 'garbage' }, { dnsNames: names, now: NOW })).toMatch(/^the certificate does not parse/);
      expect(certificateProblem(undefined, { dnsNames: names, now: NOW })).toBe('no certificate yet');
    });
  });
});
