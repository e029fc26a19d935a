// `npm run lab`: a real control plane and a LAN of network namespaces for a
// person to look at. Prints how to reach everything; Ctrl-C tears it all down.
//
//   npm run lab -- [--nodes N] [--once]
//   --once   start, check that the cluster answers, print, tear down (used by the tests)
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ControlPlane } from './control-plane.ts';
import { Lan } from './lan.ts';
import { REPO_ROOT, findBinaries } from './binaries.ts';
import { NODE_HTTP_PORT } from './addressing.ts';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    once: { type: 'boolean', default: false },
  },
});

if (process.getuid?.() !== 0) {
  console.error('the lab needs root: it creates network namespaces and iptables rules');
  process.exit(1);
}

const t0 = Date.now();
const say = (msg: string): void => console.log(`[lab ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
let cp: ControlPlane | undefined;
let lan: Lan | undefined;
let stopping = false;

async function teardown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('tearing down');
    await lan?.destroy().catch((e: Error) => console.error(e.message));
    await cp?.stop().catch((e: Error) => console.error(e.message));
    say('all gone');
  }
  process.exit(code);
}
process.on('SIGINT', () => void teardown(0));
process.on('SIGTERM', () => void teardown(0));

try {
  const bins = findBinaries();
  cp = await ControlPlane.start({ manifests: [join(REPO_ROOT, 'deploy', 'crds')], log: say });
  lan = await Lan.create({ nodes: Number(args.nodes), controlPlane: cp.handle(), log: say });

  const nodes = await cp.kubeConfig().makeApiClient(k8s.CoreV1Api).listNode();
  const first = lan.nodes[0]!;
  const answer = await lan.http(`http://${first.ipv4}:${NODE_HTTP_PORT}/`);
  if (!answer.ok || answer.body?.trim() !== first.name) throw new Error(`self-check: client could not reach ${first.name}: ${answer.error ?? answer.body}`);

  const kubectl = `KUBECONFIG=${cp.kubeconfig} ${bins.kubectl}`;
  console.log(`
Ballast lab is up: Kubernetes v${bins.kubernetesVersion} (etcd ${bins.etcdVersion}), ${nodes.items.length} nodes, 1 client.

  kubeconfig  ${cp.kubeconfig}
  kubectl     ${bins.kubectl}
  try         ${kubectl} get nodes -o wide
              ${kubectl} get crds
  nodes${lan.nodes.map((n) => `\n    ${n.name.padEnd(8)} ${n.ipv4.padEnd(15)} ${n.ipv6.padEnd(18)} ${n.mac}  ip netns exec ${n.ns} …`).join('')}
  client      ${lan.client.ipv4} ${lan.client.ipv6}  ip netns exec ${lan.client.ns} curl -s http://${first.ipv4}:${NODE_HTTP_PORT}/
  logs        ${join(cp.dir, 'logs')}  ${lan.dir}
`);
  if (args.once) await teardown(0);
  console.log('Press Ctrl-C to tear everything down.');
} catch (e) {
  console.error(`lab failed: ${(e as Error).message}`);
  await teardown(1);
}
