// Builds the JavaScript the container image runs: the TypeScript sources the
// entry points reach, emitted by tsc as .js with relative `.ts` imports
// rewritten to `.js` (rewriteRelativeImportExtensions), so Node runs them
// without type stripping (which costs the speaker ~35 MB RSS at run time).
//
//   node scripts/build-js.ts [--out DIR] [ENTRY.ts ...]
//
// Entries (relative to the repository root) default to the programs that
// exist, controller/main.ts and speaker/main.ts; only modules they import are built, so
// tests and their fixtures never reach the image. The output mirrors the
// source tree (DIR/controller/main.js, DIR/shared/…), with a package.json that
// makes the .js files ES modules and the native addon under DIR/build/Release,
// where speaker/l2/packet-socket.ts looks for it. node_modules is not copied:
// the Dockerfile brings the pruned one. Type errors fail the build.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The programs the image runs, relative to the repository root. */
export const PROGRAMS = ['controller/main.ts', 'speaker/main.ts'] as const;

export interface BuildOptions {
  /** Repository root (default: this checkout). */
  root?: string;
  outDir: string;
  /** Entry modules, relative to root or absolute (default: the PROGRAMS that exist). */
  entries?: readonly string[];
}

export interface BuildResult {
  outDir: string;
  /** Emitted .js files, relative to outDir. */
  files: string[];
}

export function defaultEntries(root: string = ROOT): string[] {
  return PROGRAMS.filter((p) => existsSync(join(root, p)));
}

export function buildJs(opts: BuildOptions): BuildResult {
  const root = resolve(opts.root ?? ROOT);
  const outDir = resolve(opts.outDir);
  const entries = (opts.entries ?? defaultEntries(root)).map((e) => (isAbsolute(e) ? e : join(root, e)));
  if (entries.length === 0) throw new Error(`build-js: no entry points: none of ${PROGRAMS.join(', ')} exists under ${root}`);
  for (const e of entries) if (!existsSync(e)) throw new Error(`build-js: entry ${e} does not exist`);

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'ballast-build-js-'));
  try {
    const tsconfig = join(tmp, 'tsconfig.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: join(root, 'tsconfig.json'),
        compilerOptions: {
          noEmit: false,
          noEmitOnError: true,
          rootDir: root,
          outDir,
          rewriteRelativeImportExtensions: true,
          // The config lives outside the checkout, so point tsc at its types.
          typeRoots: [join(root, 'node_modules', '@types')],
          declaration: false,
          sourceMap: false,
          incremental: false,
        },
        files: entries,
        include: [],
      }),
    );
    const tsc = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], { encoding: 'utf8' });
    if (tsc.error) throw new Error(`build-js: cannot run tsc: ${tsc.error.message}`);
    if (tsc.status !== 0) throw new Error(`build-js: tsc failed (exit ${tsc.status}):\n${tsc.stdout}${tsc.stderr}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
  writeFileSync(
    join(outDir, 'package.json'),
    `${JSON.stringify({ name: pkg.name, version: pkg.version, private: true, license: pkg.license, type: 'module' }, null, 2)}\n`,
  );
  const addons = join(root, 'build', 'Release');
  if (existsSync(addons)) {
    for (const f of readdirSync(addons).filter((f) => f.endsWith('.node'))) {
      mkdirSync(join(outDir, 'build', 'Release'), { recursive: true });
      copyFileSync(join(addons, f), join(outDir, 'build', 'Release', f));
    }
  }
  return { outDir, files: listJs(outDir).map((f) => relative(outDir, f)).sort() };
}

function listJs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return listJs(path);
    return d.name.endsWith('.js') ? [path] : [];
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ options: { out: { type: 'string', default: join(ROOT, 'dist') } }, allowPositionals: true });
  try {
    const result = buildJs({ outDir: values.out, ...(positionals.length ? { entries: positionals } : {}) });
    console.error(`build-js: ${result.files.length} modules in ${result.outDir}`);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
