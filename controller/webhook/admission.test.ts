import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { admissionResponse, decide, parseAdmissionReview } from './admission.ts';

const NS = 'ballast-system';
const poolObject = (name: string, addresses: string[]): Record<string, unknown> => ({
  apiVersion: 'ballast.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace: NS, creationTimestamp: '2025-01-01T00:00:00Z' },
  spec: { addresses },
});

const review = (request: Record<string, unknown>): unknown => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
const request = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  uid: 'u-1',
  kind: { group: 'ballast.io', version: 'v1beta1', kind: 'IPAddressPool' },
  operation: 'CREATE',
  namespace: NS,
  object: poolObject('web', ['203.0.113.0/24']),
  ...over,
});

describe('parseAdmissionReview', () => {
  it('reads what the API server sends', () => {
    const r = parseAdmissionReview(review(request()));
    expect(r).toEqual({ ok: true, value: { uid: 'u-1', kind: 'IPAddressPool', operation: 'CREATE', namespace: NS, object: poolObject('web', ['203.0.113.0/24']) } });
  });

  it.each([
    [null, 'body is not a JSON object'],
    [[], 'body is not a JSON object'],
    [{ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: request() }, 'expected apiVersion admission.k8s.io/v1'],
    [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, 'AdmissionReview has no request'],
    [review(request({ uid: '' })), 'request.uid is missing'],
    [review(request({ operation: 'PATCH' })), 'request.operation "PATCH" is not one of'],
    [review(request({ kind: 'IPAddressPool' })), 'request.kind.kind is missing'],
    [review(request({ object: undefined })), 'request.object is missing for CREATE'],
    [review(request({ operation: 'UPDATE', object: 'x' })), 'request.object is missing for UPDATE'],
  ])('rejects %j: %s', (body, message) => {
    const r = parseAdmissionReview(body);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });

  it('never throws, whatever JSON arrives (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(() => parseAdmissionReview(value)).not.toThrow();
        expect(() => parseAdmissionReview(review(value as Record<string, unknown>))).not.toThrow();
      }),
    );
  });
});

describe('decide', () => {
  const objects = { pools: [poolObject('db', ['203.0.113.128/25'])] as never[], advertisements: undefined };
  const parsed = (over: Record<string, unknown>) => {
    const r = parseAdmissionReview(review(request(over)));
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };

  it('validates pools on the pool path and advertisements on the advertisement path', () => {
    expect(decide('/validate-ipaddresspool', parsed({}), objects).allowed).toBe(false);
    const ad = parsed({ kind: { kind: 'L2Advertisement' }, object: { metadata: { name: 'a', namespace: NS }, spec: { ipAddressPools: ['nope'] } } });
    const v = decide('/validate-l2advertisement', ad, objects);
    expect(v.allowed).toBe(true);
    expect(v.warnings).toHaveLength(1);
  });

  it('refuses a kind sent to the wrong path, saying the configuration is wrong', () => {
    const v = decide('/validate-l2advertisement', parsed({}), objects);
    expect(v.allowed).toBe(false);
    expect(v.reasons[0]).toContain('validates L2Advertisement objects, not IPAddressPool');
  });

  it('refuses a new object outside the install namespace, and only warns about an edit of an existing one', () => {
    const object = { ...poolObject('web', ['203.0.113.0/24']), metadata: { name: 'web', namespace: 'default', creationTimestamp: '2025-01-01T00:00:00Z' } };
    const elsewhere = parsed({ namespace: 'default', object });
    expect(decide('/validate-ipaddresspool', elsewhere, objects, NS)).toEqual({
      allowed: false,
      reasons: ['Ballast reads IPAddressPools only from namespace ballast-system; this one in default would be ignored'],
      warnings: [],
    });
    const edit = decide('/validate-ipaddresspool', parsed({ namespace: 'default', operation: 'UPDATE', object }), objects, NS);
    expect(edit.allowed).toBe(true);
    expect(edit.warnings).toEqual(['Ballast reads IPAddressPools only from namespace ballast-system; this one in default would be ignored']);
    // Without an install namespace every namespace is validated on its own: "db" is in another one.
    expect(decide('/validate-ipaddresspool', elsewhere, objects).allowed).toBe(true);
  });

  it('allows DELETE and CONNECT without looking at the object', () => {
    expect(decide('/validate-ipaddresspool', parsed({ operation: 'DELETE', object: null }), objects).allowed).toBe(true);
  });

  it('answers every object shape with a verdict, never an exception (property)', () => {
    const field = fc.oneof(fc.anything(), fc.array(fc.anything()), fc.record({ priority: fc.anything(), namespaces: fc.anything(), namespaceSelectors: fc.anything(), serviceSelectors: fc.anything() }));
    const keys = ['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation', 'ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'interfaces', 'serviceSelectors'];
    const object = fc.record({
      metadata: fc.oneof(fc.anything(), fc.record({ name: fc.oneof(fc.string(), fc.anything()), namespace: fc.constant(NS), labels: fc.anything() })),
      spec: fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom(...keys), field)),
    });
    fc.assert(
      fc.property(object, fc.constantFrom('IPAddressPool', 'L2Advertisement'), fc.array(object, { maxLength: 3 }), (obj, kind, others) => {
        const route = kind === 'IPAddressPool' ? '/validate-ipaddresspool' : '/validate-l2advertisement';
        const v = decide(route, parsed({ kind: { kind }, object: obj }), { pools: others as never[], advertisements: others as never[] });
        expect(typeof v.allowed).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('survives a CREATE whose object is not shaped like a pool', () => {
    const v = decide('/validate-ipaddresspool', parsed({ object: { metadata: 7, spec: { addresses: [1, null] } } }), objects);
    expect(v.allowed).toBe(false);
    expect(v.reasons.join('\n')).toContain('spec.addresses[0]: must be a string');
  });
});

describe('admissionResponse', () => {
  it('answers an allowed object with its uid and warnings', () => {
    expect(admissionResponse('u', { allowed: true, reasons: [], warnings: ['careful'] })).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'u', allowed: true, warnings: ['careful'] },
    });
  });

  it('answers a refusal with a 422 status that carries every reason', () => {
    expect(admissionResponse('u', { allowed: false, reasons: ['a', 'b'], warnings: [] }).response).toEqual({
      uid: 'u',
      allowed: false,
      status: { code: 422, reason: 'Invalid', message: 'a; b' },
    });
  });
});
