// The CRD's reserved-range rules are generated from the parser's table
// (scripts/crd-rules.ts); the lab test crd-rules.lab.test.ts checks what the
// API server makes of them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cover, POOL_CRD, reservedRangeRules, withGeneratedRules } from '../../scripts/crd-rules.ts';
import { RESERVED_RANGES } from '../../shared/config/index.ts';
import type { Family } from '../../shared/net/index.ts';

describe('scripts/crd-rules.ts', () => {
  it('deploy/crds/ipaddresspools.yaml holds exactly the rules it generates (run node scripts/crd-rules.ts, then deploy/render.sh)', () => {
    const crd = readFileSync(POOL_CRD, 'utf8');
    expect(withGeneratedRules(crd)).toBe(crd);
    const rules = reservedRangeRules();
    expect(rules).toHaveLength(RESERVED_RANGES.length);
    for (const { rule, message } of rules) expect(crd).toContain(`- rule: ${JSON.stringify(rule)}\n${' '.repeat(22)}  message: ${JSON.stringify(message)}`);
  });

  it('covers [lo, hi] with the fewest aligned CIDRs, exactly (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom<Family>(4, 6), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.bigInt({ min: 0n, max: 1n << 40n }), (family, a, span) => {
        const max = (1n << (family === 4 ? 32n : 128n)) - 1n;
        const lo = a % (max + 1n);
        const hi = lo + span > max ? max : lo + span;
        const blocks = cover(family, lo, hi);
        let next = lo;
        for (const b of blocks) {
          const size = 1n << BigInt((family === 4 ? 32 : 128) - b.prefix);
          expect(b.network).toBe(next);
          expect(b.network % size).toBe(0n);
          // Fewest: no block could have been twice as large.
          const double = size * 2n;
          expect(b.network % double !== 0n || b.network + double - 1n > hi).toBe(true);
          next = b.network + size;
        }
        expect(next - 1n).toBe(hi);
      }),
    );
  });
});
