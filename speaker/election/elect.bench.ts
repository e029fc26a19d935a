// Cost of one full election: node speaker/election/elect.bench.ts
// (dual-stack Services on unique IPs, two advertisements, every node live).
import { elect, RendezvousMemo } from './index.ts';
import { ad, node, service } from './test-fixtures.ts';

for (const [serviceCount, nodeCount] of [[5000, 3], [5000, 20], [5000, 100], [20000, 100]] as const) {
  const services = Array.from({ length: serviceCount }, (_, i) => service(`bench/s${i}`, [`2001:db8::${i.toString(16)}`, `2001:db8:1::${i.toString(16)}`]));
  const nodes = Array.from({ length: nodeCount }, (_, i) => node(`node-${i}`, { labels: { rack: `r${i % 4}` } }));
  const input = {
    services,
    nodes,
    liveSpeakers: new Set(nodes.map((n) => n.name)),
    readyEndpointNodes: new Map(),
    advertisements: [ad('racks', { nodeSelectors: [{ matchLabels: { rack: 'r1' } }, { matchLabels: { rack: 'r2' } }] }), ad('all')],
    poolOf: () => ({ name: 'bench', labels: {} }),
  };
  for (let i = 0; i < 3; i++) elect(input);
  const runs = 10;
  const started = performance.now();
  for (let i = 0; i < runs; i++) elect(input);
  const full = (performance.now() - started) / runs;
  // The failover path: same nodes, one speaker fewer, orders remembered from before.
  const memo = new RendezvousMemo();
  elect(input, memo);
  const failover = { ...input, liveSpeakers: new Set(nodes.slice(1).map((n) => n.name)) };
  const startedFailover = performance.now();
  for (let i = 0; i < runs; i++) elect(i % 2 === 0 ? failover : input, memo);
  const remembered = (performance.now() - startedFailover) / runs;
  console.log(`${serviceCount} Services × ${nodeCount} nodes: ${full.toFixed(1)} ms per election, ${remembered.toFixed(1)} ms with a warm RendezvousMemo`);
}
