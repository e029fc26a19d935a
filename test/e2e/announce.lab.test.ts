// End to end: a LoadBalancer Service gets an IP from the real controller, the
// real speakers elect one node per IP, and a client on the LAN reaches the
// Service through that node by ARP (IPv4) and NDP (IPv6).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../lab/index.ts';
import { E2ECluster } from './cluster.ts';

let cluster: E2ECluster;

beforeAll(async () => {
  cluster = await E2ECluster.create({ controlPlane: inject('controlPlane'), nodes: 3, name: 'e2e-ann' });
  await cluster.startController();
  await cluster.startSpeakers();
});

afterAll(async () => {
  await cluster?.destroy();
});

describe('announcing', () => {
  it('answers a dual-stack Service over ARP and NDP from the elected node, which ServiceL2Status names', async () => {
    await cluster.createService({ name: 'web', families: ['IPv4', 'IPv6'] });
    const [v4, v6] = await cluster.ingress('web', 2);
    // Both IPs of a Service move together, keyed on the lowest IP (IPv4 first): sha256(node#ip) lowest wins.
    const expected = cluster.hashWinner(v4!);
    expect(await cluster.waitAnsweredBy(v4!, expected!)).toBe(expected);
    expect(await cluster.waitAnsweredBy(v6!, expected!)).toBe(expected);
    // The client resolved both by neighbour discovery, to the elected node's MAC.
    expect((await cluster.lan.neighbor(v4!))?.mac).toBe(cluster.macOf(expected!));
    expect((await cluster.lan.neighbor(v6!))?.mac).toBe(cluster.macOf(expected!));

    const status = await cluster.l2StatusOf('web');
    expect(status.status).toEqual({ node: expected, serviceName: 'web', serviceNamespace: cluster.apps });
    expect(status.metadata.name).toMatch(/^l2-/);
    expect(status.metadata.labels).toMatchObject({ 'ballast.io/node': expected, 'ballast.io/service-name': 'web', 'ballast.io/service-namespace': cluster.apps });

    const assigned = await waitFor('a NodeAssigned event', async () => (await cluster.eventsFor('web')).find((e) => e.reason === 'NodeAssigned'));
    expect(assigned.message).toBe(`announcing ${v4}, ${v6} from node ${expected}`);
    expect(assigned.source?.host ?? assigned.reportingInstance).toBe(expected);
  });

  it('has exactly one MAC answer for each IP', async () => {
    const [v4, v6] = await cluster.ingress('web', 2);
    const owner = (await cluster.l2StatusOf('web')).status!.node!;
    for (const address of [v4!, v6!]) {
      expect(await cluster.whoHas(address)).toEqual([cluster.macOf(owner)]);
    }
    // Nobody answers for an address no Service holds.
    expect(await cluster.whoHas('203.0.113.250')).toEqual([]);
  });

  it('counts what it answered in its metrics', async () => {
    const [v4] = await cluster.ingress('web', 2);
    const owner = cluster.nodeNamed((await cluster.l2StatusOf('web')).status!.node!);
    await cluster.whoHas(v4!);
    expect(await cluster.speakerMetric(owner, 'ballast_speaker_replies_sent_total', { protocol: 'arp', ip: v4! })).toBeGreaterThanOrEqual(1);
    expect(await cluster.speakerMetric(owner, 'ballast_speaker_announced_ips')).toBe(2);
    expect(await cluster.speakerMetric(owner, 'ballast_speaker_speakers_alive')).toBe(3);
    const other = cluster.lan.nodes.find((n) => n.name !== owner.name)!;
    expect(await cluster.speakerMetric(other, 'ballast_speaker_announced_ips')).toBe(0);
    expect(await cluster.speakerMetric(other, 'ballast_speaker_heartbeats_received_total')).toBeGreaterThan(10);
  });
});
