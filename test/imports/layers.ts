// The import rules of docs/ARCHITECTURE.md ("Layers"), as code:
//   1. shared/ imports no program (controller/, speaker/, cli/);
//   2. controller/ and speaker/ never import each other;
//   3. cli/ imports only shared/ (and itself);
//   4. a pure core (allocator, election, codecs, config …) loads no I/O: at
//      run time it imports only other pure modules, and of Node's built-ins
//      only computations (hashes, endianness, IP syntax).
// Rules 1–3 count type imports too (a type from another program is a
// dependency on it all the same); rule 4 counts what Node loads at run time.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { init, parse } from 'es-module-lexer';

/** Modules of the programs and their shared code; tests and test support are not held to the rules. */
export const LAYERS = ['shared', 'controller', 'speaker', 'cli'] as const;
export type Layer = (typeof LAYERS)[number];

/** Test code and its support, by name: free to reach across layers (tests arrange the whole system). */
export const TEST_SUPPORT = [/\.test\.ts$/, /\.test-util\.ts$/, /\.bench\.ts$/, /(^|\/)test-[\w-]+\.ts$/, /(^|\/)lab\//, /(^|\/)fixtures\//];

/**
 * The pure cores: a folder (every module in it) or one file. speaker/l2 is
 * listed file by file: its codecs are pure, its socket modules
 * (packet-socket.ts, sysfs-interfaces.ts, announcer.ts, the index that
 * re-exports them) are the shell and are not listed.
 */
export const PURE_CORE = [
  'controller/allocator/',
  'controller/core/',
  'speaker/election/',
  'speaker/liveness/',
  'speaker/l2/announce-schedule.ts',
  'speaker/l2/arp.ts',
  'speaker/l2/counters.ts',
  'speaker/l2/decode-failure.ts',
  'speaker/l2/ethernet.ts',
  'speaker/l2/interface-filter.ts',
  'speaker/l2/ip-bytes.ts',
  'speaker/l2/ipv6.ts',
  'speaker/l2/ndp.ts',
  'speaker/l2/ownership.ts',
  'speaker/l2/packet-type.ts',
  'speaker/l2/responder.ts',
  'speaker/l2/socket-filters.ts',
  'shared/config/',
  'shared/api/',
  'shared/net/',
  'shared/labels/',
  'shared/result.ts',
] as const;

/** Node built-ins a pure module may use, and which of their exports: computations, no I/O, no clock, no randomness. */
export const PURE_BUILTINS: Readonly<Record<string, readonly string[]>> = {
  'node:crypto': ['hash', 'createHash', 'createHmac', 'createSecretKey', 'timingSafeEqual'],
  'node:os': ['endianness'],
  'node:net': ['isIP', 'isIPv4', 'isIPv6'],
};

export interface Import {
  /** Repository-relative path of the importing module. */
  readonly from: string;
  readonly specifier: string;
  /** Repository-relative path for a relative import, undefined for a package or built-in. */
  readonly target: string | undefined;
  /** The import statement as written, for messages and named-binding checks. */
  readonly statement: string;
  /** Present at run time (not erased as a type-only import). */
  readonly runTime: boolean;
}

export interface Violation {
  readonly rule: string;
  readonly from: string;
  readonly specifier: string;
}

/** Every .ts module of the layers under root that is not test code, repository-relative, sorted. */
export function programModules(root: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) => {
      const path = `${dir}/${d.name}`;
      if (d.isDirectory()) return d.name === 'node_modules' ? [] : walk(path);
      return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [path] : [];
    });
  return LAYERS.filter((l) => existsSync(join(root, l)))
    .flatMap((l) => walk(l))
    .filter((f) => !TEST_SUPPORT.some((re) => re.test(f)))
    .sort();
}

/** A module's imports, type-only ones included (flagged), found by a lexer on the type-stripped source. */
export async function importsOf(root: string, file: string): Promise<Import[]> {
  await init;
  const source = readFileSync(join(root, file), 'utf8');
  const runTime = new Set(lex(stripTypeScriptTypes(source, { mode: 'strip' }), file).map((i) => i.specifier));
  // `import type` and `export type … from` vanish in stripping; spelled as value imports they survive it.
  const withTypes = source.replace(/\bimport\s+type\s+(?=[\w*{])/g, 'import ').replace(/\bexport\s+type\s+(?=[*{])/g, 'export ');
  return lex(stripTypeScriptTypes(withTypes, { mode: 'strip' }), file).map(({ specifier, statement }) => ({
    from: file,
    specifier,
    statement,
    target: specifier.startsWith('.') ? relative(root, resolve(dirname(join(root, file)), specifier)).split(sep).join('/') : undefined,
    runTime: runTime.has(specifier),
  }));
}

function lex(js: string, file: string): Array<{ specifier: string; statement: string }> {
  const [imports] = parse(js, file);
  return imports.flatMap((imp) => (imp.t === 3 || imp.n === undefined ? [] : [{ specifier: imp.n, statement: js.slice(imp.ss, imp.se) }]));
}

export const layerOf = (path: string): Layer | undefined => LAYERS.find((l) => path.startsWith(`${l}/`));
export const isPure = (path: string): boolean => PURE_CORE.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));

/** Every import of the modules that breaks a rule. */
export async function checkLayers(root: string, modules: readonly string[]): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const file of modules) {
    const from = layerOf(file);
    for (const imp of await importsOf(root, file)) {
      const add = (rule: string): void => void violations.push({ rule, from: file, specifier: imp.specifier });
      const to = imp.target === undefined ? undefined : layerOf(imp.target);
      if (from === 'shared' && to !== undefined && to !== 'shared') add('shared/ imports no program');
      if ((from === 'controller' && to === 'speaker') || (from === 'speaker' && to === 'controller')) add('controller/ and speaker/ never import each other');
      if (from === 'cli' && imp.target !== undefined && to !== 'cli' && to !== 'shared') add('cli/ imports only shared/');
      if (isPure(file) && imp.runTime) {
        const why = impurity(imp);
        if (why) add(`pure core loads no I/O: ${why}`);
      }
    }
  }
  return violations;
}

/** Why a run-time import of a pure module is not pure, if it is not. */
function impurity(imp: Import): string | undefined {
  if (imp.target !== undefined) return isPure(imp.target) ? undefined : `${imp.target} is not a pure module`;
  const allowed = PURE_BUILTINS[imp.specifier.startsWith('node:') ? imp.specifier : `node:${imp.specifier}`];
  if (!allowed) return imp.specifier.startsWith('node:') ? `${imp.specifier} is I/O` : `package ${imp.specifier}`;
  const named = /^import\s*\{([^}]*)\}\s*from/.exec(imp.statement.trim());
  if (!named) return `${imp.specifier} imported whole; name the computations it uses`;
  const names = named[1]!.split(',').map((n) => n.trim().replace(/\s+as\s+\w+$/, '')).filter((n) => n !== '' && !n.startsWith('type '));
  const other = names.filter((n) => !allowed.includes(n));
  return other.length ? `${imp.specifier} { ${other.join(', ')} }` : undefined;
}
