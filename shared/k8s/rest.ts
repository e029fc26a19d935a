// The one request path every helper in shared/k8s uses. It rides on
// client-node's own transport and authentication (RequestContext +
// KubeConfig.applySecurityAuthentication + IsomorphicFetchHttpLibrary, as its
// Watch does) but differs from client-node's generated clients in three ways
// the shell needs:
// - wire JSON in and out, the same shape watch events have (the generated
//   clients turn some timestamps into Dates and leave others strings);
// - a deadline on every call (the generated clients have none, and a leader
//   must give up a renewal before its renew deadline);
// - one connection pool per KubeConfig (applySecurityAuthentication builds a
//   new undici Agent, hence a new TLS handshake, for every request).
import * as k8s from '@kubernetes/client-node';
import { err, ok, type Result } from '../result.ts';
import { apiErrorFromResponse, toApiError, type ApiError } from './api-error.ts';

/** The HTTP verbs the API server serves. */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The Content-Type that selects each kind of PATCH. */
export const PATCH_CONTENT_TYPE = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;
/** merge (RFC 7386), json (RFC 6902), strategic (built-in kinds only), apply (server-side apply). */
export type PatchType = keyof typeof PATCH_CONTENT_TYPE;

/** Query, JSON body, content type and deadline of one request. */
export interface RequestOptions {
  query?: Readonly<Record<string, string | number | boolean | undefined>>;
  body?: unknown;
  contentType?: string;
  /** Overrides the client's default deadline for this call. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** JSON requests to the API server of one KubeConfig; answers are Results. */
export class RestClient {
  readonly kubeConfig: k8s.KubeConfig;
  private readonly http = new k8s.IsomorphicFetchHttpLibrary();
  private readonly timeoutMs: number;
  private dispatcher: ReturnType<k8s.RequestContext['getDispatcher']>;

  constructor(kubeConfig: k8s.KubeConfig, opts: { timeoutMs?: number } = {}) {
    this.kubeConfig = kubeConfig;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async request<T>(method: Method, path: string, opts: RequestOptions = {}): Promise<Result<T, ApiError>> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) return err({ code: undefined, reason: 'NoCluster', message: 'the kubeconfig has no current cluster' });
    const url = new URL(cluster.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new k8s.RequestContext(url.toString(), method as k8s.HttpMethod);
    ctx.setHeaderParam('Accept', 'application/json');
    if (opts.body !== undefined) {
      ctx.setHeaderParam('Content-Type', opts.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(opts.body));
    }
    const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(opts.timeoutMs ?? this.timeoutMs)));
    ctx.setSignal(opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout);
    try {
      // Headers (tokens rotate) are applied every time; the TLS agent is kept.
      await this.kubeConfig.applySecurityAuthentication(ctx);
      if (this.dispatcher === undefined) this.dispatcher = ctx.getDispatcher();
      else ctx.setDispatcher(this.dispatcher);
      const res = await this.http.send(ctx).toPromise();
      const text = await res.body.text();
      if (res.httpStatusCode < 200 || res.httpStatusCode > 299) return err(apiErrorFromResponse(res.httpStatusCode, text));
      return ok((text ? JSON.parse(text) : undefined) as T);
    } catch (e) {
      return err(toApiError(e));
    }
  }
}

const clients = new WeakMap<k8s.KubeConfig, RestClient>();

/** The shared RestClient of a KubeConfig (one connection pool per configuration). */
export function restClient(kc: k8s.KubeConfig): RestClient {
  let c = clients.get(kc);
  if (!c) clients.set(kc, (c = new RestClient(kc)));
  return c;
}
