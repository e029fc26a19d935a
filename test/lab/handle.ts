import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { join } from 'node:path';
import { loadKubeConfig, type ApiAccess, type LoadOptions } from '../../shared/k8s/index.ts';
import type { ControlPlaneHandle } from './control-plane.ts';
import { writeKubeconfig } from './pki.ts';

/** The admin client configuration of a control plane started elsewhere (e.g. by the vitest global setup). */
export function kubeConfigFromHandle(handle: ControlPlaneHandle): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(handle.kubeconfig);
  return kc;
}

/** Ballast's own access (shared/k8s) from a kubeconfig file, for the code under test. */
export function accessFromKubeconfig(file: string, opts: LoadOptions = {}): ApiAccess {
  const loaded = loadKubeConfig({ kubeconfig: file }, opts);
  if (!loaded.ok) throw new Error(loaded.error);
  return loaded.value.access;
}

/** The admin access of a control plane started elsewhere, for the code under test (client-node's KubeConfig is for arranging). */
export function accessFromHandle(handle: ControlPlaneHandle, opts: LoadOptions = {}): ApiAccess {
  return accessFromKubeconfig(handle.kubeconfig, opts);
}

/** A DNS-label-safe unique name for per-test objects and namespaces. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/**
 * A kubeconfig for a ServiceAccount, with its own token from the TokenRequest
 * API (creating the account if needed): the identity RBAC is checked against.
 */
export async function serviceAccountKubeconfig(
  handle: ControlPlaneHandle,
  namespace: string,
  name: string,
  opts: { server?: string; file?: string } = {},
): Promise<string> {
  const core = kubeConfigFromHandle(handle).makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch((e: unknown) => {
    if ((e as { code?: number }).code !== 409) throw e;
  });
  const tr = await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds: 24 * 3600 } } });
  const token = tr.status?.token;
  if (!token) throw new Error(`no token issued for ${namespace}/${name}`);
  const file = opts.file ?? join(handle.dir, `sa-${namespace}-${name}.kubeconfig`);
  writeKubeconfig(file, { server: opts.server ?? handle.server, caCert: handle.caCert, user: { token } });
  return file;
}
