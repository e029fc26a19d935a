// The one-file `ballast` command line (scripts/build-cli.ts), tested as a user
// gets it: copied alone into an empty directory, away from the repository's
// node_modules, and run by Node.js. kubectl-plugin.lab.test.ts runs it as
// `kubectl ballast status` against the lab's API server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { buildCli } from '../../scripts/build-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'ballast-cli-bundle-'));
const plugin = join(dir, 'kubectl-ballast');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  const built = await buildCli(join(dir, 'build', 'kubectl-ballast'));
  copyFileSync(built.file, plugin);
  rmSync(join(dir, 'build'), { recursive: true });
}, 60_000);

/**
 * The project's Node.js, and the machine's own when it is another (Node 20 on
 * these machines, older than any line the bundle promises to run on).
 */
function nodes(): string[] {
  const found = [process.execPath];
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate)) continue;
    const major = execFileSync(candidate, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim();
    if (major !== process.versions.node.split('.')[0] && !found.some((f) => f === candidate)) found.push(candidate);
  }
  return found;
}

const METALLB = 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: lan, namespace: metallb-system}\nspec: {addresses: ["198.51.100.77/28"]}\n---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: lan, namespace: metallb-system}\n';

describe('the kubectl-ballast bundle', () => {
  it('is one executable file that starts with #!/usr/bin/env node and imports nothing from outside Node.js', () => {
    expect(statSync(plugin).mode & 0o111).toBe(0o111);
    const text = readFileSync(plugin, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    const imports = [...text.matchAll(/\bfrom\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\)|\brequire\(\s*"([^"]+)"\)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((s) => !s!.startsWith('node:') && !builtinModules.includes(s!))).toEqual([]);
  });

  it.each(nodes())('runs alone, away from any node_modules, on %s: help, and convert-metallb from stdin', (node) => {
    const env = { PATH: `${join(node, '..')}:/usr/bin:/bin`, HOME: dir };
    const help = spawnSync(plugin, ['--help'], { cwd: dir, env, encoding: 'utf8' });
    expect(help.stderr).toBe('');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: ballast <command>');
    const converted = spawnSync(plugin, ['convert-metallb', '-'], { cwd: dir, env, input: METALLB, encoding: 'utf8' });
    expect(converted.status).toBe(0);
    expect(converted.stdout).toContain('kind: IPAddressPool');
    expect(converted.stdout).toContain('- 198.51.100.64/28');
    expect(converted.stderr).toContain('"198.51.100.77/28" written as 198.51.100.64/28');
    // Reading a kubeconfig (YAML) works too: this one names no server, so it fails, but after parsing it.
    const status = spawnSync(plugin, ['status', '--kubeconfig', '/dev/null'], { cwd: dir, env, encoding: 'utf8' });
    expect(status.status).toBe(2);
    expect(status.stderr).toMatch(/^ballast status: /);
    expect(status.stderr).not.toMatch(/Cannot find (module|package)/);
  });
});
