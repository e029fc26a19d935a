// End to end: what decides who may announce — externalTrafficPolicy Local
// (the IP follows the ready endpoint), an advertisement's nodeSelectors (a node
// outside them never answers), and shared IPs (one node for every Service on
// the IP) — and the Warning that says why nobody announces, from one speaker.
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sleep, waitFor, type LabNode } from '../lab/index.ts';
import { E2ECluster } from './cluster.ts';

let cluster: E2ECluster;

/** Asserts that nobody answers for ip, several times over `forMs`. */
async function expectSilence(ip: string, forMs: number): Promise<void> {
  const until = Date.now() + forMs;
  while (Date.now() < until) expect(await cluster.whoHas(ip, 150)).toEqual([]);
}

/** Warnings with this reason on the Service, and which speakers wrote them. */
async function warnings(service: string, reason: string): Promise<{ count: number; sources: string[] }> {
  const events = (await cluster.eventsFor(service)).filter((e) => e.type === 'Warning' && e.reason === reason);
  return { count: events.length, sources: [...new Set(events.map((e) => e.source?.host ?? e.reportingInstance ?? '?'))] };
}

/** A Pod on `node` whose status says Ready, as a kubelet would write it: kube-controller-manager turns it into an endpoint. */
async function readyPod(name: string, node: LabNode, app: string, podIP: string): Promise<void> {
  const pod: V1Pod = {
    metadata: { name, labels: { app } },
    spec: { nodeName: node.name, containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
  };
  await cluster.core.createNamespacedPod({ namespace: cluster.apps, body: pod });
  const now = new Date();
  await cluster.core.replaceNamespacedPodStatus({
    namespace: cluster.apps,
    name,
    body: {
      ...pod,
      status: {
        phase: 'Running',
        podIP,
        podIPs: [{ ip: podIP }],
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
        ],
      },
    },
  });
}

beforeAll(async () => {
  cluster = await E2ECluster.create({ controlPlane: inject('controlPlane'), nodes: 3, name: 'e2e-pol', catchAllAdvertisement: false });
  await cluster.applyAdvertisement('everywhere', { serviceSelectors: [{ matchLabels: { ad: 'everywhere' } }] });
  await cluster.startController();
  await cluster.startSpeakers();
});

afterAll(async () => {
  await cluster?.destroy();
});

describe('externalTrafficPolicy Local', () => {
  it('announces from the node with the ready endpoint, and follows it when it moves', async () => {
    await cluster.createService({ name: 'local', labels: { ad: 'everywhere' }, externalTrafficPolicy: 'Local', selector: { app: 'local' } });
    const [vip] = (await cluster.ingress('local', 1)) as [string];
    // No endpoint yet: nobody may answer, and one speaker says why.
    await expectSilence(vip, 500);
    await waitFor('a NoReadyEndpoint warning', async () => (await warnings('local', 'NoReadyEndpoint')).count > 0);
    expect((await warnings('local', 'NoReadyEndpoint')).sources).toHaveLength(1);

    // An endpoint on a node the hash alone would not pick, so the endpoint is what decides.
    const winner = cluster.hashWinner(vip);
    const [first, second] = cluster.lan.nodes.filter((n) => n.name !== winner) as [LabNode, LabNode];
    await readyPod('local-1', first, 'local', '198.51.100.201');
    expect(await cluster.waitAnsweredBy(vip, first.name)).toBe(first.name);
    expect(await cluster.whoHas(vip)).toEqual([first.mac]);
    expect((await cluster.l2StatusOf('local')).status?.node).toBe(first.name);

    await cluster.core.deleteNamespacedPod({ namespace: cluster.apps, name: 'local-1', gracePeriodSeconds: 0 });
    await readyPod('local-2', second, 'local', '198.51.100.202');
    expect(await cluster.waitAnsweredBy(vip, second.name)).toBe(second.name);
    expect(await cluster.whoHas(vip)).toEqual([second.mac]);
    await cluster.l2StatusOf('local', (s) => s.status?.node === second.name);
  });
});

