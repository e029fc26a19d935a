// Nothing the controller or the speaker runs may load @kubernetes/client-node:
// importing any of it costs ~65 MB RSS (all its generated API clients, undici,
// proxy agents), most of the speaker's budget (docs/ARCHITECTURE.md). Types
// from it are fine, through `import type` only: `import { type X }` still
// loads it under Node's type stripping. The CLI, which has no memory budget,
// loads it in one place (cli/kube-auth.ts: credential plugins kubectl accepts);
// tests and the lab may use it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROGRAMS, ROOT } from '../../scripts/build-js.ts';
import { importChain, packageName, runTimeImports } from './import-graph.ts';

const DAEMONS = [...PROGRAMS, 'shared/k8s/index.ts'].filter((e) => existsSync(join(ROOT, e)));
const ENTRIES = [...DAEMONS, 'cli/ballast.ts'].filter((e) => existsSync(join(ROOT, e)));

describe('run-time imports', () => {
  it('no module reachable from the controller, the speaker or shared/k8s loads @kubernetes/client-node', async () => {
    const graph = await runTimeImports(DAEMONS.map((e) => join(ROOT, e)));
    // The walk reached what it must (the webhook only through a dynamic import), so an empty answer means something.
    for (const m of ['shared/k8s/transport/access.ts', 'shared/k8s/informer.ts', 'controller/webhook/certificate-sync.ts', 'speaker/shell/api-watch.ts']) {
      expect(graph.modules.has(join(ROOT, m)), m).toBe(true);
    }
    expect(graph.opaque.map((i) => importChain(graph, i, ROOT))).toEqual([]);
    const clientNode = graph.packageImports.filter((i) => packageName(i.specifier) === '@kubernetes/client-node');
    expect(clientNode.map((i) => importChain(graph, i, ROOT))).toEqual([]);
  });

  it('the CLI loads it in one module only: the credentials kubectl accepts and the transport does not', async () => {
    const graph = await runTimeImports([join(ROOT, 'cli/ballast.ts')]);
    const clientNode = graph.packageImports.filter((i) => packageName(i.specifier) === '@kubernetes/client-node');
    expect([...new Set(clientNode.map((i) => i.from.slice(ROOT.length + 1)))]).toEqual(['cli/kube-auth.ts']);
  });

  it("nothing loads prom-client's index (≈21 MB RSS); shared/observability/prom.ts takes the four classes from their modules", async () => {
    const graph = await runTimeImports(ENTRIES.map((e) => join(ROOT, e)));
    expect(graph.modules.has(join(ROOT, 'shared/observability/prom.ts'))).toBe(true);
    const promIndex = graph.packageImports.filter((i) => i.specifier === 'prom-client');
    expect(promIndex.map((i) => importChain(graph, i, ROOT))).toEqual([]);
  });
});
