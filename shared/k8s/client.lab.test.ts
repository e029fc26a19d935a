// Typed object clients against a real API server: the ballast.io custom
// resources with their status subresources, preconditions, paging, and errors
// that carry the API server's own words.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { accessFromHandle, uniqueName } from '../../test/lab/index.ts';
import { defineResource, formatApiError, objectClient, RESOURCES } from './index.ts';

const access = accessFromHandle(inject('controlPlane'));
const ns = uniqueName('clients');

async function must<T>(p: Promise<{ ok: true; value: T } | { ok: false; error: { message: string } }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

beforeAll(async () => {
  await must(objectClient(access, RESOURCES.namespace).create({ metadata: { name: ns } }));
});
afterAll(async () => {
  await objectClient(access, RESOURCES.namespace).delete({ name: ns });
});

describe('objectClient', () => {
  it('IPAddressPool: patchStatus writes only status, and a stale resourceVersion is a 409 Conflict value', async () => {
    const pools = objectClient(access, RESOURCES.ipAddressPool);
    const created = await must(pools.create({ metadata: { namespace: ns, name: 'p' }, spec: { addresses: ['203.0.113.0/28'] } }));
    const ref = { namespace: ns, name: 'p' };
    const patched = await must(
      pools.patchStatus(
        ref,
        {
          assignedIPv4: 2,
          availableIPv4: 14,
          conditions: [{ type: 'Ready', status: 'True', reason: 'Valid', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }],
        },
        { resourceVersion: created.metadata.resourceVersion! },
      ),
    );
    expect(patched.status).toMatchObject({ assignedIPv4: 2, availableIPv4: 14, conditions: [{ type: 'Ready', status: 'True' }] });
    // The status subresource ignores spec changes, and a spec write ignores status.
    expect((await must(pools.get(ref))).spec.addresses).toEqual(['203.0.113.0/28']);

    const stale = await pools.patchStatus(ref, { assignedIPv4: 3 }, { resourceVersion: created.metadata.resourceVersion! });
    expect(stale.ok).toBe(false);
    expect(!stale.ok && stale.error).toMatchObject({ code: 409, reason: 'Conflict', message: expect.stringContaining('the object has been modified') });
    expect((await must(pools.get(ref))).status?.assignedIPv4).toBe(2);
  });

  it('L2Advertisement: list by label; a missing object is a 404 value in the API server’s words', async () => {
    const ads = objectClient(access, RESOURCES.l2Advertisement);
    await must(ads.create({ metadata: { namespace: ns, name: 'front', labels: { tier: 'front' } }, spec: { interfaces: ['eth0'] } }));
    await must(ads.create({ metadata: { namespace: ns, name: 'back', labels: { tier: 'back' } }, spec: {} }));
    const front = await must(ads.list({ namespace: ns, labelSelector: 'tier=front' }));
    expect(front.items.map((a) => [a.kind, a.metadata.name, a.spec.interfaces])).toEqual([['L2Advertisement', 'front', ['eth0']]]);
    expect(front.resourceVersion).toMatch(/^\d+$/);
    const missing = await ads.get({ namespace: ns, name: 'nope' });
    expect(!missing.ok && formatApiError(missing.error)).toBe('404 NotFound: l2advertisements.ballast.io "nope" not found');
  });

  it('ServiceL2Status: created with generateName, status set once, deleted with a uid precondition', async () => {
    const statuses = objectClient(access, RESOURCES.serviceL2Status);
    const created = await must(statuses.create({ metadata: { namespace: ns, generateName: 'l2-', labels: { 'ballast.io/node': 'node1' } } }));
    const ref = { namespace: ns, name: created.metadata.name! };
    expect(ref.name).toMatch(/^l2-/);
    await must(statuses.patchStatus(ref, { node: 'node1', serviceName: 'web', serviceNamespace: ns, interfaces: [{ name: 'eth0' }] }));
    // The CRD's CEL rule keeps node immutable once set.
    const moved = await statuses.patchStatus(ref, { node: 'node2' });
    expect(!moved.ok && moved.error).toMatchObject({ code: 422, reason: 'Invalid' });
    expect((await must(statuses.list({ namespace: ns, labelSelector: 'ballast.io/node=node1' }))).items.map((s) => s.status?.node)).toEqual(['node1']);

    const wrongUid = await statuses.delete(ref, { uid: '00000000-0000-0000-0000-000000000000' });
    expect(!wrongUid.ok && wrongUid.error.code).toBe(409);
    expect((await statuses.delete(ref, { uid: created.metadata.uid! })).ok).toBe(true);
    const again = await statuses.delete(ref);
    expect(!again.ok && again.error.code).toBe(404);
  });

  it('Service: the controller’s status write (loadBalancer.ingress with ipMode)', async () => {
    const services = objectClient(access, RESOURCES.service);
    await must(services.create({ metadata: { namespace: ns, name: 'web' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } }));
    const written = await must(services.patchStatus({ namespace: ns, name: 'web' }, { loadBalancer: { ingress: [{ ip: '203.0.113.5', ipMode: 'VIP' }] } }));
    expect(written.status?.loadBalancer?.ingress).toEqual([{ ip: '203.0.113.5', ipMode: 'VIP' }]);
    expect(written.kind).toBe('Service');
  });

  it('lists more than one page (500) as one consistent list', async () => {
    const maps = objectClient(access, defineResource<V1ConfigMap>('v1', 'ConfigMap', 'configmaps', true));
    const names = Array.from({ length: 1_050 }, (_, i) => `cm-${i}`);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(names.slice(i, i + 25).map((name) => must(maps.create({ metadata: { namespace: ns, name, labels: { paging: 'yes' } } }))));
    }
    const listed = await must(maps.list({ namespace: ns, labelSelector: 'paging=yes' }));
    expect(listed.items).toHaveLength(1_050);
    expect(new Set(listed.items.map((m) => m.metadata?.name)).size).toBe(1_050);
    expect(listed.items.every((m) => m.kind === 'ConfigMap' && m.apiVersion === 'v1')).toBe(true);
  });
});
