// Ballast's own HTTP transport to the API server (no @kubernetes/client-node
// at run time; access.ts says why): kubeconfig loading, JSON requests, watches.
export { loadKubeConfig, type KubeConfigSources, type LoadedKubeConfig, type LoadOptions } from './load.ts';
export {
  createApiAccess,
  isTlsFailure,
  type ApiAccess,
  type ApiAccessOptions,
  type Connection,
  type Method,
  type Query,
  type RequestOptions,
  type WatchOptions,
} from './access.ts';
export { fixedTls, tlsFromSources, type PemSource, type TlsFileOptions, type TlsMaterial, type TlsSettings, type TlsSources } from './tls-material.ts';
export { staticToken, tokenFile, type BearerToken } from './credentials.ts';
export type { DelegatedAuth, RawEntry } from './kubeconfig.ts';
export type { LivenessOptions } from './liveness.ts';
export type { WatchEvent } from './ndjson.ts';
