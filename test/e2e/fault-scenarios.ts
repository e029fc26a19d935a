// The faults the speaker must survive, each as an inject/heal pair on an
// E2ECluster, judged by fault-run.ts from what the client sees. Shared by
// test/e2e/faults.lab.test.ts (the invariants) and bench/faults.ts (the
// figures in docs/benchmarks.md).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HEARTBEAT_SECRET } from '../../shared/api/index.ts';
import { rotateHeartbeatKey } from '../../cli/rotate/index.ts';
import { accessFromHandle, freezeProcess, LanFaults, REPO_ROOT, sleep, startProcess, waitFor, type ControlPlane, type FrozenProcess, type LabNode, type ManagedProcess } from '../lab/index.ts';
import type { E2ECluster } from './cluster.ts';
import type { FaultPlan } from './fault-run.ts';
import { roundsOf } from './wire-analysis.ts';

export interface Scenario {
  readonly name: string;
  /** Builds the plan at the moment it runs: who owns what then decides whom the fault hits. */
  readonly plan: () => Promise<FaultPlan>;
}

/** The main-thread stall SIGWINCH causes in a lab speaker (BALLAST_FAULT_STALL_MS; speaker/main.ts). */
const STALL_MS = 1_000;
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const BEAT_FLOOD = join(REPO_ROOT, 'test', 'lab', 'beat-flood.ts');

/** The node whose MAC answers `vip` now (one broadcast request from the client). */
export async function ownerOf(cluster: E2ECluster, vip: string): Promise<LabNode> {
  return waitFor(`one node to answer for ${vip}`, async () => {
    const macs = await cluster.whoHas(vip, 100);
    return macs.length === 1 ? cluster.lan.nodes.find((n) => n.mac === macs[0]) : undefined;
  }, { timeoutMs: 10_000, intervalMs: 100 });
}

