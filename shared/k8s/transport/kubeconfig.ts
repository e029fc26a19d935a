// Kubeconfig files → where the API server is and who we are to it, without
// I/O: the loader (load.ts) reads the files, this decides. Follows kubectl
// (client-go's clientcmd): several files merge with the first file to name a
// cluster, user or context winning and the first current-context winning;
// relative paths are relative to the file that holds them. What a kubeconfig
// can say but Ballast's transport cannot do (exec and auth-provider plugins,
// basic auth, impersonation, proxies) is refused by name, not silently
// ignored; or, for a caller that can (the CLI, through client-node), handed on
// as written (`delegate`).
import { dirname, isAbsolute, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type * as JsYaml from 'js-yaml';
import { err, ok, type Result } from '../../result.ts';
import type { PemSource } from './tls-material.ts';

export type { PemSource } from './tls-material.ts';

// Loaded on first use: a speaker in a pod reads its service account, not a
// kubeconfig file, and the parser costs ≈3.6 MB RSS (DESIGN §5's 80 MB budget).
let jsYaml: typeof JsYaml | undefined;
const yaml = (): typeof JsYaml => (jsYaml ??= createRequire(import.meta.url)('js-yaml') as typeof JsYaml);

/** Everything needed to reach the API server of one context. */
export interface ConnectionSpec {
  /** The context's name (`in-cluster` for a pod's service account). */
  readonly context: string;
  /** `https://host:port[/prefix]`, no trailing slash. */
  readonly server: string;
  readonly ca?: PemSource | undefined;
  readonly clientCert?: PemSource | undefined;
  readonly clientKey?: PemSource | undefined;
  readonly insecureSkipTlsVerify: boolean;
  /** Name to send in SNI and to check the certificate against, instead of the server's host. */
  readonly tlsServerName?: string | undefined;
  readonly token?: string | undefined;
  /** Re-read as it rotates; preferred over token while readable. */
  readonly tokenFile?: string | undefined;
  /** With `delegate`: the cluster and user as written, when they use what only the delegate can do. */
  readonly delegated?: DelegatedAuth | undefined;
}

/** A kubeconfig entry as written, its file paths made absolute. */
export interface RawEntry {
  readonly name: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** The cluster and user of a context whose credentials (or proxy) someone else must handle. */
export interface DelegatedAuth {
  readonly cluster: RawEntry;
  readonly user: RawEntry | undefined;
  /** Why: the fields only the delegate understands. */
  readonly fields: readonly string[];
}

const DELEGATED_CLUSTER_FIELDS = ['proxy-url'] as const;
const DELEGATED_USER_FIELDS = ['exec', 'auth-provider', 'username', 'password', 'as', 'as-uid', 'as-groups', 'as-user-extra'] as const;

type Fields = Readonly<Record<string, unknown>>;

interface Named {
  readonly name: string;
  readonly body: Fields;
  /** The file that defined it: relative paths resolve against its directory, and errors name it. */
  readonly file: string;
}

/** One kubeconfig file, its entries keyed by name. */
export interface KubeconfigFile {
  readonly file: string;
  readonly clusters: ReadonlyMap<string, Named>;
  readonly users: ReadonlyMap<string, Named>;
  readonly contexts: ReadonlyMap<string, Named>;
  readonly currentContext: string | undefined;
}

const SECTIONS = [
  ['clusters', 'cluster'],
  ['users', 'user'],
  ['contexts', 'context'],
] as const;

/** Parses one file's text (YAML or JSON); file is its path, for messages and relative paths. */
export function parseKubeconfig(text: string, file: string): Result<KubeconfigFile, string> {
  let doc: unknown;
  try {
    // An empty file is an empty configuration to kubectl; js-yaml 5 refuses empty input.
    doc = text.trim() === '' ? {} : yaml().load(text);
  } catch (e) {
    return err(`${file}: not YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null) doc = {};
  if (!isFields(doc)) return err(`${file}: not a kubeconfig (expected a mapping at the top)`);
  const maps: Record<string, Map<string, Named>> = {};
  for (const [section, key] of SECTIONS) {
    const entries = doc[section] ?? [];
    if (!Array.isArray(entries)) return err(`${file}: ${section}: expected a list`);
    const map = new Map<string, Named>();
    for (const [i, entry] of entries.entries()) {
      if (!isFields(entry) || typeof entry.name !== 'string' || entry.name === '') return err(`${file}: ${section}[${i}]: expected a name`);
      const body = entry[key] ?? {};
      if (!isFields(body)) return err(`${file}: ${section}[${i}] (${entry.name}).${key}: expected a mapping`);
      // Within one file the first entry of a name counts, as in client-go.
      if (!map.has(entry.name)) map.set(entry.name, { name: entry.name, body, file });
    }
    maps[section] = map;
  }
  const current = doc['current-context'];
  if (current !== undefined && current !== null && typeof current !== 'string') return err(`${file}: current-context: expected a string`);
  return ok({ file, clusters: maps.clusters!, users: maps.users!, contexts: maps.contexts!, currentContext: current || undefined });
}

/** Merges files like kubectl does with KUBECONFIG: the first file to define a name wins, and the first current-context. */
export function mergeKubeconfigs(files: readonly KubeconfigFile[]): KubeconfigFile {
  const merged = { file: files.map((f) => f.file).join(', '), clusters: new Map<string, Named>(), users: new Map<string, Named>(), contexts: new Map<string, Named>() };
  let currentContext: string | undefined;
  for (const f of files) {
    for (const [section] of SECTIONS) for (const [name, entry] of f[section]) if (!merged[section].has(name)) merged[section].set(name, entry);
    currentContext ??= f.currentContext;
  }
  return { ...merged, currentContext };
}

/**
 * The connection of a context (default: current-context); an error names the file, the entry and the field.
 * With delegate, credentials and proxies the transport cannot handle are returned as `delegated` instead of refused.
 */
export function connectionFor(config: KubeconfigFile, contextName?: string, opts: { delegate?: boolean } = {}): Result<ConnectionSpec, string> {
  const name = contextName || config.currentContext;
  if (!name) return err(`${config.file}: no current-context`);
  const context = config.contexts.get(name);
  if (!context) return err(`${config.file}: no context named "${name}"`);
  const at = `${context.file}: context "${name}"`;
  const clusterName = context.body.cluster;
  if (typeof clusterName !== 'string' || !clusterName) return err(`${at}: names no cluster`);
  const cluster = config.clusters.get(clusterName);
  if (!cluster) return err(`${at}: cluster "${clusterName}" is not defined`);
  const userName = context.body.user;
  if (userName !== undefined && userName !== null && typeof userName !== 'string') return err(`${at}: user: expected a string`);
  const user = userName ? config.users.get(userName) : undefined;
  if (userName && !user) return err(`${at}: user "${userName}" is not defined`);

  // Every problem is collected, so one run names them all.
  const problems: string[] = [];
  const c = reader(cluster, `${cluster.file}: cluster "${clusterName}"`, problems);
  const u = user ? reader(user, `${user.file}: user "${user.name}"`, problems) : undefined;
  const fields = [...DELEGATED_CLUSTER_FIELDS.filter((f) => c.has(f)), ...DELEGATED_USER_FIELDS.filter((f) => u?.has(f))];
  const delegated = opts.delegate && fields.length > 0 ? { cluster: absolutePaths(cluster), user: user && absolutePaths(user), fields } : undefined;
  if (!delegated) {
    c.unsupported('proxy-url', 'proxies are not supported (reach the API server directly)');
    for (const field of ['exec', 'auth-provider']) u?.unsupported(field, `${field} credential plugins are not supported (use a token, a tokenFile or a client certificate)`);
    for (const field of ['username', 'password']) u?.unsupported(field, 'basic authentication is not supported (Kubernetes removed it in 1.19)');
    for (const field of ['as', 'as-uid', 'as-groups', 'as-user-extra']) u?.unsupported(field, 'impersonation is not supported');
  }

  const rawServer = c.optionalString('server');
  if (rawServer === undefined) problems.push(`${c.where}: server is missing`);
  const server = rawServer === undefined ? undefined : normaliseServer(rawServer, c.where, problems);
  const insecureSkipTlsVerify = c.boolean('insecure-skip-tls-verify');
  const ca = c.pem('certificate-authority');
  // client-go refuses this pair too: an insecure connection would ignore the CA without saying so.
  if (insecureSkipTlsVerify && ca) problems.push(`${c.where}: insecure-skip-tls-verify and a certificate-authority together: choose one`);
  const clientCert = u?.pem('client-certificate');
  const clientKey = u?.pem('client-key');
  if (u && !clientCert !== !clientKey) problems.push(`${u.where}: ${clientCert ? 'client-certificate without client-key' : 'client-key without client-certificate'}`);
  const tlsServerName = c.optionalString('tls-server-name');
  const token = u?.optionalString('token');
  const tokenFile = u?.path('tokenFile');
  if (problems.length > 0 || server === undefined) return err(problems.join('; '));
  return ok({ context: name, server, ca, clientCert, clientKey, insecureSkipTlsVerify, tlsServerName, token, tokenFile, ...(delegated ? { delegated } : {}) });
}

/** The entry with its file paths absolute, as kubectl reads them: relative to the file that holds it (an exec command only when it names a path). */
function absolutePaths(entry: Named): RawEntry {
  const dir = dirname(entry.file);
  const abs = (p: unknown): unknown => (typeof p === 'string' && p !== '' && !isAbsolute(p) ? resolve(dir, p) : p);
  const body: Record<string, unknown> = { ...entry.body };
  for (const field of ['certificate-authority', 'client-certificate', 'client-key', 'tokenFile']) if (field in body) body[field] = abs(body[field]);
  const exec = body.exec;
  if (isFields(exec) && typeof exec.command === 'string' && exec.command.includes('/')) body.exec = { ...exec, command: abs(exec.command) };
  return { name: entry.name, body };
}

/** The same shape as a kubeconfig's cluster: a server URL as a pod sees it (`KUBERNETES_SERVICE_HOST/PORT`, IPv6 in brackets). */
export function inClusterServer(host: string, port: string): string {
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function reader(entry: Named, where: string, problems: string[]) {
  const value = (field: string): unknown => {
    const v = entry.body[field];
    return v === null || v === '' ? undefined : v;
  };
  const optionalString = (field: string): string | undefined => {
    const v = value(field);
    if (v === undefined || typeof v === 'string') return v;
    problems.push(`${where}: ${field}: expected a string`);
    return undefined;
  };
  const path = (field: string): string | undefined => {
    const p = optionalString(field);
    return p === undefined || isAbsolute(p) ? p : resolve(dirname(entry.file), p);
  };
  return {
    where,
    optionalString,
    path,
    has: (field: string): boolean => value(field) !== undefined,
    boolean(field: string): boolean {
      const v = value(field) ?? false;
      if (typeof v === 'boolean') return v;
      problems.push(`${where}: ${field}: expected true or false`);
      return false;
    },
    unsupported(field: string, why: string): void {
      if (value(field) !== undefined) problems.push(`${where}: ${field}: ${why}`);
    },
    /** `field-data` (base64 PEM) wins over `field` (a file), as in client-go. */
    pem(field: string): PemSource | undefined {
      const data = optionalString(`${field}-data`);
      if (data !== undefined) {
        const pem = decodeBase64(data);
        if (pem !== undefined && pem.includes('-----BEGIN ')) return { pem };
        problems.push(`${where}: ${field}-data: expected base64 of PEM text`);
        return undefined;
      }
      const file = path(field);
      return file === undefined ? undefined : { file };
    },
  };
}

function normaliseServer(raw: string, where: string, problems: string[]): string | undefined {
  // kubectl takes a bare host[:port] as https.
  const url = URL.parse(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`);
  const problem = !url
    ? 'not a URL'
    : url.protocol !== 'https:' && url.protocol !== 'http:'
      ? `${url.protocol} is not http or https`
      : url.search || url.hash || url.username
        ? 'a query, fragment or user name is not allowed'
        : undefined;
  if (!url || problem) {
    problems.push(`${where}: server: ${problem}: ${raw}`);
    return undefined;
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

function decodeBase64(data: string): string | undefined {
  const compact = data.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

function isFields(v: unknown): v is Fields {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