describe('shared IPs', () => {
  it('announces two Services on one IP from one node', async () => {
    const shared = { 'ballast.io/allow-shared-ip': 'pair', 'ballast.io/loadBalancerIPs': '203.0.113.150' };
    await cluster.createService({ name: 'pair-a', labels: { ad: 'everywhere' }, annotations: shared, ports: [80] });
    await cluster.createService({ name: 'pair-b', labels: { ad: 'everywhere' }, annotations: shared, ports: [81] });
    expect(await cluster.ingress('pair-a', 1)).toEqual(['203.0.113.150']);
    expect(await cluster.ingress('pair-b', 1)).toEqual(['203.0.113.150']);
    const a = await cluster.l2StatusOf('pair-a');
    const b = await cluster.l2StatusOf('pair-b');
    expect(b.status?.node).toBe(a.status?.node);
    expect(await cluster.whoHas('203.0.113.150')).toEqual([cluster.macOf(a.status!.node!)]);
    expect(await cluster.answeringNode('203.0.113.150', 81)).toBe(a.status?.node);
  });
});

describe('interfaces', () => {
  it('says AnnounceFailed from the elected node when it lacks the advertisement\'s interfaces, and answers nowhere else', async () => {
    await cluster.applyAdvertisement('eth9-only', { interfaces: ['eth9'], serviceSelectors: [{ matchLabels: { ad: 'eth9' } }] });
    await cluster.createService({ name: 'eth9', labels: { ad: 'eth9' } });
    const [vip] = (await cluster.ingress('eth9', 1)) as [string];
    const elected = cluster.hashWinner(vip);
    // Election ignores interfaces (speakers cannot know each other's links): the elected node reports it has none.
    const warning = await waitFor('an AnnounceFailed warning', async () => (await cluster.eventsFor('eth9')).find((e) => e.reason === 'AnnounceFailed'));
    expect(warning.message).toBe(`node ${elected} cannot announce on eth9 (not present); the IPs are not answered anywhere`);
    expect(warning.source?.host ?? warning.reportingInstance).toBe(elected);
    expect((await cluster.l2StatusOf('eth9')).status).toEqual({ node: elected, serviceName: 'eth9', serviceNamespace: cluster.apps, interfaces: [{ name: 'eth9' }] });
    expect(await cluster.whoHas(vip)).toEqual([]);
  });
});

describe('nodeSelectors', () => {
  it('never answers from a node outside them: with the selected node\'s speaker gone, nobody answers', async () => {
    // Select one node the hash would not pick among all three.
    const vipOf = async (): Promise<string> => (await cluster.ingress('pinned', 1))[0]!;
    await cluster.createService({ name: 'pinned', labels: { ad: 'one-node' } });
    const vip = await vipOf();
    const chosen = cluster.lan.nodes.find((n) => n.name !== cluster.hashWinner(vip))!;
    await cluster.applyAdvertisement('one-node', { nodeSelectors: [cluster.hostnameSelector(chosen)], serviceSelectors: [{ matchLabels: { ad: 'one-node' } }] });
    expect(await cluster.waitAnsweredBy(vip, chosen.name)).toBe(chosen.name);
    expect(await cluster.whoHas(vip)).toEqual([chosen.mac]);

    cluster.speakers.get(chosen.name)!.kill('SIGKILL');
    // Well past failover time, and then for a while: the other two never take it.
    await sleep(1_000);
    await expectSilence(vip, 1_000);
    await waitFor('a NoLiveSpeaker warning', async () => (await warnings('pinned', 'NoLiveSpeaker')).count > 0);
    const said = await warnings('pinned', 'NoLiveSpeaker');
    expect(said.sources).toHaveLength(1);
    expect(said.sources[0]).not.toBe(chosen.name);
    // The dead speaker's ServiceL2Status is removed by the one that reports.
    await waitFor('the dead node\'s ServiceL2Status to go', async () => (await cluster.l2Statuses()).every((s) => s.status?.serviceName !== 'pinned'));

    await cluster.startSpeaker(chosen);
    expect(await cluster.waitAnsweredBy(vip, chosen.name)).toBe(chosen.name);
    await cluster.l2StatusOf('pinned', (s) => s.status?.node === chosen.name);
  });
});
