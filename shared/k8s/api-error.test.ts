import { describe, expect, it } from 'vitest';
import { ApiException } from '@kubernetes/client-node';
import { apiErrorFromResponse, apiErrorFromStatus, formatApiError, isResourceVersionTooLarge, isTransient, parseRetryAfter, toApiError } from './api-error.ts';

const conflict = JSON.stringify({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  message: 'Operation cannot be fulfilled on leases.coordination.k8s.io "ballast": the object has been modified; please apply your changes to the latest version and try again',
  reason: 'Conflict',
  code: 409,
});

describe('ApiError', () => {
  it('takes the API server’s own Status reason and message', () => {
    const e = apiErrorFromResponse(409, conflict);
    expect(e).toEqual({ code: 409, reason: 'Conflict', message: expect.stringMatching(/^Operation cannot be fulfilled on leases/) });
    expect(formatApiError(e)).toMatch(/^409 Conflict: Operation cannot be fulfilled/);
  });

  it('a body that is not a Status: the reason from the code, the text as message', () => {
    expect(apiErrorFromResponse(503, 'upstream unavailable\n')).toEqual({ code: 503, reason: 'ServiceUnavailable', message: 'upstream unavailable' });
    expect(apiErrorFromResponse(418, '')).toEqual({ code: 418, reason: 'Unknown', message: 'HTTP 418' });
  });

  it('converts what client-node’s typed clients throw', () => {
    const notFound = JSON.stringify({ kind: 'Status', reason: 'NotFound', message: 'services "web" not found', code: 404 });
    expect(toApiError(new ApiException(404, 'Unknown API Status Code!', notFound, {}))).toEqual({ code: 404, reason: 'NotFound', message: 'services "web" not found' });
    expect(toApiError(new ApiException(401, 'Unauthorized', undefined, {}))).toEqual({ code: 401, reason: 'Unauthorized', message: 'HTTP-Code: 401' });
  });

  it('converts transport failures: refused, reset, timed out', () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }) });
    expect(toApiError(refused)).toEqual({ code: undefined, reason: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:6443' });
    expect(formatApiError(toApiError(refused))).toBe('no response (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:6443');
    expect(toApiError(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toMatchObject({ code: undefined, reason: 'Timeout' });
    expect(toApiError('weird')).toEqual({ code: undefined, reason: 'Error', message: 'weird' });
  });

  it('keeps details.causes and Retry-After: "too large resource version" as kube-apiserver 1.36 sends it, and as 1.17 did', () => {
    const body = JSON.stringify({
      kind: 'Status',
      status: 'Failure',
      message: 'Timeout: Too large resource version: 99999999, current: 201',
      reason: 'Timeout',
      details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 },
      code: 504,
    });
    const e = apiErrorFromResponse(504, body, '1');
    expect(e).toEqual({
      code: 504,
      reason: 'Timeout',
      message: 'Timeout: Too large resource version: 99999999, current: 201',
      causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
      retryAfterMs: 1_000,
    });
    expect(isResourceVersionTooLarge(e)).toBe(true);
    expect(isResourceVersionTooLarge(apiErrorFromStatus({ kind: 'Status', code: 504, reason: 'Timeout', message: 'Too large resource version: 9, current: 3' }))).toBe(true);
    expect(isResourceVersionTooLarge(apiErrorFromResponse(504, JSON.stringify({ kind: 'Status', code: 504, reason: 'Timeout', message: 'request timed out' })))).toBe(false);
    expect(apiErrorFromStatus({ kind: 'Status', code: 422, reason: 'Invalid', message: 'x', details: { causes: [{ field: 'spec.addresses[0]', message: 'bad', reason: 'FieldValueInvalid' }] } }).causes).toEqual([
      { field: 'spec.addresses[0]', message: 'bad', reason: 'FieldValueInvalid' },
    ]);
  });

  it('Retry-After in seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('transient: no answer, 429 and 5xx; not the answers a retry cannot change', () => {
    expect([undefined, 429, 500, 503].map((code) => isTransient({ code, reason: '', message: '' }))).toEqual([true, true, true, true]);
    expect([400, 403, 404, 409, 422].map((code) => isTransient({ code, reason: '', message: '' }))).toEqual([false, false, false, false, false]);
  });
});
