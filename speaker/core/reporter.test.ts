import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reporterFor } from './reporter.ts';

describe('reporterFor', () => {
  it('is the live speaker with the lowest sha256(node#service)', () => {
    const nodes = ['node-a', 'node-b', 'node-c'];
    const score = (n: string) => createHash('sha256').update(`${n}#shop/web`).digest('hex');
    const expected = [...nodes].sort((a, b) => (score(a) < score(b) ? -1 : 1))[0];
    expect(reporterFor('shop/web', nodes)).toBe(expected);
    expect(reporterFor('shop/web', [])).toBeUndefined();
  });

  it('agrees whatever the order, and moves only when the reporter itself dies', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), { minLength: 2, maxLength: 8 }), fc.string(), (nodes, service) => {
        const reporter = reporterFor(service, nodes)!;
        expect(reporterFor(service, [...nodes].reverse())).toBe(reporter);
        const other = nodes.find((n) => n !== reporter)!;
        expect(reporterFor(service, nodes.filter((n) => n !== other))).toBe(reporter);
      }),
    );
  });
});
