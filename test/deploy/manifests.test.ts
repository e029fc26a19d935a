// The install manifests against the runtime contract (contract.md), the
// rendered file against a fresh render, and the Helm chart against kustomize.
// Rendering only: the lab test (install.lab.test.ts) applies them to a real API server.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { IPAddressPool, L2Advertisement } from '../../shared/api/index.ts';
import { parseL2Advertisement, parsePool } from '../../shared/config/index.ts';
import { compileSelector } from '../../shared/labels/index.ts';
import { parseIP } from '../../shared/net/index.ts';
import { REPO_ROOT } from '../lab/index.ts';
import { CHART_DIR, DEPLOY_DIR, INSTALL_NAMESPACE, capture, check, deployTools, normalise, objectKey, parseObjects, renderChart, renderKustomize } from './tools.ts';

// Loosely typed views of the objects: the tests read them like a reviewer would.
type Obj = { kind: string; metadata: any; [field: string]: any };

let base: Obj[];
const find = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in ${objs.map(objectKey).join(', ')}`);
  return o;
};
const flagValue = (args: string[], flag: string): string | undefined => args.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);

beforeAll(async () => {
  base = parseObjects(await renderKustomize()) as Obj[];
});

describe('deploy/ (kustomize)', () => {
  it('deploy/ballast.yaml is exactly what deploy/render.sh renders now', async () => {
    const fresh = await check([join(DEPLOY_DIR, 'render.sh'), '-'], { env: { ...process.env, KUBECTL: deployTools().kubectl } });
    expect(readFileSync(join(DEPLOY_DIR, 'ballast.yaml'), 'utf8')).toBe(fresh.stdout);
    expect(parseObjects(fresh.stdout).map(objectKey)).toEqual(base.map(objectKey));
  });

  it('holds the namespace, CRDs, RBAC, both programs, metrics Services and the webhook, with the contract names', () => {
    expect(base.map(objectKey).sort()).toEqual(
      [
        'Namespace/ballast-system',
        'CustomResourceDefinition/ipaddresspools.ballast.io',
        'CustomResourceDefinition/l2advertisements.ballast.io',
        'CustomResourceDefinition/servicel2statuses.ballast.io',
        'ServiceAccount/ballast-system/ballast-controller',
        'ServiceAccount/ballast-system/ballast-speaker',
        'ClusterRole/ballast-controller',
        'ClusterRole/ballast-speaker',
        'ClusterRoleBinding/ballast-controller',
        'ClusterRoleBinding/ballast-speaker',
        'Role/ballast-system/ballast-controller',
        'Role/ballast-system/ballast-speaker',
        'RoleBinding/ballast-system/ballast-controller',
        'RoleBinding/ballast-system/ballast-speaker',
        'Deployment/ballast-system/ballast-controller',
        'PodDisruptionBudget/ballast-system/ballast-controller',
        'DaemonSet/ballast-system/ballast-speaker',
        'Service/ballast-system/ballast-controller-metrics',
        'Service/ballast-system/ballast-speaker-metrics',
        'Service/ballast-system/ballast-webhook',
        'ValidatingWebhookConfiguration/ballast-webhook-configuration',
      ].sort(),
    );
    for (const o of base) {
      const clusterScoped = ['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration'].includes(o.kind!);
      expect(o.metadata?.namespace, objectKey(o)).toBe(clusterScoped ? undefined : INSTALL_NAMESPACE);
    }
    // The speaker needs host network, hostPath and NET_RAW: Pod Security "privileged" here only.
    expect(find(base, 'Namespace', INSTALL_NAMESPACE).metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });

  it('runs the controller as 2 hardened replicas with leader election, probes on 7472 and the webhook on 9443', () => {
    const d = find(base, 'Deployment', 'ballast-controller');
    const pod = d.spec.template.spec;
    const [c, ...more] = pod.containers;
    expect(more).toEqual([]);
    expect(d.spec.replicas).toBe(2);
    expect(pod.serviceAccountName).toBe('ballast-controller');
    expect(c.command).toEqual(['node', '--max-semi-space-size=2', 'controller/main.js']);
    expect(flagValue(c.args, 'leader-elect')).toBe('true');
    expect(flagValue(c.args, 'lease-name')).toBe('ballast-controller');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const port = (name: string): number => c.ports.find((p: { name: string }) => p.name === name).containerPort;
    expect(port('metrics')).toBe(7472);
    expect(port('webhook')).toBe(9443);
    expect(flagValue(c.args, 'metrics-bind-address')).toBe(':7472');
    expect(flagValue(c.args, 'webhook-bind-address')).toBe(':9443');
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources.limits.memory).toEqual(expect.any(String));
    // The certificate directory is a writable volume, since the root filesystem is not.
    const certDir = flagValue(c.args, 'webhook-cert-dir');
    const mount = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === certDir);
    expect(pod.volumes.find((v: { name: string }) => v.name === mount?.name)?.emptyDir).toBeDefined();
    const env = Object.fromEntries(c.env.map((e: { name: string; valueFrom: { fieldRef: { fieldPath: string } } }) => [e.name, e.valueFrom.fieldRef.fieldPath]));
    expect(env).toEqual({ POD_NAMESPACE: 'metadata.namespace', POD_NAME: 'metadata.name' });
    // Replicas spread over nodes; the PDB keeps one through drains.
    expect(pod.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: d.spec.selector.matchLabels } });
    const pdb = find(base, 'PodDisruptionBudget', 'ballast-controller');
    expect(pdb.spec).toEqual({ minAvailable: 1, selector: { matchLabels: d.spec.selector.matchLabels } });
  });

  it('runs the speaker on the host network with only NET_RAW added, its state on the host, probes on 7473', () => {
    const ds = find(base, 'DaemonSet', 'ballast-speaker');
    const pod = ds.spec.template.spec;
    const [c] = pod.containers;
    expect(pod).toMatchObject({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet', terminationGracePeriodSeconds: 2, serviceAccountName: 'ballast-speaker' });
    expect(c.command).toEqual(['node', 'speaker/main.js']);
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: ['NET_RAW'] },
    });
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(pod.tolerations).toContainEqual({ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' });
    expect(c.env.find((e: { name: string }) => e.name === 'NODE_NAME').valueFrom.fieldRef.fieldPath).toBe('spec.nodeName');
    expect(c.ports).toEqual([
      { name: 'metrics', containerPort: 7473, protocol: 'TCP' },
      { name: 'heartbeat', containerPort: 7947, protocol: 'UDP' },
    ]);
    expect(flagValue(c.args, 'metrics-bind-address')).toBe(':7473');
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    const stateDir = flagValue(c.args, 'state-dir');
    expect(stateDir).toBe('/var/lib/ballast');
    const mount = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === stateDir);
    expect(pod.volumes.find((v: { name: string }) => v.name === mount?.name)?.hostPath).toEqual({ path: '/var/lib/ballast', type: 'DirectoryOrCreate' });
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
  });

  it('points every Service at pods that exist, by a port name those pods declare', () => {
    const workloads = base.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
    for (const svc of base.filter((o) => o.kind === 'Service')) {
      const selector = compileSelector({ matchLabels: svc.spec.selector });
      expect(selector.ok, objectKey(svc)).toBe(true);
      const targets = workloads.filter((w) => selector.ok && selector.value.matches(w.spec.template.metadata.labels));
      expect(targets.map(objectKey), objectKey(svc)).toHaveLength(1);
      const portNames = targets[0]!.spec.template.spec.containers.flatMap((c: { ports: Array<{ name: string }> }) => c.ports.map((p) => p.name));
      for (const p of svc.spec.ports) expect(portNames, `${objectKey(svc)} port ${p.name}`).toContain(p.targetPort);
    }
    expect(find(base, 'Service', 'ballast-webhook').spec.ports).toEqual([{ name: 'webhook', port: 443, targetPort: 'webhook', protocol: 'TCP' }]);
  });

  it('keeps RBAC least-privilege: ClusterRoles hold only cluster-wide resources, no wildcards, Secrets only by name for the speaker', () => {
    const roles = base.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
    type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
    for (const role of roles) {
      for (const rule of role.rules as Rule[]) {
        expect([...rule.apiGroups, ...rule.resources, ...rule.verbs], objectKey(role)).not.toContain('*');
        if (role.kind === 'ClusterRole') {
          // What lives only in the install namespace belongs in a Role there.
          expect(rule.apiGroups, objectKey(role)).not.toContain('ballast.io');
          expect(rule.apiGroups, objectKey(role)).not.toContain('coordination.k8s.io');
          expect(rule.resources, objectKey(role)).not.toContain('secrets');
          expect(rule.resources, objectKey(role)).not.toContain('pods');
        }
        if (rule.resources.includes('secrets') && !(rule.verbs.length === 1 && rule.verbs[0] === 'create')) expect(rule.resourceNames, objectKey(role)).toBeDefined();
      }
    }
    const speakerSecrets = (find(base, 'Role', 'ballast-speaker').rules as Rule[]).filter((r) => r.resources.includes('secrets'));
    expect(speakerSecrets).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['ballast-heartbeat'], verbs: ['get', 'list', 'watch'] }]);
    // Each program's account is bound to its own roles only.
    for (const b of base.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: b.metadata.name, namespace: INSTALL_NAMESPACE }]);
      expect(b.roleRef.name).toBe(b.metadata.name);
      expect(b.roleRef.kind).toBe(b.kind === 'RoleBinding' ? 'Role' : 'ClusterRole');
    }
  });

  it('validates pools and advertisements in the install namespace only, through ballast-webhook, failing closed', () => {
    const vwc = find(base, 'ValidatingWebhookConfiguration', 'ballast-webhook-configuration');
    const byResource = new Map<string, Obj>(vwc.webhooks.map((w: Obj) => [w.rules[0].resources[0], w]));
    expect([...byResource.keys()].sort()).toEqual(['ipaddresspools', 'l2advertisements']);
    for (const [resource, w] of byResource) {
      expect(w).toMatchObject({
        failurePolicy: 'Fail',
        sideEffects: 'None',
        timeoutSeconds: 5,
        admissionReviewVersions: ['v1'],
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': INSTALL_NAMESPACE } },
        clientConfig: { service: { name: 'ballast-webhook', namespace: INSTALL_NAMESPACE, port: 443, path: `/validate-${resource.replace(/s$/, '')}` } },
      });
      expect(w.clientConfig.caBundle).toBeUndefined();
      expect(w.rules).toEqual([{ apiGroups: ['ballast.io'], apiVersions: ['v1beta1'], operations: ['CREATE', 'UPDATE'], resources: [resource], scope: 'Namespaced' }]);
    }
  });

  it('deploy/prometheus renders the same install plus one ServiceMonitor per metrics Service', async () => {
    const withMonitors = parseObjects(await renderKustomize(join(DEPLOY_DIR, 'prometheus'))) as Obj[];
    const monitors = withMonitors.filter((o) => o.kind === 'ServiceMonitor');
    expect(withMonitors.filter((o) => o.kind !== 'ServiceMonitor')).toEqual(base);
    expect(monitors.map(objectKey).sort()).toEqual(['ServiceMonitor/ballast-system/ballast-controller', 'ServiceMonitor/ballast-system/ballast-speaker']);
    for (const m of monitors) {
      const selector = compileSelector(m.spec.selector);
      const services = base.filter((s) => s.kind === 'Service' && selector.ok && selector.value.matches(s.metadata.labels));
      expect(services.map((s) => s.metadata.name)).toEqual([`${m.metadata.name}-metrics`]);
      expect(m.spec.endpoints[0].port).toBe(services[0]!.spec.ports[0].name);
    }
  });
});

describe('installing into another namespace (the overlay in docs/install.md)', () => {
  it('moves every object, binding subject and webhook reference, and leaves nothing in ballast-system', async () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'install.md'), 'utf8');
    const block = /```yaml\n(# kustomization\.yaml of an overlay[^]*?)```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'ballast-overlay-'));
    try {
      writeFileSync(join(dir, 'kustomization.yaml'), block!.replace('path/to/ballast/deploy', relative(dir, DEPLOY_DIR)));
      const rendered = await renderKustomize(dir);
      expect(rendered).not.toContain('ballast-system');
      const objs = parseObjects(rendered) as Obj[];
      expect(objs.map((o) => o.metadata.name).sort()).toEqual(base.map((o) => (o.kind === 'Namespace' ? 'lb-system' : o.metadata.name)).sort());
      for (const o of objs) if (o.metadata.namespace) expect(o.metadata.namespace, objectKey(o)).toBe('lb-system');
      for (const b of objs.filter((o) => o.kind.endsWith('RoleBinding'))) expect(b.subjects[0].namespace).toBe('lb-system');
      for (const w of find(objs, 'ValidatingWebhookConfiguration', 'ballast-webhook-configuration').webhooks) {
        expect(w.clientConfig.service.namespace).toBe('lb-system');
        expect(w.namespaceSelector.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'lb-system' });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/examples', () => {
  const documentation = ['198.51.100.0-198.51.100.255', '203.0.113.0-203.0.113.255', '2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'].map((r) => {
    const [a, b] = r.split('-').map((t) => parseIP(t));
    if (!a?.ok || !b?.ok) throw new Error(`bad range ${r}`);
    return { family: a.value.family, first: a.value.value, last: b.value.value };
  });

  it.each(['l2-pool.yaml', 'selective.yaml'])('%s parses with Ballast’s own parsers, uses documentation addresses only, and every advertisement finds a pool', (file) => {
    const objs = parseObjects(readFileSync(join(DEPLOY_DIR, 'examples', file), 'utf8')) as Obj[];
    const pools = objs.filter((o) => o.kind === 'IPAddressPool');
    const ads = objs.filter((o) => o.kind === 'L2Advertisement');
    expect(pools.length).toBeGreaterThan(0);
    expect(ads.length).toBeGreaterThan(0);
    for (const o of objs) expect(o.metadata?.namespace).toBe(INSTALL_NAMESPACE);
    for (const p of pools) {
      const parsed = parsePool(p as unknown as IPAddressPool);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
      for (const r of parsed.value.ranges) {
        expect(documentation.some((d) => d.family === r.family && d.first <= r.first && r.last <= d.last), r.text).toBe(true);
      }
    }
    for (const a of ads) {
      const parsed = parseL2Advertisement(a as unknown as L2Advertisement);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
      const covered = pools.filter((p) => parsed.value.poolNames.has(p.metadata!.name!) || parsed.value.poolSelectors.some((s) => s.matches(p.metadata!.labels ?? {})));
      expect(covered.length, a.metadata?.name).toBeGreaterThan(0);
    }
  });
});

