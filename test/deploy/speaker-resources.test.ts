// The speaker DaemonSet's memory request and limit against what
// bench/speaker-resources.ts measured (docs/benchmarks.md, "Speaker requests
// and limits"): the request covers a speaker's steady RSS at 1 000 IPs, the
// limit leaves half again the highest peak measured (a burst of 1 000 new
// Services), so the kubelet never kills a speaker for doing its job.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../lab/index.ts';
import { CHART_DIR, DEPLOY_DIR } from './tools.ts';

/** "160Mi" → MiB. */
function mebibytes(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`write memory as Mi or Gi, not ${quantity}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/** The rows of the section's table: measure → MiB. */
function measured(): Map<string, number> {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'benchmarks.md'), 'utf8');
  const start = doc.indexOf('## Speaker requests and limits');
  expect(start, 'docs/benchmarks.md has a "Speaker requests and limits" section').toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const rows = new Map<string, number>();
  for (const m of section.matchAll(/^\| ([^|]+?) \| ([\d.]+) \| MiB \|/gm)) rows.set(m[1]!, Number(m[2]));
  return rows;
}

type Resources = { requests: { memory: string }; limits: { memory: string } };

describe('speaker memory request and limit', () => {
  const rows = measured();
  const steady = rows.get('1 000 IPs, started with them: RSS median');
  const peak = Math.max(...[...rows].filter(([name]) => name.includes('peak')).map(([, v]) => v));

  it('come from the measurements at 1 and 1 000 IPs in docs/benchmarks.md', () => {
    expect(steady).toBeDefined();
    expect(rows.get('1 IP: RSS median')).toBeDefined();
    expect(Number.isFinite(peak)).toBe(true);
  });

  const daemonSet = readFileSync(join(DEPLOY_DIR, 'speaker', 'daemonset.yaml'), 'utf8');
  const kustomize = (load(daemonSet) as { spec: { template: { spec: { containers: Array<{ resources: Resources }> } } } }).spec.template.spec.containers[0]!.resources;
  const helm = (load(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as { speaker: { resources: Resources } }).speaker.resources;

  it.each([
    ['deploy/speaker/daemonset.yaml', kustomize],
    ['the Helm chart default', helm],
  ])('%s requests the steady RSS at 1 000 IPs and limits at 1.5 × the highest peak', (_, r) => {
    expect(mebibytes(r.requests.memory)).toBeGreaterThanOrEqual(steady!);
    expect(mebibytes(r.limits.memory)).toBeGreaterThanOrEqual(1.5 * peak);
    // Not wildly more either: every node pays the request.
    expect(mebibytes(r.requests.memory)).toBeLessThan(steady! + 64);
  });
});
