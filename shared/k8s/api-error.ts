// What went wrong with an API call, as a value: the API server's own Status
// (code, reason, message) when it answered, the transport failure when it did not.

/** A failed API call: what the API server said, or why it said nothing. */
export interface ApiError {
  /** HTTP status the API server answered with; undefined when no answer came (refused, reset, timed out). */
  readonly code: number | undefined;
  /** The Status reason (NotFound, Conflict, AlreadyExists, Forbidden, Invalid, Expired …) or the transport failure (ECONNREFUSED, Timeout …). */
  readonly reason: string;
  /** The API server's own message, else the transport's. */
  readonly message: string;
  /** The Status's `details.causes`: which field was invalid, or why a resourceVersion cannot be served (`ResourceVersionTooLarge`). */
  readonly causes?: readonly StatusCause[];
  /** The Retry-After header of the answer (429, some 5xx), in ms: how long the API server asks us to wait. */
  readonly retryAfterMs?: number;
}

/** One entry of a metav1.Status's details.causes. */
export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

/** `409 Conflict: Operation cannot be fulfilled on leases.coordination.k8s.io "x": …` or `no response (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:6443`. */
export function formatApiError(e: ApiError): string {
  return e.code === undefined ? `no response (${e.reason}): ${e.message}` : `${e.code} ${e.reason}: ${e.message}`;
}

/** True for the failures a retry can cure (no answer, 429, 5xx); false for answers that will not change (403, 404, 409, 422 …). */
export function isTransient(e: ApiError): boolean {
  return e.code === undefined || e.code === 429 || e.code >= 500;
}

interface StatusBody {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: unknown };
}

/**
 * The API server cannot serve that resourceVersion yet: it is newer than anything it has (its watch cache lags
 * behind another API server's, or etcd was restored from a backup). 504 with cause ResourceVersionTooLarge; API
 * servers before 1.18.6 said so only in the message (client-go's isTooLargeResourceVersionError).
 */
export function isResourceVersionTooLarge(e: ApiError): boolean {
  if (e.causes?.some((c) => c.reason === 'ResourceVersionTooLarge')) return true;
  return e.code === 504 && (e.message.includes('Too large resource version') || (e.causes ?? []).some((c) => c.message === 'Too large resource version'));
}

/** The resourceVersion asked for has been compacted away (410 Expired/Gone): list again. */
export function isExpired(e: ApiError): boolean {
  return e.code === 410;
}

const REASON_BY_CODE: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** An HTTP answer that is not 2xx → ApiError; body is the raw response text (a metav1.Status when the API server wrote it), retryAfter its Retry-After header. */
export function apiErrorFromResponse(code: number, body: string | undefined, retryAfter?: string): ApiError {
  const status = parseStatus(body);
  const retryAfterMs = parseRetryAfter(retryAfter);
  return {
    code,
    reason: status?.reason || REASON_BY_CODE[code] || 'Unknown',
    message: status?.message || body?.trim() || `HTTP ${code}`,
    ...causesOf(status),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/** Retry-After as the API server sends it: whole seconds (an HTTP date is allowed too, and read). */
export function parseRetryAfter(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function causesOf(status: StatusBody | undefined): { causes?: StatusCause[] } {
  const raw = status?.details?.causes;
  if (!Array.isArray(raw) || raw.length === 0) return {};
  const causes = raw.flatMap((c: unknown): StatusCause[] => {
    if (c === null || typeof c !== 'object') return [];
    const { reason, message, field } = c as Record<string, unknown>;
    return [{ ...(typeof reason === 'string' ? { reason } : {}), ...(typeof message === 'string' ? { message } : {}), ...(typeof field === 'string' ? { field } : {}) }];
  });
  return causes.length ? { causes } : {};
}

/** A metav1.Status object (a watch ERROR event's object) → ApiError. */
export function apiErrorFromStatus(status: unknown): ApiError {
  const s = parseStatus(status);
  const code = isHttpStatus(s?.code) ? s.code : undefined;
  return {
    code,
    reason: s?.reason || (code !== undefined ? REASON_BY_CODE[code] : undefined) || 'Unknown',
    message: s?.message || (code !== undefined ? `HTTP ${code}` : 'error event without a message'),
    ...causesOf(s),
  };
}

function parseStatus(body: unknown): StatusBody | undefined {
  if (typeof body === 'string') {
    try {
      return parseStatus(JSON.parse(body));
    } catch {
      return undefined;
    }
  }
  return body !== null && typeof body === 'object' ? (body as StatusBody) : undefined;
}

/**
 * Any error from an API call → ApiError: a socket or TLS error from the
 * transport (its code is the reason), an abort or timeout, and what
 * client-node's typed clients throw (tests use them), so every report carries
 * the API server's own message.
 */
export function toApiError(e: unknown): ApiError {
  if (e !== null && typeof e === 'object') {
    const x = e as { code?: unknown; statusCode?: unknown; body?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    // Before looking at `code`: a DOMException has a numeric legacy code too (23 for TimeoutError).
    if (x.name === 'TimeoutError') return { code: undefined, reason: 'Timeout', message: firstLine(x.message) || 'timed out' };
    if (x.name === 'AbortError') return { code: undefined, reason: 'Aborted', message: firstLine(x.message) || 'aborted' };
    const httpCode = isHttpStatus(x.code) ? x.code : isHttpStatus(x.statusCode) ? x.statusCode : undefined;
    if (httpCode !== undefined) {
      const status = parseStatus(x.body);
      return {
        code: httpCode,
        reason: status?.reason || REASON_BY_CODE[httpCode] || 'Unknown',
        message: status?.message || (typeof x.body === 'string' && x.body.trim()) || firstLine(x.message) || `HTTP ${httpCode}`,
        ...causesOf(status),
      };
    }
    // undici's fetch wraps the socket error: TypeError('fetch failed', { cause: Error{ code: 'ECONNREFUSED' } }).
    const cause = x.cause as { code?: unknown; message?: unknown } | undefined;
    if (cause && typeof cause === 'object') {
      const reason = typeof cause.code === 'string' ? cause.code : 'NetworkError';
      return { code: undefined, reason, message: firstLine(cause.message) || firstLine(x.message) || reason };
    }
    if (typeof x.code === 'string') return { code: undefined, reason: x.code, message: firstLine(x.message) || x.code };
    if (typeof x.message === 'string') return { code: undefined, reason: 'Error', message: firstLine(x.message) };
  }
  return { code: undefined, reason: 'Error', message: String(e) };
}

function isHttpStatus(c: unknown): c is number {
  return typeof c === 'number' && Number.isInteger(c) && c >= 100 && c <= 599;
}

function firstLine(m: unknown): string {
  return typeof m === 'string' ? (m.split('\n')[0] ?? '').trim() : '';
}
