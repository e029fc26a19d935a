// The layer rules (layers.ts, docs/ARCHITECTURE.md "Layers") on this
// repository, and on a small tree that breaks each of them, so that an empty
// answer on the repository means the rules looked.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/build-js.ts';
import { checkLayers, isPure, PURE_CORE, programModules } from './layers.ts';

describe('import rules on this repository', () => {
  const modules = programModules(ROOT);

  it('hold: shared/ imports no program, controller/ and speaker/ not each other, cli/ only shared/, pure cores no I/O', async () => {
    expect(await checkLayers(ROOT, modules)).toEqual([]);
  });

  it('look at what they should: every listed pure core exists, tests are left out, the socket modules are not pure', () => {
    for (const entry of PURE_CORE) expect(existsSync(join(ROOT, entry)), `${entry} is listed in PURE_CORE but does not exist; update the list`).toBe(true);
    for (const m of ['controller/allocator/allocator.ts', 'speaker/election/elect.ts', 'speaker/l2/arp.ts', 'speaker/l2/ndp.ts', 'shared/config/pool.ts', 'cli/status/analyze.ts', 'controller/main.ts']) {
      expect(modules, m).toContain(m);
    }
    expect(modules.filter((m) => m.endsWith('.test.ts') || m.includes('/lab/'))).toEqual([]);
    for (const m of ['speaker/l2/packet-socket.ts', 'speaker/l2/sysfs-interfaces.ts', 'speaker/l2/announcer.ts', 'speaker/l2/index.ts']) expect(isPure(m), m).toBe(false);
    expect(isPure('speaker/l2/socket-filters.ts')).toBe(true);
  });
});

describe('import rules on a tree that breaks each of them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'layers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
    return name;
  };

  it('names each broken rule, type imports included where they count', async () => {
    const modules = [
      file('shared/config/bad.ts', "import type { X } from '../../controller/core/x.ts';\nimport { readFileSync } from 'node:fs';\nexport const y: X = readFileSync;\n"),
      file('shared/config/good.ts', "import { hash } from 'node:crypto';\nimport { isIPv6 } from 'node:net';\nexport const h = [hash, isIPv6];\n"),
      file('controller/core/x.ts', "export type X = unknown;\nimport { e } from '../../speaker/election/e.ts';\nexport const x = e;\n"),
      file('speaker/election/e.ts', "export type { X } from '../../controller/core/x.ts';\nimport * as crypto from 'node:crypto';\nimport { randomBytes } from 'node:crypto';\nexport const e = [crypto, randomBytes];\n"),
      file('speaker/l2/arp.ts', "import { open } from './packet-socket.ts';\nexport const a = open;\n"),
      file('speaker/l2/packet-socket.ts', "import { createSocket } from 'node:dgram';\nexport const open = createSocket;\n"),
      file('cli/status/analyze.ts', "import { validate } from '../../controller/webhook/index.ts';\nimport { e } from '../../speaker/election/e.ts';\nimport { p } from '../../shared/config/good.ts';\nimport pino from 'pino';\nexport const z = [validate, e, p, pino];\n"),
      file('controller/allocator/a.ts', "import pino from 'pino';\nimport { sleep } from '../shell/timers.ts';\nexport const q = [pino, sleep];\n"),
    ];
    const found = (await checkLayers(dir, modules)).map((v) => `${v.from} → ${v.specifier}: ${v.rule}`);
    expect(found.sort()).toEqual(
      [
        'shared/config/bad.ts → ../../controller/core/x.ts: shared/ imports no program',
        'shared/config/bad.ts → node:fs: pure core loads no I/O: node:fs is I/O',
        'controller/core/x.ts → ../../speaker/election/e.ts: controller/ and speaker/ never import each other',
        'speaker/election/e.ts → ../../controller/core/x.ts: controller/ and speaker/ never import each other',
        'speaker/election/e.ts → node:crypto: pure core loads no I/O: node:crypto imported whole; name the computations it uses',
        'speaker/election/e.ts → node:crypto: pure core loads no I/O: node:crypto { randomBytes }',
        'speaker/l2/arp.ts → ./packet-socket.ts: pure core loads no I/O: speaker/l2/packet-socket.ts is not a pure module',
        'cli/status/analyze.ts → ../../controller/webhook/index.ts: cli/ imports only shared/',
        'cli/status/analyze.ts → ../../speaker/election/e.ts: cli/ imports only shared/',
        'controller/allocator/a.ts → pino: pure core loads no I/O: package pino',
        'controller/allocator/a.ts → ../shell/timers.ts: pure core loads no I/O: controller/shell/timers.ts is not a pure module',
      ].sort(),
    );
  });
});
