// Least privilege for real: the RBAC objects from deploy/ applied to the lab,
// the controller and every speaker running on their own ServiceAccount tokens,
// a Service served end to end, and what the manifests do not grant refused.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { applyObjects, kubeConfigFromHandle, readManifests, REPO_ROOT, serviceAccountKubeconfig, waitFor } from '../lab/index.ts';
import { NODE_API_PORT } from '../lab/addressing.ts';
import { E2ECluster } from './cluster.ts';

const NS = 'ballast-system';
const RBAC_KINDS = new Set(['Namespace', 'ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']);
const handle = inject('controlPlane');
const admin = kubeConfigFromHandle(handle);
const core = admin.makeApiClient(k8s.CoreV1Api);
// Exactly what deploy/ installs, minus the workloads (no kubelet here: our processes play the pods) and the
// webhook (the API server could not reach it at its Service name in the lab).
const rbac = readManifests([join(REPO_ROOT, 'deploy', 'ballast.yaml')]).filter((o) => RBAC_KINDS.has(o.kind ?? ''));
let cluster: E2ECluster;
let controllerConfig: string;
let speakerConfig: string;

beforeAll(async () => {
  // Another file may have just deleted the install namespace; it must be gone before we make it again.
  await waitFor(`namespace ${NS} to be free`, () => core.readNamespace({ name: NS }).then((n) => n.status?.phase !== 'Terminating' && 'exists', () => 'absent').then((s) => s !== undefined && s !== false), { timeoutMs: 60_000 });
  await applyObjects(admin, rbac);
  controllerConfig = await serviceAccountKubeconfig(handle, NS, 'ballast-controller');
  speakerConfig = await serviceAccountKubeconfig(handle, NS, 'ballast-speaker', { server: `https://127.0.0.1:${NODE_API_PORT}`, file: join(handle.dir, 'speaker-sa-node.kubeconfig') });
  cluster = await E2ECluster.create({ controlPlane: handle, nodes: 2, name: 'e2e-rbac', installNamespace: NS, controllerKubeconfig: controllerConfig, speakerKubeconfig: speakerConfig });
  await cluster.startController();
  await cluster.startSpeakers();
});

afterAll(async () => {
  await cluster?.destroy();
  const objects = k8s.KubernetesObjectApi.makeApiClient(admin);
  for (const o of [...rbac].reverse()) await objects.delete(o).catch(() => undefined);
});

describe('with exactly the RBAC from deploy/', () => {
  it('the controller and the speakers, each on its own ServiceAccount token, serve a Service end to end', async () => {
    await cluster.createService({ name: 'web', families: ['IPv4', 'IPv6'] });
    const [v4, v6] = await cluster.ingress('web', 2);
    const winner = cluster.hashWinner(v4!);
    expect(await cluster.waitAnsweredBy(v4!, winner)).toBe(winner);
    expect(await cluster.waitAnsweredBy(v6!, winner)).toBe(winner);
    // Written by the speaker (ServiceL2Status, Events) and the controller (status, Events, pool status, the heartbeat Secret).
    expect((await cluster.l2StatusOf('web')).status?.node).toBe(winner);
    const reasons = await waitFor('both components’ events', async () => {
      const r = (await cluster.eventsFor('web')).map((e) => e.reason);
      return r.includes('IPAllocated') && r.includes('NodeAssigned') ? r : undefined;
    });
    expect(reasons).toEqual(expect.arrayContaining(['IPAllocated', 'NodeAssigned']));
    await core.readNamespacedSecret({ namespace: NS, name: 'ballast-heartbeat' });
    // Nothing either of them tried was refused: their logs hold no 403.
    const logs = [readFileSync(cluster.controller!.logFile, 'utf8'), ...cluster.lan.nodes.map((n) => cluster.speakerLog(n))];
    for (const log of logs) expect(log).not.toMatch(/forbidden|"code":403/i);
  });

  it('refuses each of them what deploy/ does not grant', async () => {
    const as = (file: string): { core: k8s.CoreV1Api; objects: k8s.KubernetesObjectApi } => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(file);
      kc.clusters.forEach((c) => Object.assign(c, { server: handle.server })); // the speaker's file names the in-node address
      return { core: kc.makeApiClient(k8s.CoreV1Api), objects: k8s.KubernetesObjectApi.makeApiClient(kc) };
    };
    const code = (p: Promise<unknown>): Promise<number> => p.then(() => 200, (e: { code?: number }) => e.code ?? 0);
    const controller = as(controllerConfig);
    const speaker = as(speakerConfig);
    const pool = { apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'default', namespace: NS } };
    const svc = await core.readNamespacedService({ namespace: cluster.apps, name: 'web' });

    expect(await code(speaker.core.replaceNamespacedServiceStatus({ namespace: cluster.apps, name: 'web', body: svc }))).toBe(403);
    expect(await code(speaker.core.listNamespacedSecret({ namespace: NS }))).toBe(403);
    expect(await code(speaker.objects.delete(pool))).toBe(403);
    expect(await code(controller.core.deleteNamespacedService({ namespace: cluster.apps, name: 'web' }))).toBe(403);
    expect(await code(controller.core.listNamespacedSecret({ namespace: NS }))).toBe(403);
    // Nodes: list and watch (their addresses are never handed out), nothing more.
    expect(await code(controller.core.listNode())).toBe(200);
    expect(await code(controller.core.readNode({ name: cluster.lan.nodes[0]!.name }))).toBe(403);
    // The webhook configuration: only Ballast's own, by name (404: allowed, and not installed here).
    const admission = (file: string): k8s.AdmissionregistrationV1Api => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(file);
      kc.clusters.forEach((c) => Object.assign(c, { server: handle.server }));
      return kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    };
    const foreign = `not-ballast-${cluster.apps}`;
    await admin.makeApiClient(k8s.AdmissionregistrationV1Api).createValidatingWebhookConfiguration({ body: { metadata: { name: foreign } } });
    try {
      const asController = admission(controllerConfig);
      expect(await code(asController.readValidatingWebhookConfiguration({ name: 'ballast-webhook-configuration' }))).toBe(404);
      expect(await code(asController.readValidatingWebhookConfiguration({ name: foreign }))).toBe(403);
      expect(await code(asController.patchValidatingWebhookConfiguration({ name: foreign, body: { metadata: { labels: { x: 'y' } } } }, k8s.setHeaderOptions('Content-Type', 'application/merge-patch+json')))).toBe(403);
    } finally {
      await admin.makeApiClient(k8s.AdmissionregistrationV1Api).deleteValidatingWebhookConfiguration({ name: foreign });
    }
    // The Service is still there, still served.
    expect((await core.readNamespacedService({ namespace: cluster.apps, name: 'web' })).status?.loadBalancer?.ingress).toHaveLength(2);
  });
});
