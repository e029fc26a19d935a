import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importChain, packageName, runTimeImports } from './import-graph.ts';

const dir = mkdtempSync(join(tmpdir(), 'import-graph-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
};

describe('runTimeImports', () => {
  it('follows what Node loads: values, side effects, re-exports, dynamic imports; not types, comments or strings', async () => {
    const entry = file(
      'main.ts',
      `import type { A } from 'types-only';
import { type B } from 'empty-import-still-loads';
import * as sub from './lib/sub.ts';
export { c } from './lib/c.ts';
// import x from 'in-a-comment'
const s: string = "import('in-a-string')";
const t = \`import y from 'in-a-template'\`;
if (process.env.X) await import('./lib/lazy.ts');
await import(process.env.Y!);
const a: A | undefined = undefined;
console.log(sub, s, t, a, import.meta.url);
`,
    );
    file('lib/sub.ts', "import 'side-effect';\nexport const n: number = 1;\n");
    file('lib/c.ts', "export type { T } from 'type-reexport';\nexport const c = 1;\n");
    file('lib/lazy.ts', "import { v } from '@scope/pkg/deep/path.js';\nimport { readFileSync } from 'node:fs';\nexport const w = [v, readFileSync];\n");
    file('lib/unreached.ts', "import 'never';\n");

    const g = await runTimeImports([entry]);
    expect([...g.modules.keys()].map((m) => m.slice(dir.length + 1)).sort()).toEqual(['lib/c.ts', 'lib/lazy.ts', 'lib/sub.ts', 'main.ts']);
    expect(g.packageImports.map((i) => [packageName(i.specifier), i.dynamic])).toEqual([
      ['empty-import-still-loads', false],
      ['side-effect', false],
      ['@scope/pkg', false],
    ]);
    expect(g.opaque.map((i) => [i.specifier.trim(), i.dynamic])).toEqual([['process.env.Y', true]]); // the ! is stripped
    const deep = g.packageImports.find((i) => i.specifier.startsWith('@scope'))!;
    expect(importChain(g, deep, dir)).toBe("main.ts → lib/lazy.ts → '@scope/pkg/deep/path.js'");
  });
});
