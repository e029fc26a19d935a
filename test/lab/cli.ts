// `npm run lab`: Ballast installed in a lab for a person to look at — a real
// control plane, a LAN of node namespaces and a client, the controller on the
// host, a speaker in every node, a pool, and a demo Service answered from the
// elected node. Prints how to reach everything; Ctrl-C tears it all down.
//
//   npm run lab -- [--nodes N] [--bare] [--once]
//   --bare   only the control plane and the LAN (no Ballast)
//   --once   start, check that the client reaches the demo Service, print, tear down (used by the tests)
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { ControlPlane } from './control-plane.ts';
import { Lan } from './lan.ts';
import { REPO_ROOT, findBinaries } from './binaries.ts';
import { NODE_HTTP_PORT } from './addressing.ts';
import { E2ECluster } from '../e2e/cluster.ts';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    bare: { type: 'boolean', default: false },
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
let cluster: E2ECluster | undefined;
let stopping = false;

async function teardown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('tearing down');
    await cluster?.destroy().catch((e: Error) => console.error(e.message));
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
  const kubectl = `KUBECONFIG=${cp.kubeconfig} ${bins.kubectl}`;
  const nodes = Number(args.nodes);
  let members: Lan;
  let demo = '';
  if (args.bare) {
    lan = await Lan.create({ nodes, controlPlane: cp.handle(), log: say });
    members = lan;
    const first = lan.nodes[0]!;
    const answer = await lan.http(`http://${first.ipv4}:${NODE_HTTP_PORT}/`);
    if (!answer.ok || answer.body?.trim() !== first.name) throw new Error(`self-check: the client could not reach ${first.name}: ${answer.error ?? answer.body}`);
  } else {
    cluster = await E2ECluster.create({ controlPlane: cp.handle(), nodes, name: 'lab', installNamespace: 'ballast-system', appsNamespace: 'demo', loadBalancerClass: null, log: say });
    members = cluster.lan;
    await cluster.startController();
    say('controller running (ballast-system), pool "default": 203.0.113.10-203.0.113.200, 2001:db8:100::10-2001:db8:100::ffff');
    await cluster.startSpeakers();
    say(`a speaker in each of ${nodes} nodes`);
    await cluster.createService({ name: 'hello', families: ['IPv4', 'IPv6'] });
    const [v4, v6] = await cluster.ingress('hello', 2);
    const node = await cluster.waitAnsweredBy(v4!, () => true);
    await cluster.waitAnsweredBy(v6!, node);
    say(`Service demo/hello got ${v4} and ${v6}; the client reaches it through ${node}`);
    const client = `ip netns exec ${cluster.lan.client.ns}`;
    demo = `
  demo        ${kubectl} get svc -n demo hello
              ${client} curl -s http://${v4}/      (answers with the node's name: ${node})
              ${client} curl -s http://[${v6}]/
              ${client} ip neigh                  (which MAC answered ARP/NDP)
  status      ${process.execPath} ${join(REPO_ROOT, 'cli', 'ballast.ts')} status --kubeconfig ${cp.kubeconfig}
  failover    kill -9 ${cluster.speakers.get(node)!.pid}     (the speaker on ${node}; then curl again)
  logs        ${cluster.lan.dir} (*-controller.log, speaker-*.log)`;
  }

  console.log(`
Ballast lab is up: Kubernetes v${bins.kubernetesVersion} (etcd ${bins.etcdVersion}), ${nodes} nodes, 1 client.

  kubeconfig  ${cp.kubeconfig}
  kubectl     ${bins.kubectl}
  try         ${kubectl} get nodes -o wide
              ${kubectl} get ipaddresspools,l2advertisements,servicel2statuses -A
  nodes${members.nodes.map((n) => `\n    ${n.name.padEnd(10)} ${n.ipv4.padEnd(15)} ${n.ipv6.padEnd(18)} ${n.mac}  ip netns exec ${n.ns} …`).join('')}
  client      ${members.client.ipv4} ${members.client.ipv6}  ip netns exec ${members.client.ns} …${demo}
  api logs    ${join(cp.dir, 'logs')}
`);
  if (args.once) await teardown(0);
  console.log('Press Ctrl-C to tear everything down.');
} catch (e) {
  console.error(`lab failed: ${(e as Error).message}`);
  await teardown(1);
}
