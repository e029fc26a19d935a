import { describe, expect, it } from 'vitest';
import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { IPAddressPool, L2Advertisement } from '../../shared/api/index.ts';
import { parseIP } from '../../shared/net/index.ts';
import { elect } from '../election/index.ts';
import { ClusterModel } from './cluster-model.ts';

const ip = (text: string) => {
  const r = parseIP(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

export const svc = (name: string, ips: string[], extra: { class?: string; etp?: 'Local' | 'Cluster'; labels?: Record<string, string>; type?: string; rv?: string } = {}): V1Service => ({
  metadata: { name, namespace: 'shop', uid: `uid-${name}`, labels: extra.labels, resourceVersion: extra.rv ?? '1' },
  spec: { type: extra.type ?? 'LoadBalancer', loadBalancerClass: extra.class, externalTrafficPolicy: extra.etp },
  status: { loadBalancer: { ingress: ips.map((i) => ({ ip: i })) } },
});

export const nodeObject = (name: string, labels: Record<string, string> = {}, networkUnavailable = false): V1Node => ({
  metadata: { name, labels, resourceVersion: '7' },
  status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'NetworkUnavailable', status: networkUnavailable ? 'True' : 'False' }] },
});

export const pool = (name: string, addresses: string[], labels: Record<string, string> = {}, createdAt = '2026-01-01T00:00:00Z'): IPAddressPool => ({
  metadata: { name, namespace: 'ballast-system', labels, creationTimestamp: createdAt },
  spec: { addresses },
});

export const advertisement = (name: string, spec: L2Advertisement['spec'] = {}): L2Advertisement => ({ metadata: { name, namespace: 'ballast-system' }, spec });

export const slice = (name: string, service: string, endpoints: Array<{ node: string; ready?: boolean; serving?: boolean }>): V1EndpointSlice => ({
  addressType: 'IPv4',
  metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'x' }, resourceVersion: '3' },
  endpoints: endpoints.map((e) => ({ addresses: ['198.51.100.200'], nodeName: e.node, conditions: { ready: e.ready, serving: e.serving } })),
});

