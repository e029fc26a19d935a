// The image carries the one-file CLI as /usr/local/bin/ballast (so that
// `kubectl -n ballast-system exec deploy/ballast-controller -- ballast status`
// works). Without Docker here, this replays the Dockerfile's build stage as far
// as the CLI goes: only what its COPY lines bring, then its RUN line.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../../scripts/build-js.ts';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const [buildStage = '', finalStage = ''] = dockerfile.split(/^FROM .*$/m).slice(1);
// The build context: .dockerignore leaves out everything but what it names with "!".
const inContext = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
const dir = mkdtempSync(join(tmpdir(), 'ballast-docker-stage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Dockerfile: the ballast command in the image', () => {
  it('is built in the build stage from what that stage copies, and lands on PATH in the final image', () => {
    const run = /^RUN (node scripts\/build-cli\.ts --out (\S+))$/m.exec(buildStage);
    expect(run, 'a RUN node scripts/build-cli.ts --out FILE line in the build stage').not.toBeNull();
    expect(finalStage).toContain(`COPY --from=build ${run![2]} /usr/local/bin/ballast`);
    // The build stage's sources, as its COPY lines name them (node_modules as npm ci left it).
    const src = join(dir, 'src');
    mkdirSync(src);
    for (const m of buildStage.matchAll(/^COPY (?!--)(.+)$/gm)) {
      const parts = m[1]!.trim().split(/\s+/);
      const to = parts.pop()!;
      for (const from of parts) {
        expect(inContext.some((c) => from === c || from.startsWith(`${c}/`)), `${from} is in the build context (.dockerignore)`).toBe(true);
        const target = to.endsWith('/') || to === './' || parts.length > 1 ? join(src, to, from.split('/').pop()!) : join(src, to);
        mkdirSync(dirname(target), { recursive: true });
        cpSync(join(ROOT, from), target, { recursive: true });
      }
    }
    symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
    const out = join(dir, 'cli', 'ballast');
    const built = spawnSync(process.execPath, [...run![1]!.split(' ').slice(1, -1), out], { cwd: src, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    const help = spawnSync(out, ['--help'], { cwd: dir, encoding: 'utf8', env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` } });
    expect(help.stdout).toContain('Usage: ballast');
  });
});
