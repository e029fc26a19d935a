// The lab: a real Kubernetes control plane and a LAN of network namespaces.
export { ControlPlane, SERVICE_CIDRS, type ControlPlaneHandle, type ControlPlaneOptions } from './control-plane.ts';
export { LanFaults } from './faults.ts';
export { Lan, type LabMember, type LabNode, type LanOptions, type NeighborEntry } from './lan.ts';
export { applyManifests, applyObjects, readManifests, describeApiError } from './manifests.ts';
export { findBinaries, REPO_ROOT } from './binaries.ts';
export { capture, run, sleep, waitFor, startProcess, type Captured, type ManagedProcess } from './exec.ts';
export { freezeProcess, type FrozenProcess } from './freezer.ts';
export { sweepStaleLabs } from './registry.ts';
export { createClientCert, createPki, createServingCert, writeKubeconfig, type CertificateAuthority, type ClientCert } from './pki.ts';
export { FaultProxy, type ActiveRule, type FailWith, type FaultAction, type FaultProxyOptions, type FaultRule, type LoggedRequest, type ProxiedRequest, type RequestMatch } from './fault-proxy.ts';
export * as addressing from './addressing.ts';
export { accessFromHandle, accessFromKubeconfig, kubeConfigFromHandle, serviceAccountKubeconfig, uniqueName } from './handle.ts';