describe('Helm chart deploy/helm/ballast', () => {
  // Deliberate differences, and only these: Helm's own labels (normalise drops
  // them); the Namespace, which a chart must not own (helm creates the release
  // namespace). The heartbeat Secret is in neither: the controller creates it.
  const KUSTOMIZE_ONLY = ['Namespace/ballast-system'];
  const HELM_ONLY: string[] = [];

  it('renders with default values the same objects as kubectl kustomize deploy/, apart from the documented differences', async () => {
    const chart = parseObjects(await renderChart()) as Obj[];
    const fromChart = normalise(chart);
    const fromKustomize = normalise(base);
    for (const k of KUSTOMIZE_ONLY) expect(fromChart.delete(k) || fromKustomize.delete(k)).toBe(true);
    for (const k of HELM_ONLY) expect(fromChart.has(k) && !fromKustomize.has(k)).toBe(true);
    for (const k of HELM_ONLY) fromChart.delete(k);
    expect([...fromChart.keys()].sort()).toEqual([...fromKustomize.keys()].sort());
    for (const [key, obj] of fromKustomize) expect(fromChart.get(key), key).toEqual(obj);
    // Helm's labels are there, and only on metadata (selectors stay those of kustomize).
    expect(find(chart, 'Deployment', 'ballast-controller').metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
  });

  it('renders the same every time: no random data (GitOps tools render on every sync), and no heartbeat Secret (the controller makes one key, once)', async () => {
    const [a, b] = await Promise.all([renderChart(), renderChart()]);
    expect(a).toBe(b);
    expect(parseObjects(a).map(objectKey)).not.toContain('Secret/ballast-system/ballast-heartbeat');
  });

  it('without the webhook drops its Service, configuration, port, volume and RBAC, and tells the controller', async () => {
    const objs = parseObjects(await renderChart(['--set', 'webhook.enabled=false'])) as Obj[];
    const kinds = objs.map(objectKey);
    expect(kinds).not.toContain('ValidatingWebhookConfiguration/ballast-webhook-configuration');
    expect(kinds).not.toContain('Service/ballast-system/ballast-webhook');
    const c = find(objs, 'Deployment', 'ballast-controller').spec.template.spec.containers[0];
    expect(flagValue(c.args, 'webhook-enabled')).toBe('false');
    expect(c.ports.map((p: { name: string }) => p.name)).toEqual(['metrics']);
    expect(c.volumeMounts).toBeUndefined();
    const rules = JSON.stringify([find(objs, 'ClusterRole', 'ballast-controller').rules, find(objs, 'Role', 'ballast-controller').rules]);
    expect(rules).not.toContain('validatingwebhookconfigurations');
    expect(rules).not.toContain('ballast-webhook-cert');
  });

  it('passes values through: image, log level, class, scheduling, resources, interfaces', async () => {
    const objs = parseObjects(
      await renderChart([
        '--set', 'image.repository=registry.example/ballast',
        '--set', 'image.tag=v9',
        '--set', 'image.pullPolicy=Always',
        '--set', 'logLevel=debug',
        '--set', 'loadBalancerClass=example.com/l2',
        '--set', 'controller.nodeSelector.tier=infra',
        '--set-json', 'speaker.tolerations=[{"operator":"Exists"}]',
        '--set', 'speaker.resources.limits.memory=99Mi',
        '--set-json', 'speaker.interfacesExclude=["^cali", "^tun[0-9]+$"]',
      ]),
    ) as Obj[];
    const controller = find(objs, 'Deployment', 'ballast-controller').spec.template.spec;
    const speaker = find(objs, 'DaemonSet', 'ballast-speaker').spec.template.spec;
    for (const c of [controller.containers[0], speaker.containers[0]]) {
      expect(c.image).toBe('registry.example/ballast:v9');
      expect(c.imagePullPolicy).toBe('Always');
      expect(flagValue(c.args, 'log-level')).toBe('debug');
      expect(flagValue(c.args, 'load-balancer-class')).toBe('example.com/l2');
    }
    expect(controller.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', tier: 'infra' });
    expect(speaker.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(speaker.containers[0].resources.limits.memory).toBe('99Mi');
    expect(speaker.containers[0].args.filter((a: string) => a.startsWith('--interfaces-exclude='))).toEqual(['--interfaces-exclude=^cali', '--interfaces-exclude=^tun[0-9]+$']);
    // The default tag is the chart's appVersion, the same image kustomize names.
    const chartYaml = readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8');
    const appVersion = /^appVersion: (.+)$/m.exec(chartYaml)?.[1];
    expect(find(base, 'Deployment', 'ballast-controller').spec.template.spec.containers[0].image).toBe(`ghcr.io/ballast-lb/ballast:${appVersion}`);
  });

  it('renders ServiceMonitors equal to the deploy/prometheus overlay, with extra labels', async () => {
    const objs = parseObjects(await renderChart(['--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.serviceMonitor.labels.release=prom'])) as Obj[];
    const overlay = parseObjects(await renderKustomize(join(DEPLOY_DIR, 'prometheus'))).filter((o) => o.kind === 'ServiceMonitor');
    const fromChart = normalise(objs.filter((o) => o.kind === 'ServiceMonitor'));
    for (const [key, m] of normalise(overlay)) {
      const got = fromChart.get(key) as Obj;
      expect(got.metadata.labels.release).toBe('prom');
      delete got.metadata.labels.release;
      expect(got, key).toEqual(m);
    }
    expect(fromChart.size).toBe(overlay.length);
  });

  it('renders pools and advertisements from values into the release namespace, valid for Ballast’s parsers', async () => {
    const examples = parseObjects(readFileSync(join(DEPLOY_DIR, 'examples', 'selective.yaml'), 'utf8')) as Obj[];
    const item = (o: Obj) => ({ name: o.metadata.name, ...(o.metadata.labels ? { labels: o.metadata.labels } : {}), spec: o.spec });
    const objs = parseObjects(
      await renderChart([
        '--set-json', `pools=${JSON.stringify(examples.filter((o) => o.kind === 'IPAddressPool').map(item))}`,
        '--set-json', `l2Advertisements=${JSON.stringify(examples.filter((o) => o.kind === 'L2Advertisement').map(item))}`,
      ]),
    ) as Obj[];
    const config = objs.filter((o) => o.kind === 'IPAddressPool' || o.kind === 'L2Advertisement');
    expect(config.map(objectKey).sort()).toEqual(examples.map(objectKey).sort());
    for (const o of config) {
      const want = examples.find((e) => objectKey(e) === objectKey(o))!;
      expect(o.spec).toEqual(want.spec);
      expect(o.metadata.labels).toMatchObject(want.metadata.labels ?? {});
      const parsed = o.kind === 'IPAddressPool' ? parsePool(o as unknown as IPAddressPool) : parseL2Advertisement(o as unknown as L2Advertisement);
      expect(parsed.ok, objectKey(o)).toBe(true);
    }
  });

  it.each([
    [['--set', 'logLevel=loud'], '/logLevel'],
    [['--set', 'contoller.replicas=3'], 'contoller'],
    [['--set-json', 'pools=[{"name":"a"}]'], 'spec'],
    [['--set-json', 'pools=[{"name":"Not_A_Name","spec":{}}]'], '/pools/0/name'],
    [['--set', 'webhook.timeoutSeconds=60'], '/webhook/timeoutSeconds'],
  ])('values.schema.json rejects %j', async (args, where) => {
    const r = await capture([deployTools().helm, 'template', 'ballast', CHART_DIR, '--namespace', INSTALL_NAMESPACE, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toContain(where);
  });

  it('packages with the CRDs as real files (crds/ links to deploy/crds) and without their kustomization', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ballast-helm-package-'));
    try {
      await check([deployTools().helm, 'package', CHART_DIR, '--destination', dir]);
      const listing = (await check(['tar', '-tzvf', join(dir, 'ballast-0.1.0.tgz')])).stdout;
      const crds = listing.split('\n').filter((l) => l.includes('ballast/crds/'));
      expect(crds.map((l) => l.split(/\s+/).pop()).sort()).toEqual(['ballast/crds/ipaddresspools.yaml', 'ballast/crds/l2advertisements.yaml', 'ballast/crds/servicel2statuses.yaml']);
      for (const l of crds) expect(l.startsWith('-'), l).toBe(true); // regular files, not links
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes helm lint', async () => {
    const r = await check([deployTools().helm, 'lint', '--strict', CHART_DIR]);
    expect(r.stdout).toContain('0 chart(s) failed');
  });
});

describe('shell scripts (the kind ones run in the kind stage: scripts/dev kind test)', () => {
  const kind = join(REPO_ROOT, 'test', 'kind');
  const scripts = [
    join(kind, 'run-e2e.sh'),
    join(kind, 'cluster.sh'),
    join(kind, 'offline', 'run.sh'),
    join(kind, 'offline', 'dockerd.sh'),
    join(kind, 'offline', 'images.sh'),
    join(kind, 'offline', 'runc-without-sys-resource'),
    join(kind, 'offline', 'node-image', 'ballast-cni'),
    join(DEPLOY_DIR, 'render.sh'),
  ];

  it.each(scripts)('%s is valid bash', async (script) => {
    const r = await capture(['bash', '-n', script]);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    // And bash -n does fail on a syntax error, so the check above means something.
    expect((await capture(['bash', '-n'], { input: 'if then fi' })).code).not.toBe(0);
  });

  // shellcheck is optional (Debian package shellcheck); where it is installed it must be clean too.
  it.each(scripts)('%s passes shellcheck where it is installed', async (script) => {
    const which = await capture(['sh', '-c', 'command -v shellcheck || true']);
    if (!which.stdout.trim()) return;
    const r = await capture(['shellcheck', '-x', script]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
