// The IPAddressPool CRD's CEL rules on the real kube-apiserver (the lab's
// control plane has deploy/crds applied): pools that can never be valid are
// refused with the webhook off, and the API server and Ballast's parser
// (shared/config, which the webhook and controller use) refuse exactly the
// same entries for exactly the same reserved ranges.
import { describe, expect, inject, it } from 'vitest';
import fc from 'fast-check';
import * as k8s from '@kubernetes/client-node';
import { parsePool, RESERVED_RANGES } from '../../shared/config/index.ts';
import { formatIP, type Family } from '../../shared/net/index.ts';
import { kubeConfigFromHandle } from '../lab/index.ts';

const kc = kubeConfigFromHandle(inject('controlPlane'));
const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
// Dry runs only: nothing is stored, so the namespace need not exist… but it must for a namespaced create.
const NS = 'default';

/** Per entry index, the messages the API server gives for spec.addresses[i] (a server-side dry run). */
async function apiVerdicts(addresses: readonly string[]): Promise<Map<number, string[]>> {
  const pool = { apiVersion: 'ballast.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'cel-probe', namespace: NS }, spec: { addresses } };
  const byIndex = new Map<number, string[]>();
  try {
    await objects.create(pool, undefined, 'All');
  } catch (e) {
    const body = JSON.parse(String((e as { body?: unknown }).body)) as { details?: { causes?: Array<{ field?: string; message?: string }> }; message?: string };
    const causes = body.details?.causes ?? [];
    if (causes.length === 0) throw new Error(`refused without causes: ${body.message}`);
    for (const c of causes) {
      const index = /^spec\.addresses\[(\d+)\]$/.exec(c.field ?? '');
      if (!index) throw new Error(`refused for another reason: ${c.field}: ${c.message}`);
      // "Invalid value: \"…\": overlaps …"
      const message = (c.message ?? '').replace(/^Invalid value: "(?:[^"\\]|\\.)*": /, '');
      byIndex.set(Number(index[1]), [...(byIndex.get(Number(index[1])) ?? []), message]);
    }
  }
  return byIndex;
}

/** Per entry index, the parser's reserved-range refusals (the text after the entry's own quoted text). */
function parserVerdicts(addresses: readonly string[]): Map<number, string[]> {
  const byIndex = new Map<number, string[]>();
  addresses.forEach((address, i) => {
    const r = parsePool({ metadata: { name: 'p', namespace: NS, creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { addresses: [address] } });
    if (r.ok) return;
    byIndex.set(i, r.error.map((e) => e.message.replace(/^"[^"]*" /, '')));
  });
  return byIndex;
}

const reservedOnly = (m: Map<number, string[]>): Map<number, string[]> =>
  new Map([...m].map(([i, ms]) => [i, ms.filter((x) => x.startsWith('overlaps ')).sort()] as const).filter(([, ms]) => ms.length > 0));

describe('IPAddressPool CRD rules on the real API server', () => {
  it('refuse the pools that can never be valid, naming the range and why', async () => {
    const refused = ['0.0.0.0/0', '::/0', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', 'ff00::/8', 'fe80::/64', '255.255.255.255/32', '0.0.0.0/8', '126.0.0.1-128.0.0.1', 'fe7f::1-febf::1', '::-::1'];
    const accepted = ['198.51.100.0/24', '203.0.113.10-203.0.113.20', '2001:db8::/64', '2001:db8:1::1-2001:db8:1::ff', '1.0.0.0-126.255.255.255', 'fc00:f853:ccd:e799::/124'];
    const api = await apiVerdicts([...refused, ...accepted]);
    expect([...api.keys()].sort((a, b) => a - b)).toEqual(refused.map((_, i) => i));
    expect(api.get(0)).toContain('overlaps 0.0.0.0/8, "this network": 0.0.0.0 is the unspecified address and none of it is ever a destination (RFC 1122)');
    expect(api.get(1)).toContain('overlaps ::/128, the unspecified address: "no address" (RFC 4291)');
    expect(api.get(6)).toEqual(['overlaps fe80::/10, link-local: valid on one link only, every interface has its own (RFC 4291)']);
    expect(api.get(7)).toContain('overlaps 255.255.255.255/32, the limited broadcast address: every host on the link (RFC 919)');
    expect(reservedOnly(api)).toEqual(reservedOnly(parserVerdicts([...refused, ...accepted])));
  });

  it('and the parser refuse the same entries for the same ranges, across every boundary of every range (property)', async () => {
    // Addresses at and next to each reserved range's ends, and anywhere else.
    const edge = (family: Family): fc.Arbitrary<bigint> => {
      const max = (1n << (family === 4 ? 32n : 128n)) - 1n;
      const edges = RESERVED_RANGES.filter((r) => r.family === family).flatMap((r) => [r.first - 1n, r.first, r.last, r.last + 1n]).filter((x) => x >= 0n && x <= max);
      return fc.oneof(fc.constantFrom(...edges), fc.bigInt({ min: 0n, max }));
    };
    const entry = fc.constantFrom<Family>(4, 6).chain((family) =>
      fc.oneof(
        fc.tuple(edge(family), edge(family)).map(([a, b]) => (a <= b ? [a, b] : [b, a])).map(([a, b]) => `${formatIP(family, a!)}-${formatIP(family, b!)}`),
        fc.tuple(edge(family), fc.integer({ min: 0, max: family === 4 ? 32 : 128 })).map(([a, prefix]) => {
          const host = (1n << BigInt((family === 4 ? 32 : 128) - prefix)) - 1n;
          return `${formatIP(family, a & ~host)}/${prefix}`;
        }),
      ),
    );
    // One dry run per 400 distinct entries (the list is a set), a fixed seed so a failure repeats.
    const samples = [...new Set(fc.sample(entry, { numRuns: 1600, seed: 20261202 }))];
    for (let i = 0; i < samples.length; i += 400) {
      const batch = samples.slice(i, i + 400);
      const apiAll = await apiVerdicts(batch);
      const parserAll = parserVerdicts(batch);
      const api = reservedOnly(apiAll);
      const parser = reservedOnly(parserAll);
      // Refused by both or by neither; where both name reserved ranges, the same ones. (An end that is
      // itself IPv4-mapped is refused by both as malformed before any range is looked at.)
      const differ = batch.flatMap((text, j) =>
        apiAll.has(j) === parserAll.has(j) && JSON.stringify(api.get(j)) === JSON.stringify(parser.get(j))
          ? []
          : [`${text}: API ${JSON.stringify(apiAll.get(j))}, parser ${JSON.stringify(parserAll.get(j))}`],
      );
      expect(differ).toEqual([]);
      // The batches reach both answers, so agreement means something.
      expect(api.size).toBeGreaterThan(20);
      expect(api.size).toBeLessThan(batch.length);
    }
  });
});
