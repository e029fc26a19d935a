// The membership and election protocol's model (speaker/liveness/model) is
// checked exhaustively by SPIN on every run: both properties must hold.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../lab/binaries.ts';

describe('the membership model (SPIN)', () => {
  it('converges to exactly one claimer once messages flow, and never lets two claim under an agreement', () => {
    const out = execFileSync(join(REPO_ROOT, 'speaker', 'liveness', 'model', 'check.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 900_000 });
    expect(out).toMatch(/converges holds/);
    expect(out).toMatch(/agreed_safe holds/);
  }, 900_000);
});
