// AdmissionReview (admission.k8s.io/v1) in and out: the request checked at
// this boundary, the decision turned into the response the API server expects.
// Pure; the HTTPS server around it is server.ts.
import type { IPAddressPool, L2Advertisement } from '../../shared/api/index.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import { validateL2Advertisement, validatePool, type Verdict } from '../../shared/config/index.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: string;
  readonly operation: Operation;
  readonly namespace: string;
  readonly object: unknown;
}

/** The webhook's paths, and the kind each validates. */
export const ROUTES = {
  '/validate-ipaddresspool': 'IPAddressPool',
  '/validate-l2advertisement': 'L2Advertisement',
} as const;

export type Route = keyof typeof ROUTES;

export const isRoute = (path: string): path is Route => Object.hasOwn(ROUTES, path);

const OPERATIONS: readonly string[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

/** A review the API server could have sent, or what is wrong with it (answered with 400). */
export function parseAdmissionReview(body: unknown): Result<AdmissionRequest, string> {
  if (!isObject(body)) return err('body is not a JSON object');
  if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview') {
    return err(`expected apiVersion admission.k8s.io/v1, kind AdmissionReview; got ${JSON.stringify(body.apiVersion)}, ${JSON.stringify(body.kind)}`);
  }
  const request = body.request;
  if (!isObject(request)) return err('AdmissionReview has no request');
  if (typeof request.uid !== 'string' || request.uid === '') return err('request.uid is missing');
  if (typeof request.operation !== 'string' || !OPERATIONS.includes(request.operation)) {
    return err(`request.operation ${JSON.stringify(request.operation)} is not one of ${OPERATIONS.join(', ')}`);
  }
  const kind = isObject(request.kind) && typeof request.kind.kind === 'string' ? request.kind.kind : undefined;
  if (kind === undefined) return err('request.kind.kind is missing');
  const operation = request.operation as Operation;
  if ((operation === 'CREATE' || operation === 'UPDATE') && !isObject(request.object)) return err(`request.object is missing for ${operation}`);
  return ok({
    uid: request.uid,
    kind,
    operation,
    namespace: typeof request.namespace === 'string' ? request.namespace : '',
    object: request.object,
  });
}

/** What the decision needs besides the request: the objects of the request's namespace. */
export interface NamespaceObjects {
  readonly pools: readonly IPAddressPool[];
  /** Undefined when they could not be read: only a warning depends on them. */
  readonly advertisements: readonly L2Advertisement[] | undefined;
}

/**
 * `installNamespace`, when given, is the only namespace Ballast reads: a new
 * object elsewhere is refused (as MetalLB does), since it would be ignored
 * without a word; an existing one may still be edited (and so cleaned up).
 */
export function decide(route: Route, request: AdmissionRequest, objects: NamespaceObjects, installNamespace?: string): Verdict {
  const expected = ROUTES[route];
  if (request.kind !== expected) {
    return { allowed: false, reasons: [`${route} validates ${expected} objects, not ${request.kind}: the webhook configuration sends the wrong resource here`], warnings: [] };
  }
  // Deletion is guarded by the pool finalizer, not here.
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return { allowed: true, reasons: [], warnings: [] };
  if (installNamespace !== undefined && request.namespace !== installNamespace) {
    const elsewhere = `Ballast reads ${expected}s only from namespace ${installNamespace}; this one in ${request.namespace || '(none)'} would be ignored`;
    return request.operation === 'CREATE' ? { allowed: false, reasons: [elsewhere], warnings: [] } : { allowed: true, reasons: [], warnings: [elsewhere] };
  }
  try {
    return expected === 'IPAddressPool'
      ? validatePool(request.object as IPAddressPool, objects.pools, objects.advertisements)
      : validateL2Advertisement(request.object as L2Advertisement, objects.pools);
  } catch (e) {
    // The API server checks the CRD schema before it calls us, so only a shape the schema forbids gets here, and a
    // parser that throws on it has a bug; refusing is the safe answer (failurePolicy Fail would refuse too).
    return { allowed: false, reasons: [`the object does not have the shape the CRD defines: ${(e as Error).message}`], warnings: [] };
  }
}

export interface AdmissionReviewResponse {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; reason: string; message: string };
    warnings?: string[];
  };
}

export function admissionResponse(uid: string, verdict: Verdict): AdmissionReviewResponse {
  const response: AdmissionReviewResponse['response'] = { uid, allowed: verdict.allowed };
  // kubectl prints: admission webhook "…" denied the request: <message>
  if (!verdict.allowed) response.status = { code: 422, reason: 'Invalid', message: verdict.reasons.join('; ') };
  if (verdict.warnings.length > 0) response.warnings = [...verdict.warnings];
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