/** Restarts a node's speaker after it was killed, and waits until it is ready. */
async function restart(cluster: E2ECluster, node: LabNode, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<ManagedProcess> {
  const old = cluster.speakers.get(node.name);
  if (old?.running) {
    old.kill('SIGKILL');
    await old.exited;
  }
  return cluster.startSpeaker(node, { ready: false, ...(opts.env ? { env: opts.env } : {}) });
}

/** Every fault of the suite. `controlPlane`: the private one the cluster runs on (the API-down fault stops it). */
export function scenarios(cluster: E2ECluster, vips: readonly string[], controlPlane: ControlPlane): Scenario[] {
  const faults = new LanFaults(cluster.lan);
  const vip = vips[0]!;
  const clockFile = join(cluster.lan.dir, 'faketime');
  return [
    {
      name: 'all node-to-node traffic dropped except ARP/NDP',
      plan: async () => ({ inject: () => faults.isolateNodesExceptNeighbourDiscovery(), heal: () => faults.clear() }),
    },
    {
      name: 'heartbeat frames (EtherType 0x88B5) dropped between nodes',
      plan: async () => ({ inject: () => faults.dropEtherTypeBetweenNodes(0x88b5), heal: () => faults.clear() }),
    },
    {
      name: "one node's egress to its peers dropped",
      plan: async () => {
        const owner = await ownerOf(cluster, vip);
        return { inject: () => faults.dropEgressToPeers(owner), heal: () => faults.clear() };
      },
    },
    {
      name: 'the wire worker crashed',
      plan: async () => {
        const owner = await ownerOf(cluster, vip);
        return { inject: async () => void cluster.speakers.get(owner.name)!.kill('SIGUSR2') };
      },
    },
    {
      name: 'a speaker restarted mid-takeover',
      plan: async () => {
        const owner = await ownerOf(cluster, vip);
        return {
          inject: async () => {
            cluster.speakers.get(owner.name)!.kill('SIGKILL');
            // The moment another node answers, its speaker dies too and comes straight back.
            const successor = await waitFor('a successor to answer', async () => {
              const macs = await cluster.whoHas(vip, 40);
              return macs.length === 1 && macs[0] !== owner.mac ? cluster.lan.nodes.find((n) => n.mac === macs[0]) : undefined;
            }, { timeoutMs: 5_000, intervalMs: 10 });
            await restart(cluster, successor);
            await sleep(1_000);
            await restart(cluster, owner);
          },
          heal: async () => {
            for (const n of cluster.lan.nodes) await cluster.waitSpeakerReady(n);
          },
        };
      },
    },
    {
      // The whole speaker stops as under docker pause (the cgroup freezer) for 3 s, past the main thread's
      // stall limit: peers take its IPs over, and when it thaws, the ARP requests and NS queued in its
      // sockets meanwhile must not be answered (nor announcements sent) on what it knew before.
      name: 'the announcing speaker frozen 3 s (cgroup freezer, as docker pause)',
      plan: async () => {
        const owner = await ownerOf(cluster, vip);
        const speaker = cluster.speakers.get(owner.name)!;
        let frozen: FrozenProcess | undefined;
        return {
          faultMs: 3_000,
          inject: async () => {
            frozen = await freezeProcess(speaker.pid, owner.name);
          },
          heal: async () => frozen?.thaw(),
        };
      },
    },
    {
      // Frozen briefly (within the stall limit: only the fence's validity stands between a thawed speaker
      // and a stale answer), again and again, on a busy machine: a speaker frozen while it runs (not
      // while it waits in epoll_wait) wakes to its sockets' callbacks before its timers. In 20 such
      // freezes, before the answer path checked the fence's validity, 2 stale answers were seen.
      name: 'the announcing speaker frozen 10 times under CPU load',
      plan: async () => {
        const hogs: ManagedProcess[] = [];
        return {
          faultMs: 0,
          inject: async () => {
            for (let i = 0; i < 3; i++) hogs.push(startProcess(`cpu-hog-${i}`, [process.execPath, '-e', 'for(;;){}'], { logFile: join(cluster.lan.dir, `cpu-hog-${i}.log`) }));
            for (let i = 0; i < 10; i++) {
              const owner = await ownerOf(cluster, vip);
              const frozen = await freezeProcess(cluster.speakers.get(owner.name)!.pid, owner.name);
              try {
                await waitFor('another node to answer', async () => ((m) => m.length === 1 && m[0] !== owner.mac)(await cluster.whoHas(vip, 100)), { timeoutMs: 5_000, intervalMs: 20 });
                await sleep(200);
              } finally {
                await frozen.thaw();
              }
              await waitFor(`${owner.name} to answer again`, async () => ((m) => m.length === 1 && m[0] === owner.mac)(await cluster.whoHas(vip, 100)), { timeoutMs: 10_000, intervalMs: 50 });
            }
          },
          heal: async () => {
            await Promise.all(hogs.map((h) => h.stop(1_000)));
          },
        };
      },
    },
    {
      // The same stop by a signal (kill -STOP, a debugger attaching), which wakes a thread in epoll_wait with EINTR.
      name: 'the announcing speaker stopped 1 s (SIGSTOP)',
      plan: async () => {
        const owner = await ownerOf(cluster, vip);
        const speaker = cluster.speakers.get(owner.name)!;
        return { faultMs: 1_000, inject: async () => speaker.kill('SIGSTOP'), heal: async () => speaker.kill('SIGCONT') };
      },
    },
    {
      // Frozen 0.5 s (peers fail its IPs over), and as it thaws its main thread and its successor's stall
      // 1 s (a GC pause, a relist; within the stall limit): only the wire workers run. One peer vouches for
      // the thawed speaker again within a beat exchange, while the successor's worker still answers the
      // IPs it took: the thawed worker must not answer from the table it held before the freeze.
      name: 'the announcing speaker frozen 0.5 s, then its and its successor\'s main threads stalled 1 s',
      plan: async () => {
        const owner = await ownerOf(cluster, vip);
        const speaker = cluster.speakers.get(owner.name)!;
        let frozen: FrozenProcess | undefined;
        let thawedAt: number | undefined;
        return {
          faultMs: 0,
          // Until its main thread turns again, nothing may bring an IP back to the thawed speaker: only
          // its main thread can elect, and only through a hand-back its successor (stalled too) acknowledges.
          verify: (watch) => {
            if (thawedAt === undefined) return ['never thawed'];
            const window = { fromMs: thawedAt, toMs: thawedAt + STALL_MS - 100 };
            return Object.keys(watch.vips).flatMap((ip) => {
              const rounds = roundsOf(watch, ip, window).filter((macs) => macs?.includes(owner.mac)).length;
              return rounds > 0 ? [`${ip} answered by ${owner.name} in ${rounds} rounds of the ${STALL_MS - 100} ms after it thawed, while its main thread was stalled`] : [];
            });
          },
          inject: async () => {
            frozen = await freezeProcess(speaker.pid, owner.name);
            const successor = await waitFor('another node to answer', async () => {
              const macs = await cluster.whoHas(vip, 40);
              return macs.length === 1 && macs[0] !== owner.mac ? cluster.lan.nodes.find((n) => n.mac === macs[0]) : undefined;
            }, { timeoutMs: 5_000, intervalMs: 10 });
            // Pending while frozen: the owner's main thread stalls as it thaws.
            speaker.kill('SIGWINCH');
            cluster.speakers.get(successor.name)!.kill('SIGWINCH');
            thawedAt = Date.now();
            await frozen.thaw();
            frozen = undefined;
          },
          heal: async () => frozen?.thaw(),
        };
      },
    },
    {
      name: "a node's clock stepped back an hour",
      plan: async () => {
        const owner = await ownerOf(cluster, vip);
        // Its speaker runs with libfaketime reading the offset from a file: first none.
        writeFileSync(clockFile, '+0\n');
        const env = { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
        await restart(cluster, owner, { env });
        await cluster.waitSpeakerReady(owner);
        await waitFor('its IP back on it', async () => (await ownerOf(cluster, vip)).name === owner.name, { timeoutMs: 10_000, intervalMs: 200 });
        return {
          inject: async () => {
            writeFileSync(clockFile, '-1h\n');
            await sleep(1_000);
            // And it restarts with the clock an hour behind: a new incarnation whose wall clock is
            // older than anything its peers heard from it before.
            await restart(cluster, owner, { env });
          },
          heal: async () => {
            writeFileSync(clockFile, '+0\n');
            await restart(cluster, owner);
            await cluster.waitSpeakerReady(owner);
          },
        };
      },
    },
    ...(['without', 'with'] as const).map((mode) => ({
      name: `a flood of 100 000 beats/s ${mode} the key`,
      plan: async (): Promise<FaultPlan> => {
        const secret = await cluster.core.readNamespacedSecret({ namespace: cluster.namespace, name: HEARTBEAT_SECRET });
        const key = mode === 'with' ? Buffer.from(secret.data!.key!, 'base64').toString('hex') : '-';
        let flood: Promise<string> | undefined;
        return {
          inject: async () => {
            const { client } = cluster.lan;
            const args = [process.execPath, BEAT_FLOOD, 'eth0', key, '100000', '4000', ...cluster.lan.nodes.map((n) => n.name), '--', ...cluster.lan.nodes.map((n) => n.ipv4)];
            flood = cluster.lan.exec(client, args);
          },
          heal: async () => {
            cluster.log(`flood: ${await flood}`);
          },
        };
      },
    })),
    {
      name: 'CPU starvation (4 busy processes on 2 cores)',
      plan: async () => {
        const hogs: ManagedProcess[] = [];
        return {
          inject: async () => {
            for (let i = 0; i < 4; i++) hogs.push(startProcess(`cpu-hog-${i}`, [process.execPath, '-e', 'for(;;){}'], { logFile: join(cluster.lan.dir, `cpu-hog-${i}.log`) }));
          },
          heal: async () => {
            await Promise.all(hogs.map((h) => h.stop(1_000)));
          },
        };
      },
    },
    {
      name: 'link flapping every 200 ms',
      plan: async () => {
        const owner = await ownerOf(cluster, vip);
        let flapping: Promise<void> | undefined;
        return {
          inject: async () => {
            flapping = faults.flapLink(owner, 200, 4_000);
          },
          heal: async () => {
            await flapping;
          },
        };
      },
    },
    {
      name: 'API server down plus a node failure',
      plan: async () => {
        const owner = await ownerOf(cluster, vip);
        return {
          inject: async () => {
            await controlPlane.stopApiServer();
            cluster.speakers.get(owner.name)!.kill('SIGKILL');
            await cluster.lan.setLink(owner, false);
          },
          heal: async () => {
            await cluster.lan.setLink(owner, true);
            await controlPlane.startApiServer();
            await restart(cluster, owner);
            await cluster.waitSpeakerReady(owner);
          },
        };
      },
    },
    {
      name: 'all speakers rolled one by one',
      plan: async () => ({
        faultMs: 0,
        inject: async () => {
          // As a DaemonSet rolling update does: SIGTERM, the Pod goes, a new one starts and becomes Ready.
          for (const node of cluster.lan.nodes) {
            const proc = cluster.speakers.get(node.name)!;
            proc.kill('SIGTERM');
            await proc.exited;
            await cluster.core.deleteNamespacedPod({ namespace: cluster.namespace, name: `ballast-speaker-${node.name}`, gracePeriodSeconds: 0 });
            await cluster.startSpeaker(node);
            await cluster.registerSpeakerPods([node]);
            await sleep(500);
          }
        },
      }),
    },
    {
      name: 'the heartbeat key rotated under traffic',
      plan: async () => ({
        faultMs: 0,
        inject: async () => {
          const access = accessFromHandle(controlPlane.handle());
          try {
            await rotateHeartbeatKey(access, { namespace: cluster.namespace, waitMs: 2_000, say: (line) => cluster.log(`rotate: ${line}`) });
          } finally {
            access.close();
          }
        },
      }),
    },
  ];
}
