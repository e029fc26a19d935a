// A short libFuzzer run over the packet addon's frame path on every test run
// (speaker/l2/native/fuzz); the longer run is documented in docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../lab/binaries.ts';

const SECONDS = Number(process.env.BALLAST_FUZZ_SECONDS ?? 30);

describe('the addon frame path (libFuzzer)', () => {
  it(`survives ${SECONDS} s of fuzzing with AddressSanitizer and UBSan`, () => {
    const out = execFileSync(join(REPO_ROOT, 'speaker', 'l2', 'native', 'fuzz', 'run.sh'), [String(SECONDS)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: (SECONDS + 120) * 1000 });
    expect(out).toMatch(/^Done \d+ runs/m);
  }, (SECONDS + 180) * 1000);
});
