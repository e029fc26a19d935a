// One real control plane (etcd + kube-apiserver + kube-controller-manager, with
// Ballast's CRDs applied) for the whole lab test run; each test file makes its
// own namespaces, objects and LANs. If it cannot start, the run fails and says
// why: lab tests are never skipped.
import type { TestProject } from 'vitest/node';
import { join } from 'node:path';
import { ControlPlane, type ControlPlaneHandle } from './control-plane.ts';
import { REPO_ROOT } from './binaries.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: ControlPlaneHandle;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.getuid?.() !== 0) throw new Error('lab tests need root (network namespaces, iptables); run them as root, e.g. via scripts/dev test');
  const started = Date.now();
  const cp = await ControlPlane.start({ manifests: [join(REPO_ROOT, 'deploy', 'crds')] });
  console.log(`lab: control plane up in ${Date.now() - started} ms (${cp.server})`);
  project.provide('controlPlane', cp.handle());
  return async () => {
    await cp.stop();
  };
}
