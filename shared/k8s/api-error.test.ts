import { describe, expect, it } from 'vitest';
import { ApiException } from '@kubernetes/client-node';
import { apiErrorFromResponse, formatApiError, isTransient, toApiError } from './api-error.ts';

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

  it('transient: no answer, 429 and 5xx; not the answers a retry cannot change', () => {
    expect([undefined, 429, 500, 503].map((code) => isTransient({ code, reason: '', message: '' }))).toEqual([true, true, true, true]);
    expect([400, 403, 404, 409, 422].map((code) => isTransient({ code, reason: '', message: '' }))).toEqual([false, false, false, false, false]);
  });
});
