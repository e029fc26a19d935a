// A real control plane for tests and the demo: etcd, kube-apiserver (TLS,
// RBAC) and optionally kube-controller-manager (namespace deletion, garbage
// collection, EndpointSlices from Pods), all built from the Go module proxy.
import { cpSync, readFileSync, mkdirSync, rmSync, mkdtempSync } from 'node:fs';
import { request } from 'node:https';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { findBinaries, type Binaries } from './binaries.ts';
import { startProcess, waitFor, type ManagedProcess } from './exec.ts';
import { freePort } from './ports.ts';
import { createPki, writeKubeconfig, type Pki } from './pki.ts';
import { startUnixToTcpBridge } from './api-bridge.ts';
import { LabRegistry, sweepStaleLabs } from './registry.ts';
import { applyManifests } from './manifests.ts';
import { loadKubeConfig, type ApiAccess, type LoadOptions } from '../../shared/k8s/index.ts';

/** Lab ClusterIP ranges: documentation space only, like every lab address. */
export const SERVICE_CIDRS = ['198.51.100.128/25', '2001:db8:0:ffff::/108'] as const;

export interface ControlPlaneOptions {
  /** Also run kube-controller-manager (default true). */
  controllerManager?: boolean;
  /** Apply these manifest files/directories once the API is ready (e.g. the CRDs in deploy/). */
  manifests?: string[];
  log?: (msg: string) => void;
}

/** What another process needs to use a running control plane (JSON-serialisable, e.g. for vitest's provide/inject). */
export interface ControlPlaneHandle {
  id: string;
  dir: string;
  server: string;
  kubeconfig: string;
  apiSocket: string;
  caCert: string;
  pkiDir: string;
}

export class ControlPlane implements ControlPlaneHandle {
  private apiserver?: ManagedProcess;
  private kcm?: ManagedProcess;
  private bridge?: Server;
  private apiArgs: string[] = [];
  private apiserverPaused = false;

  readonly id: string;
  readonly dir: string;
  readonly pki: Pki;
  readonly bins: Binaries;
  readonly registry: LabRegistry;
  readonly server: string;
  readonly kubeconfig: string;
  readonly apiSocket: string;
  private etcd: ManagedProcess;
  private etcdArgs: string[] = [];
  private etcdPort = 0;
  private readonly log: (msg: string) => void;

  private constructor(f: {
    id: string;
    dir: string;
    pki: Pki;
    bins: Binaries;
    registry: LabRegistry;
    server: string;
    kubeconfig: string;
    apiSocket: string;
    etcd: ManagedProcess;
    log: (msg: string) => void;
  }) {
    this.id = f.id;
    this.dir = f.dir;
    this.pki = f.pki;
    this.bins = f.bins;
    this.registry = f.registry;
    this.server = f.server;
    this.kubeconfig = f.kubeconfig;
    this.apiSocket = f.apiSocket;
    this.etcd = f.etcd;
    this.log = f.log;
  }

  get caCert(): string {
    return this.pki.caCert;
  }
  get pkiDir(): string {
    return this.pki.dir;
  }
  handle(): ControlPlaneHandle {
    const { id, dir, server, kubeconfig, apiSocket, caCert, pkiDir } = this;
    return { id, dir, server, kubeconfig, apiSocket, caCert, pkiDir };
  }