export const speakerPod = (name: string, node: string, ready: boolean, deleting = false): V1Pod => ({
  metadata: { name, namespace: 'ballast-system', uid: `uid-${name}`, ...(deleting ? { deletionTimestamp: new Date('2026-01-01T00:00:00Z') } : {}) },
  spec: { containers: [{ name: 'speaker' }], nodeName: node },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

function populated(opts: { loadBalancerClass?: string } = {}): ClusterModel {
  const model = new ClusterModel(opts);
  for (const n of ['node-a', 'node-b', 'node-c']) model.set('nodes', nodeObject(n));
  model.set('pools', pool('default', ['198.51.100.0/26', '2001:db8::/120']));
  model.set('advertisements', advertisement('all'));
  return model;
}

describe('ClusterModel', () => {
  it('builds election inputs that elect like hand-made ones', () => {
    const model = populated();
    model.set('services', svc('web', ['198.51.100.7']));
    const input = model.electionInput(new Set(['node-a', 'node-b', 'node-c']));
    expect(input.services.map((s) => [s.namespace, s.name, s.ips.map((i) => i.text)])).toEqual([['shop', 'web', ['198.51.100.7']]]);
    expect(input.poolOf(ip('198.51.100.7'))).toEqual({ name: 'default', labels: {} });
    expect(input.poolOf(ip('198.51.100.200'))).toBeUndefined();
    // sha256 order for 198.51.100.7 is node-a, node-b, node-c (election/rendezvous.test.ts).
    const e = elect(input);
    expect(e.services.get('shop/web')).toMatchObject({ announced: true, node: 'node-a' });
  });

  it('keeps only LoadBalancer Services of its class as election inputs', () => {
    const model = populated({ loadBalancerClass: 'example.com/lb' });
    model.set('services', svc('mine', ['198.51.100.7'], { class: 'example.com/lb' }));
    model.set('services', svc('other', ['198.51.100.8'], { class: 'example.com/other' }));
    model.set('services', svc('none', ['198.51.100.9']));
    model.set('services', svc('cluster-ip', [], { type: 'ClusterIP', class: 'example.com/lb' }));
    expect(model.serviceKeys()).toEqual(['shop/mine']);
    expect(new ClusterModel().set('services', svc('none', ['198.51.100.9'])).changed).toBe(true);
  });

  it('reports no change for updates that touch nothing election reads', () => {
    const model = populated();
    expect(model.set('services', svc('web', ['198.51.100.7'], { rv: '1' })).changed).toBe(true);
    expect(model.set('services', svc('web', ['198.51.100.7'], { rv: '2' })).changed).toBe(false);
    expect(model.set('services', svc('web', ['198.51.100.8'], { rv: '3' })).changed).toBe(true);
    expect(model.set('nodes', { ...nodeObject('node-a'), metadata: { name: 'node-a', labels: {}, resourceVersion: '99' } }).changed).toBe(false);
    expect(model.set('nodes', nodeObject('node-a', {}, true)).changed).toBe(true);
    expect(model.delete('services', svc('web', [])).changed).toBe(true);
    expect(model.delete('services', svc('web', [])).changed).toBe(false);
  });

  it('returns parse errors with the object and field, and keeps the object out of election', () => {
    const model = populated();
    const bad = advertisement('bad', { interfaces: ['eth 0'] });
    const update = model.set('advertisements', bad);
    expect(update.errors).toMatchObject([{ kind: 'L2Advertisement', name: 'bad', field: 'spec.interfaces[0]' }]);
    expect(model.advertisements().map((a) => a.name)).toEqual(['all']);
  });

  it('unions ready endpoint nodes over a Service\'s slices (ready unset or true, or serving)', () => {
    const model = populated();
    model.set('endpointSlices', slice('web-1', 'web', [{ node: 'node-a', ready: false }, { node: 'node-b' }]));
    model.set('endpointSlices', slice('web-2', 'web', [{ node: 'node-c', ready: false, serving: true }]));
    const ready = model.electionInput(new Set()).readyEndpointNodes;
    expect([...(ready.get('shop/web') ?? [])].sort()).toEqual(['node-b', 'node-c']);
    model.delete('endpointSlices', slice('web-1', 'web', []));
    expect([...(model.electionInput(new Set()).readyEndpointNodes.get('shop/web') ?? [])]).toEqual(['node-c']);
  });

  it('asks usable pools first: an IP in an overlap belongs to the older pool', () => {
    const model = new ClusterModel();
    model.set('pools', pool('newer', ['198.51.100.0/28'], { tier: 'b' }, '2026-02-01T00:00:00Z'));
    model.set('pools', pool('older', ['198.51.100.0/24'], { tier: 'a' }, '2026-01-01T00:00:00Z'));
    const input = model.electionInput(new Set());
    expect(input.poolOf(ip('198.51.100.3'))).toEqual({ name: 'older', labels: { tier: 'a' } });
    model.delete('pools', pool('older', []));
    expect(model.electionInput(new Set()).poolOf(ip('198.51.100.3'))).toEqual({ name: 'newer', labels: { tier: 'b' } });
  });

  it('knows which speakers the API reports Ready (not those being deleted)', () => {
    const model = new ClusterModel();
    model.set('speakerPods', speakerPod('s-a', 'node-a', true));
    model.set('speakerPods', speakerPod('s-b', 'node-b', false));
    model.set('speakerPods', speakerPod('s-c', 'node-c', true, true));
    expect(model.readyInAPI()).toEqual(['node-a']);
  });

  it('replace() makes a kind hold exactly the listed objects', () => {
    const model = populated();
    model.set('services', svc('gone', ['198.51.100.7']));
    model.set('services', svc('kept', ['198.51.100.8']));
    expect(model.replace('services', [svc('kept', ['198.51.100.8'])]).changed).toBe(true);
    expect(model.serviceKeys()).toEqual(['shop/kept']);
    expect(model.replace('services', [svc('kept', ['198.51.100.8'], { rv: '5' })]).changed).toBe(false);
  });

  it('round-trips through a snapshot: a model loaded from it elects the same', () => {
    const model = populated();
    model.set('services', svc('web', ['198.51.100.7', '2001:db8::7'], { etp: 'Local', labels: { app: 'web' } }));
    model.set('services', svc('api', ['198.51.100.9']));
    model.set('endpointSlices', slice('web-1', 'web', [{ node: 'node-c' }]));
    model.set('speakerPods', speakerPod('s-a', 'node-a', true));
    const snapshot = JSON.parse(JSON.stringify(model.snapshot()));
    const copy = new ClusterModel();
    expect(copy.load(snapshot)).toEqual([]);
    const alive = new Set(['node-a', 'node-b', 'node-c']);
    const decisions = (m: ClusterModel) => [...elect(m.electionInput(alive)).services.values()].map((d) => (d.announced ? [d.service, d.node] : [d.service, d.reason.code]));
    expect(decisions(copy)).toEqual(decisions(model));
    // ETP Local: only node-c hosts an endpoint, so the loaded slices decide.
    expect(decisions(copy)).toContainEqual(['shop/web', 'node-c']);
    expect(copy.readyInAPI()).toEqual(['node-a']);
    // Nothing that changes on every write is kept.
    expect(JSON.stringify(snapshot)).not.toContain('resourceVersion');
    expect(JSON.stringify(snapshot)).not.toContain('managed-by');
  });
});
