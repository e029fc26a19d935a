// End to end, with a private control plane this file can stop: speakers keep
// answering while the API server is gone, and a speaker restarted during the
// outage rebuilds its view from its state directory and answers again.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane, REPO_ROOT, waitFor } from '../lab/index.ts';
import { E2ECluster } from './cluster.ts';

let cp: ControlPlane;
let cluster: E2ECluster;

beforeAll(async () => {
  cp = await ControlPlane.start({ manifests: [join(REPO_ROOT, 'deploy', 'crds')], controllerManager: false });
  try {
    cluster = await E2ECluster.create({ controlPlane: cp.handle(), nodes: 2, name: 'e2e-api' });
    await cluster.startController();
    await cluster.startSpeakers();
  } catch (e) {
    await cluster?.destroy();
    await cp.stop();
    throw e;
  }
});

afterAll(async () => {
  // The API server back first, so the teardown can delete what it created.
  await cp?.startApiServer().catch(() => undefined);
  await cluster?.destroy();
  await cp?.stop();
});

describe('without the API server', () => {
  it('keeps answering, and a speaker restarted during the outage answers again from its state directory', async () => {
    await cluster.createService({ name: 'steady', families: ['IPv4', 'IPv6'] });
    const [v4, v6] = (await cluster.ingress('steady', 2)) as [string, string];
    const owner = cluster.nodeNamed((await cluster.l2StatusOf('steady')).status!.node!);
    expect(await cluster.waitAnsweredBy(v4, owner.name)).toBe(owner.name);
    // Give the state file its (coalesced, 1 s) write.
    await waitFor('the state file', () => cluster.speakerLog(owner).includes('"ServiceL2Status created"'));
    await new Promise((r) => setTimeout(r, 1_500));

    await cluster.controller?.stop();
    await cp.stopApiServer();
    await cluster.lan.flushNeighbors();
    expect(await cluster.whoHas(v4)).toEqual([owner.mac]);
    expect(await cluster.whoHas(v6)).toEqual([owner.mac]);

    // Restart the owner's speaker: no API to list from, only its disk.
    cluster.speakers.get(owner.name)!.kill('SIGKILL');
    await cluster.speakers.get(owner.name)!.exited;
    await cluster.startSpeaker(owner, { ready: false });
    await waitFor('the restarted speaker to answer for both IPs again', async () => {
      const [a, b] = [await cluster.whoHas(v4, 150), await cluster.whoHas(v6, 150)];
      return a.length === 1 && a[0] === owner.mac && b.length === 1 && b[0] === owner.mac;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    await cluster.lan.flushNeighbors();
    expect(await cluster.waitAnsweredBy(v4, owner.name)).toBe(owner.name);
    expect(await cluster.waitAnsweredBy(v6, owner.name)).toBe(owner.name);
    const log = cluster.speakerLog(owner);
    expect(log).toContain('the API server has not answered: using the cluster state saved on disk');
    // It is not ready (its informers have never listed), and says so.
    const ready = await cluster.lan.http(cluster.speakerUrl(owner, '/readyz?verbose'));
    expect(ready.status).toBe(503);
    expect(ready.body).toContain('[-]informers');
    expect(ready.body).toContain('[+]heartbeat-key');
  });
});
