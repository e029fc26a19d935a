// Running the real controller process against the lab's API server, and the
// small API helpers the controller tests share.
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as k8s from '@kubernetes/client-node';
import type { V1Service } from '@kubernetes/client-node';
import { REPO_ROOT, startProcess, waitFor, type ControlPlaneHandle, type ManagedProcess } from '../lab/index.ts';
import { freePort } from '../lab/ports.ts';
import type { IPAddressPool } from '../../shared/api/index.ts';

export interface ControllerProcess {
  readonly proc: ManagedProcess;
  readonly metricsUrl: string;
  readonly instance: string;
  stop(): Promise<void>;
}

export interface ControllerRun {
  namespace: string;
  loadBalancerClass?: string;
  instance?: string;
  leaderElect?: boolean;
  kubeconfig?: string;
  extraArgs?: string[];
  /** Where its log goes (default: a temporary directory of this test process). */
  logDir?: string;
  /** Another build of the controller to run (e.g. the image's controller/main.js); default the .ts sources. */
  program?: string;
  env?: NodeJS.ProcessEnv;
}

const logDir = mkdtempSync(join(tmpdir(), 'ballast-controller-test-'));

export async function startController(handle: ControlPlaneHandle, run: ControllerRun): Promise<ControllerProcess> {
  const port = await freePort();
  const instance = run.instance ?? `controller-${port}`;
  const proc = startProcess(
    instance,
    [
      process.execPath,
      run.program ?? join(REPO_ROOT, 'controller', 'main.ts'),
      `--kubeconfig=${run.kubeconfig ?? handle.kubeconfig}`,
      `--namespace=${run.namespace}`,
      `--instance=${instance}`,
      `--metrics-bind-address=127.0.0.1:${port}`,
      `--leader-elect=${run.leaderElect ?? false}`,
      '--webhook-enabled=false',
      '--log-level=debug',
      ...(run.loadBalancerClass ? [`--load-balancer-class=${run.loadBalancerClass}`] : []),
      ...(run.extraArgs ?? []),
    ],
    { logFile: join(run.logDir ?? logDir, `${instance}.log`), ...(run.env ? { env: run.env } : {}) },
  );
  const metricsUrl = `http://127.0.0.1:${port}`;
  await waitFor(`controller ${instance} to be ready (log ${proc.logFile})`, async () => {
    if (!proc.running) throw new Error(`exited with ${await proc.exited}`);
    const res = await fetch(`${metricsUrl}/readyz`).catch(() => undefined);
    return res?.status === 200;
  }, { timeoutMs: 30_000, intervalMs: 100 });
  return { proc, metricsUrl, instance, stop: () => proc.stop() };
}

export interface Api {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  objects: k8s.KubernetesObjectApi;
}

export function api(kc: k8s.KubeConfig): Api {
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api), objects: k8s.KubernetesObjectApi.makeApiClient(kc) };
}

export function poolObject(namespace: string, name: string, addresses: string[], spec: Partial<IPAddressPool['spec']> = {}, labels?: Record<string, string>): k8s.KubernetesObject {
  return { apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace, labels }, spec: { addresses, ...spec } } as k8s.KubernetesObject;
}

export interface ServiceSpec {
  name: string;
  namespace: string;
  ports?: Array<number | { port: number; protocol?: string }>;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  loadBalancerClass?: string;
  families?: Array<'IPv4' | 'IPv6'>;
  policy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  loadBalancerIP?: string;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  selector?: Record<string, string>;
  type?: string;
}

export function serviceObject(s: ServiceSpec): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace, annotations: s.annotations, labels: s.labels },
    spec: {
      type: s.type ?? 'LoadBalancer',
      ports: (s.ports ?? [80]).map((p, i) => (typeof p === 'number' ? { name: `p${i}`, port: p, protocol: 'TCP' } : { name: `p${i}`, protocol: 'TCP', ...p })),
      ipFamilies: s.families,
      ipFamilyPolicy: s.policy ?? (s.families && s.families.length > 1 ? 'RequireDualStack' : 'SingleStack'),
      loadBalancerClass: s.loadBalancerClass,
      loadBalancerIP: s.loadBalancerIP,
      externalTrafficPolicy: s.externalTrafficPolicy,
      selector: s.selector ?? { app: s.name },
      allocateLoadBalancerNodePorts: false,
    },
  };
}

export async function createService(a: Api, s: ServiceSpec): Promise<V1Service> {
  return a.core.createNamespacedService({ namespace: s.namespace, body: serviceObject(s) });
}

export const ingressIPs = (svc: V1Service | undefined): string[] => (svc?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');

/** Waits until the Service's ingress satisfies check; returns the Service. */
export async function waitForIngress(a: Api, namespace: string, name: string, check: (ips: string[], svc: V1Service) => boolean, what = 'its ingress to match', timeoutMs = 20_000): Promise<V1Service> {
  return waitFor(`${namespace}/${name} ${what}`, async () => {
    const svc = await a.core.readNamespacedServiceStatus({ namespace, name });
    return check(ingressIPs(svc), svc) ? svc : undefined;
  }, { timeoutMs, intervalMs: 100 });
}

export const hasIPs = (n: number) => (ips: string[]): boolean => ips.length === n;

export interface EventSeen {
  type: string;
  reason: string;
  message: string;
  count: number;
  source: string;
}

/** Events about one object, as `kubectl describe` lists them. */
export async function eventsFor(a: Api, namespace: string, kind: string, name: string): Promise<EventSeen[]> {
  const list = await a.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` });
  return list.items.map((e) => ({
    type: e.type ?? '',
    reason: e.reason ?? '',
    message: e.message ?? '',
    count: e.count ?? 1,
    source: e.reportingInstance || e.source?.host || '',
  }));
}

export async function waitForEvent(a: Api, namespace: string, kind: string, name: string, reason: string, contains = '', timeoutMs = 20_000): Promise<EventSeen> {
  return waitFor(`a ${reason} event on ${kind} ${namespace}/${name}${contains ? ` mentioning "${contains}"` : ''}`, async () => {
    const events = await eventsFor(a, namespace, kind, name);
    return events.find((e) => e.reason === reason && e.message.includes(contains));
  }, { timeoutMs, intervalMs: 200 });
}

export async function readPool(a: Api, namespace: string, name: string): Promise<IPAddressPool & k8s.KubernetesObject> {
  return (await a.objects.read({ apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace } })) as IPAddressPool & k8s.KubernetesObject;
}

export async function metricsText(c: ControllerProcess): Promise<string> {
  return (await fetch(`${c.metricsUrl}/metrics`)).text();
}
