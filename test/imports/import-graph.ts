// Which modules a program loads at run time, read from the sources the way
// Node runs them: types stripped first (node:module's stripTypeScriptTypes,
// the same transform Node applies), then every import that is left, static or
// dynamic, found by a real lexer (es-module-lexer: comments, strings and
// template literals cannot fool it). `import type` vanishes in stripping;
// `import { type X } from 'p'` does not: it becomes `import {} from 'p'`,
// which loads p (verbatimModuleSyntax keeps it too).
import { readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { init, parse } from 'es-module-lexer';

/** One import as Node will perform it. */
export interface RunTimeImport {
  /** Absolute path of the importing module. */
  readonly from: string;
  readonly specifier: string;
  readonly dynamic: boolean;
}

export interface ImportGraph {
  /** Every repository module reached (absolute paths), with the import that first reached it (undefined for entries). */
  readonly modules: ReadonlyMap<string, RunTimeImport | undefined>;
  /** Imports of packages (bare specifiers other than node: builtins). */
  readonly packageImports: readonly RunTimeImport[];
  /** Dynamic imports whose specifier is not a string literal: the graph cannot say where they lead. */
  readonly opaque: readonly RunTimeImport[];
}

/** The run-time import graph of these entry modules (absolute paths), following relative imports only. */
export async function runTimeImports(entries: readonly string[]): Promise<ImportGraph> {
  await init;
  const modules = new Map<string, RunTimeImport | undefined>();
  const packageImports: RunTimeImport[] = [];
  const opaque: RunTimeImport[] = [];
  const queue = [...entries];
  for (const e of entries) modules.set(e, undefined);
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const source = readFileSync(file, 'utf8');
    const js = file.endsWith('.ts') ? stripTypeScriptTypes(source, { mode: 'strip' }) : source;
    const [imports] = parse(js, file);
    for (const imp of imports) {
      if (imp.t === 3) continue; // import.meta
      const dynamic = imp.d > -1;
      if (imp.n === undefined) {
        opaque.push({ from: file, specifier: js.slice(imp.s, imp.e), dynamic });
        continue;
      }
      const edge = { from: file, specifier: imp.n, dynamic };
      if (imp.n.startsWith('node:')) continue;
      if (!imp.n.startsWith('.') && !imp.n.startsWith('/')) {
        packageImports.push(edge);
        continue;
      }
      const target = resolve(dirname(file), imp.n);
      if (!modules.has(target)) {
        modules.set(target, edge);
        queue.push(target);
      }
    }
  }
  return { modules, packageImports, opaque };
}

/** The package a specifier names (`@scope/name` or `name`, without a subpath). */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

/** How an import is reached from an entry: `controller/main.ts → shared/k8s/index.ts → … → '@kubernetes/client-node'`. */
export function importChain(graph: ImportGraph, imp: RunTimeImport, root: string): string {
  const chain = [`'${imp.specifier}'${imp.dynamic ? ' (dynamic)' : ''}`];
  for (let at: string | undefined = imp.from; at !== undefined; at = graph.modules.get(at)?.from) chain.unshift(relative(root, at));
  return chain.join(' → ');
}
