// Builds the `ballast` command line as one file that needs nothing but Node.js:
// cli/ballast.ts and everything it imports (Ballast's modules and the npm
// packages) bundled by esbuild into a single ES module with a `#!/usr/bin/env
// node` line. Put it on PATH as `kubectl-ballast` and `kubectl ballast status`
// works, the way kubectl plugins are installed; the image carries it as
// /usr/local/bin/ballast.
//
//   node scripts/build-cli.ts [--out FILE]     default dist/kubectl-ballast
//
// Runs on Node.js ≥ 20.19 / 22.12 (ES module syntax in an extension-less file
// is detected there), which covers every Node.js line still supported.
import { build, type Plugin } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_ENTRY = join(ROOT, 'cli', 'ballast.ts');
/** The oldest Node.js syntax the bundle may use. */
export const CLI_NODE_TARGET = 'node20';

/**
 * Modules that load CommonJS files through createRequire, to load a package
 * only when needed (`createRequire(import.meta.url)('pkg')`) or to reach files
 * that are not in a package's exports (`const require =
 * createRequire(import.meta.url); require('pkg/lib/x')`), hide them from the
 * bundler. Rewritten to the plain `require('pkg')` that esbuild bundles; a
 * lazy call still runs only when reached. A test runs the bundle where no
 * node_modules can be found, so a form this misses fails there.
 */
const lazyRequires: Plugin = {
  name: 'lazy-requires',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const contents = source
        .replace(/^\s*const require = createRequire\(import\.meta\.url\);\s*$/m, '')
        .replace(/\bcreateRequire\(import\.meta\.url\)\(/g, 'require(');
      return { contents, loader: 'ts' };
    });
  },
};

export interface CliBuild {
  readonly file: string;
  readonly bytes: number;
}

export async function buildCli(out: string): Promise<CliBuild> {
  const file = resolve(out);
  mkdirSync(dirname(file), { recursive: true });
  await build({
    entryPoints: [CLI_ENTRY],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: CLI_NODE_TARGET,
    minify: true,
    legalComments: 'inline',
    logLevel: 'warning',
    plugins: [lazyRequires],
    // CommonJS packages inside an ES module bundle call require() for Node's built-ins.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __ballastRequire } from 'node:module';\nconst require = __ballastRequire(import.meta.url);" },
  });
  chmodSync(file, 0o755);
  return { file, bytes: statSync(file).size };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(ROOT, 'dist', 'kubectl-ballast') } } });
  const { file, bytes } = await buildCli(values.out);
  console.error(`build-cli: ${file} (${(bytes / 1024).toFixed(0)} KiB)`);
}
