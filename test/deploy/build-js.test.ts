// scripts/build-js.ts, the image's JavaScript build, run here into a temp dir:
// the output must load with type stripping switched off, and hold only what
// the entry points import.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROGRAMS, ROOT, buildJs, defaultEntries, type BuildResult } from '../../scripts/build-js.ts';
import { capture } from './tools.ts';

const importWithoutStripping = (file: string, expr: string) =>
  capture([process.execPath, '--no-experimental-strip-types', '--input-type=module', '-e', `const m = await import(${JSON.stringify(file)}); console.log(JSON.stringify(${expr}));`]);

describe('scripts/build-js.ts', () => {
  let dir: string;
  let result: BuildResult;
  const entries = ['shared/net/index.ts', 'speaker/l2/index.ts', ...defaultEntries()];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ballast-build-js-test-'));
    result = buildJs({ outDir: join(dir, 'app'), entries });
    // The image brings a pruned node_modules beside the output; here, the checkout's.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'app', 'node_modules'));
  }, 60_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('emits .js for the entries and what they import, and nothing else', () => {
    expect(result.files).toContain('shared/net/index.js');
    expect(result.files).toContain('shared/net/address.js');
    expect(result.files).toContain('shared/result.js');
    expect(result.files).toContain('speaker/l2/packet-socket.js');
    expect(result.files.filter((f) => /\.test\.js$|\.bench\.js$|fixtures|\/lab\//.test(f))).toEqual([]);
    // speaker/l2 does not import the allocator.
    expect(result.files.some((f) => f.startsWith('controller/'))).toBe(defaultEntries().some((e) => e.startsWith('controller/')));
    for (const f of result.files) expect(readFileSync(join(result.outDir, f), 'utf8'), f).not.toMatch(/from '\.{1,2}\/[^']*\.ts'/);
  });

  it.each(PROGRAMS)('builds %s into its .js when the program exists', (program) => {
    if (!existsSync(join(ROOT, program))) {
      expect(defaultEntries()).not.toContain(program);
      return;
    }
    expect(result.files).toContain(program.replace(/\.ts$/, '.js'));
  });

  it('output imports with type stripping off, as ES modules, and works', async () => {
    const r = await importWithoutStripping(join(result.outDir, 'shared', 'net', 'index.js'), "m.parseIP('2001:db8::7').value.text");
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toBe('2001:db8::7');
    const l2 = await importWithoutStripping(join(result.outDir, 'speaker', 'l2', 'index.js'), "typeof m.L2Announcer");
    expect(l2.stderr).toBe('');
    expect(JSON.parse(l2.stdout)).toBe('function');
    expect(JSON.parse(readFileSync(join(result.outDir, 'package.json'), 'utf8'))).toMatchObject({ type: 'module' });
  });

  it('the same import of the sources fails with type stripping off, so the check above means something', async () => {
    const r = await importWithoutStripping(join(ROOT, 'shared', 'net', 'index.ts'), '1');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ERR_UNKNOWN_FILE_EXTENSION|Unknown file extension/);
  });

  it('puts the native addon where speaker/l2/packet-socket.js loads it from', () => {
    const source = readFileSync(join(result.outDir, 'speaker', 'l2', 'packet-socket.js'), 'utf8');
    const rel = /'(\.\.\/\.\.\/build\/Release\/[^']+\.node)'/.exec(source)?.[1];
    expect(rel).toBeDefined();
    expect(existsSync(join(result.outDir, 'speaker', 'l2', rel!))).toBe(existsSync(join(ROOT, 'build', 'Release', 'ballast_packet.node')));
  });

  it('fails on a type error and names it, writing nothing usable', () => {
    // A throwaway source tree with the checkout's config and toolchain.
    const root = join(dir, 'tree');
    mkdirSync(root);
    for (const f of ['tsconfig.json', 'package.json']) copyFileSync(join(ROOT, f), join(root, f));
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    writeFileSync(join(root, 'bad.ts'), "export const n: number = 'not a number';\n");
    expect(() => buildJs({ root, outDir: join(dir, 'bad-out'), entries: ['bad.ts'] })).toThrow(/TS2322/);
    expect(existsSync(join(dir, 'bad-out', 'bad.js'))).toBe(false);
    writeFileSync(join(root, 'bad.ts'), 'export const n: number = 1;\n');
    expect(buildJs({ root, outDir: join(dir, 'bad-out'), entries: ['bad.ts'] }).files).toEqual(['bad.js']);
  });

  it('refuses a missing entry', () => {
    expect(() => buildJs({ outDir: join(dir, 'none'), entries: ['no/such/main.ts'] })).toThrow(/does not exist/);
  });
});
