// Nothing the controller, the speaker or the CLI runs may load
// @kubernetes/client-node: importing any of it costs ~80 MB RSS (all its
// generated API clients, undici, proxy agents), the speaker's whole budget
// (DESIGN §5; shared/k8s/transport/access.ts). Types from it are fine, through
// `import type` only: `import { type X }` still loads it under Node's type
// stripping. Tests and the lab may use it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROGRAMS, ROOT } from '../../scripts/build-js.ts';
import { importChain, packageName, runTimeImports } from './import-graph.ts';

const ENTRIES = [...PROGRAMS, 'cli/ballast.ts', 'shared/k8s/index.ts'].filter((e) => existsSync(join(ROOT, e)));

describe('run-time imports', () => {
  it('no module reachable from the programs, the CLI or shared/k8s loads @kubernetes/client-node', async () => {
    const graph = await runTimeImports(ENTRIES.map((e) => join(ROOT, e)));
    // The walk reached what it must (the webhook only through a dynamic import), so an empty answer means something.
    for (const m of ['shared/k8s/transport/access.ts', 'shared/k8s/informer.ts', 'controller/webhook/certificate-sync.ts', 'cli/status/fetch.ts']) {
      expect(graph.modules.has(join(ROOT, m)), m).toBe(true);
    }
    expect(graph.opaque.map((i) => importChain(graph, i, ROOT))).toEqual([]);
    const clientNode = graph.packageImports.filter((i) => packageName(i.specifier) === '@kubernetes/client-node');
    expect(clientNode.map((i) => importChain(graph, i, ROOT))).toEqual([]);
  });

  it("nothing loads prom-client's index (≈21 MB RSS); shared/observability/prom.ts takes the four classes from their modules", async () => {
    const graph = await runTimeImports(ENTRIES.map((e) => join(ROOT, e)));
    expect(graph.modules.has(join(ROOT, 'shared/observability/prom.ts'))).toBe(true);
    const promIndex = graph.packageImports.filter((i) => i.specifier === 'prom-client');
    expect(promIndex.map((i) => importChain(graph, i, ROOT))).toEqual([]);
  });
});
