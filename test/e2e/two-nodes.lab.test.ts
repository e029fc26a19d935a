// A two-node cluster: one node cannot be a majority of two, so when its peer
// goes quiet the survivor takes the tie-break Lease (an API write made only
// while the tie lasts) and acts on its own view. Observed from the client.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { E2ECluster } from './cluster.ts';
import { describeFault, runFault, waitSettled } from './fault-run.ts';
import { ownerOf } from './fault-scenarios.ts';
import { LanFaults } from '../lab/index.ts';

let cluster: E2ECluster;
const vips: string[] = [];

beforeAll(async () => {
  cluster = await E2ECluster.create({ controlPlane: inject('controlPlane'), nodes: 2, name: 'e2e-two' });
  await cluster.startController();
  await cluster.startSpeakers();
  for (let i = 0; i < 4; i++) await cluster.createService({ name: `s${i}` });
  for (let i = 0; i < 4; i++) vips.push(...(await cluster.ingress(`s${i}`)));
  await waitSettled(cluster, vips);
});

afterAll(async () => {
  await cluster?.destroy();
});

describe('two nodes', () => {
  it('the survivor takes the tie-break Lease and answers every VIP when its peer dies; never two answer', async () => {
    const owner = await ownerOf(cluster, vips[0]!);
    const figures = await runFault(cluster, vips, {
      inject: async () => void cluster.speakers.get(owner.name)!.kill('SIGKILL'),
      heal: async () => {
        await cluster.startSpeaker(owner);
      },
    });
    console.log(describeFault('two nodes, a speaker killed', figures));
    expect(figures.duplicateMs).toBeLessThanOrEqual(1_000);
    // The documented bound (docs/ARCHITECTURE.md): the window, the Lease write and a probe-free takeover.
    expect(figures.longestGapMs).toBeLessThanOrEqual(2_000);
    expect(figures.unsettled).toEqual([]);
    const lease = await cluster.kc.makeApiClient((await import('@kubernetes/client-node')).CoordinationV1Api).readNamespacedLease({ namespace: cluster.namespace, name: 'ballast-speaker-tie-break' });
    expect(lease.spec?.holderIdentity).toBeDefined();
  });

  it('heartbeats lost between the two (ARP still passing): nobody answers another’s VIPs, nothing stays dark', async () => {
    const faults = new LanFaults(cluster.lan);
    await waitSettled(cluster, vips, 30_000);
    const figures = await runFault(cluster, vips, { inject: () => faults.isolateNodesExceptNeighbourDiscovery(), heal: () => faults.clear() });
    console.log(describeFault('two nodes, heartbeats lost', figures));
    expect(figures.duplicateMs).toBeLessThanOrEqual(1_000);
    expect(figures.longestGapMs).toBeLessThanOrEqual(1_000);
    expect(figures.unsettled).toEqual([]);
  });
});