  static async start(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const log = opts.log ?? (() => {});
    const bins = findBinaries();
    await sweepStaleLabs();
    const dir = mkdtempSync(join(tmpdir(), 'ballast-cp-'));
    const id = dir.slice(-6).toLowerCase().replace(/[^a-z0-9]/g, 'x');
    const registry = new LabRegistry(`cp-${id}`);
    registry.addTmpDir(dir);
    const pki = await createPki(join(dir, 'pki'));

    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    mkdirSync(join(dir, 'logs'));
    const etcdArgs = [
      bins.etcd,
      '--name=lab',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=lab=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ];
    const etcd = startProcess('etcd', etcdArgs, { logFile: join(dir, 'logs', 'etcd.log') });
    registry.addProcess(etcd.pid);
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = join(dir, 'admin.kubeconfig');
    writeKubeconfig(kubeconfig, { server, caCert: pki.caCert, user: pki.admin });
    const cp = new ControlPlane({ id, dir, pki, bins, registry, server, kubeconfig, apiSocket: join(dir, 'api.sock'), etcd, log });
    cp.etcdArgs = etcdArgs;
    cp.etcdPort = etcdPort;
    try {
      await waitFor('etcd to report healthy', () => cp.etcdHealthy(etcdPort), { timeoutMs: 20_000 });
      log(`etcd ${bins.etcdVersion} up on 127.0.0.1:${etcdPort}`);
      cp.apiArgs = [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        `--cert-dir=${join(dir, 'apiserver-certs')}`,
        `--tls-cert-file=${pki.serverCert}`,
        `--tls-private-key-file=${pki.serverKey}`,
        `--client-ca-file=${pki.caCert}`,
        `--secure-port=${apiPort}`,
        '--bind-address=127.0.0.1',
        // Without it kube-apiserver looks for a default route and exits on machines that have none.
        '--advertise-address=127.0.0.1',
        `--service-cluster-ip-range=${SERVICE_CIDRS.join(',')}`,
        '--authorization-mode=RBAC',
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${pki.saPub}`,
        `--service-account-signing-key-file=${pki.saKey}`,
        '--allow-privileged=true',
        // No kubelet mounts tokens here, and Pods made by tests must not wait for a default ServiceAccount.
        '--disable-admission-plugins=ServiceAccount',
        '--profiling=false',
        // The default reconciler would publish 127.0.0.1 as the kubernetes Service's endpoint, which is invalid.
        '--endpoint-reconciler-type=none',
        // Webhook (and aggregated API) calls go to a Service's endpoints, not its ClusterIP:
        // nothing routes lab ClusterIPs, so a call to one would leave the machine by the default route.
        '--enable-aggregator-routing=true',
        '--v=1',
      ];
      await cp.startApiServer();
      log(`kube-apiserver v${bins.kubernetesVersion} ready at ${server}`);
      cp.bridge = await startUnixToTcpBridge(cp.apiSocket, apiPort);
      if (opts.controllerManager !== false) {
        cp.kcm = startProcess(
          'kube-controller-manager',
          [
            bins.kubeControllerManager,
            `--kubeconfig=${kubeconfig}`,
            '--leader-elect=false',
            '--controllers=namespace-controller,garbage-collector-controller,endpointslice-controller,serviceaccount-controller',
            '--secure-port=0',
            '--v=1',
          ],
          { logFile: join(dir, 'logs', 'kube-controller-manager.log') },
        );
        registry.addProcess(cp.kcm.pid);
        log('kube-controller-manager started (namespace, garbage-collector, endpointslice, serviceaccount controllers)');
      }
      if (opts.manifests?.length) await applyManifests(cp.kubeConfig(), opts.manifests);
      return cp;
    } catch (e) {
      const detail = cp.logTails();
      await cp.stop();
      throw new Error(`${(e as Error).message}\n${detail}`);
    }
  }

  /** The admin (system:masters) access for the code under test (shared/k8s). */
  access(opts: LoadOptions = {}): ApiAccess {
    const loaded = loadKubeConfig({ kubeconfig: this.kubeconfig }, opts);
    if (!loaded.ok) throw new Error(loaded.error);
    return loaded.value.access;
  }

  /** The admin (system:masters) client configuration (client-node, to arrange and inspect the cluster). */
  kubeConfig(): k8s.KubeConfig {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(this.kubeconfig);
    return kc;
  }

  async startApiServer(): Promise<void> {
    if (this.apiserver?.running) return;
    this.apiserver = startProcess('kube-apiserver', [this.bins.kubeApiserver, ...this.apiArgs], {
      logFile: join(this.dir, 'logs', 'kube-apiserver.log'),
      append: true,
    });
    this.registry.addProcess(this.apiserver.pid);
    const apiserver = this.apiserver;
    await waitFor(
      'kube-apiserver /readyz',
      async () => {
        if (!apiserver.running) throw new Error(`kube-apiserver exited: ${await apiserver.exited}`);
        return (await this.getStatus('/readyz')) === 200;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }

  /**
   * A copy of etcd's data, taken with etcd stopped (the API server too, then both start again): a backup an
   * operator could restore. Returns where it is.
   */
  async backupEtcd(): Promise<string> {
    const backup = join(this.dir, `etcd-backup-${Date.now()}`);
    await this.whileEtcdStopped(() => cpSync(join(this.dir, 'etcd'), backup, { recursive: true }));
    return backup;
  }

  /**
   * etcd's data put back as it was at backupEtcd, and etcd and the API server started on it: an etcd restore.
   * Every resourceVersion clients saw after the backup is now in the future.
   */
  async restoreEtcd(backup: string): Promise<void> {
    await this.whileEtcdStopped(() => {
      rmSync(join(this.dir, 'etcd'), { recursive: true, force: true });
      cpSync(backup, join(this.dir, 'etcd'), { recursive: true });
    });
  }

  private async whileEtcdStopped(work: () => void): Promise<void> {
    await this.stopApiServer();
    await this.etcd.stop();
    work();
    this.etcd = startProcess('etcd', this.etcdArgs, { logFile: join(this.dir, 'logs', 'etcd.log'), append: true });
    this.registry.addProcess(this.etcd.pid);
    await waitFor('etcd to report healthy', () => this.etcdHealthy(this.etcdPort), { timeoutMs: 20_000 });
    await this.startApiServer();
  }

  /** Stops the API server only (etcd and the data stay), to test what components do without it. */
  async stopApiServer(): Promise<void> {
    this.resumeApiServer();
    await this.apiserver?.stop();
  }

  /**
   * Freezes the API server (SIGSTOP): its connections stay open and the kernel still accepts and
   * acknowledges, but nothing answers: what a hung or partitioned API server looks like to a client.
   */
  pauseApiServer(): void {
    if (!this.apiserver?.running) throw new Error('kube-apiserver is not running');
    process.kill(this.apiserver.pid, 'SIGSTOP');
    this.apiserverPaused = true;
  }

  /** Undoes pauseApiServer (SIGCONT); harmless when not paused. */
  resumeApiServer(): void {
    if (!this.apiserverPaused) return;
    this.apiserverPaused = false;
    if (this.apiserver?.running) process.kill(this.apiserver.pid, 'SIGCONT');
  }

  /** The last lines of every component log, for failure messages. */
  logTails(lines = 15): string {
    const out: string[] = [];
    for (const p of [this.etcd, this.apiserver, this.kcm]) {
      if (!p) continue;
      try {
        const tail = readFileSync(p.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
        out.push(`--- ${p.name} (${p.running ? 'running' : 'exited'}) ${p.logFile}\n${tail}`);
      } catch {
        // no log yet
      }
    }
    return out.join('\n');
  }

  async stop(): Promise<void> {
    try {
      this.resumeApiServer();
      this.bridge?.close();
      await this.kcm?.stop();
      await this.apiserver?.stop();
      await this.etcd.stop();
    } finally {
      // Also when a stop above failed: its processes are the registry's to sweep, this directory is ours.
      if (!process.env.BALLAST_LAB_KEEP) rmSync(this.dir, { recursive: true, force: true });
      this.registry.close();
    }
  }

  private etcdHealthy(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const req = httpGet({ host: '127.0.0.1', port, path: '/health', timeout: 1_000 }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(res.statusCode === 200 && body.includes('"true"')));
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
    });
  }

  private getStatus(path: string): Promise<number> {
    const url = new URL(this.server);
    return new Promise((resolve) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path,
          method: 'GET',
          ca: readFileSync(this.pki.caCert),
          cert: readFileSync(this.pki.admin.cert),
          key: readFileSync(this.pki.admin.key),
          timeout: 2_000,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  }
}
