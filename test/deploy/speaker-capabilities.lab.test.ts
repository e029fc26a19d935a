// The kernel facts behind the speaker's securityContext (deploy/speaker/
// daemonset.yaml): why it runs as uid 0 with only CAP_NET_RAW. A tiny probe
// opens an AF_PACKET socket (protocol 0: it receives nothing, sends nothing)
// in a fresh network namespace, under the credentials a container runtime
// gives the speaker's process, and the alternatives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check } from './tools.ts';

const PROBE = String.raw`
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_packet.h>
int main() {
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) { std::printf("%s\n", errno == EPERM ? "EPERM" : std::strerror(errno)); return 0; }
  close(fd);
  std::printf("ok\n");
  return 0;
}
`;

describe('AF_PACKET and capabilities (why the speaker is uid 0 with only NET_RAW)', () => {
  let dir: string;
  let probe: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ballast-caps-'));
    chmodSync(dir, 0o755); // the non-root cases must reach the probe
    writeFileSync(join(dir, 'probe.cc'), PROBE);
    probe = join(dir, 'probe');
    await check(['g++', '-O1', '-o', probe, join(dir, 'probe.cc')]);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // setpriv sets what runc sets before it execs the container's command:
  // the bounding set from securityContext.capabilities, no_new_privs from
  // allowPrivilegeEscalation: false, and the user.
  const asContainer = async (opts: { uid: number; bounding: string; ambient?: boolean }): Promise<string> => {
    const argv = ['unshare', '--net', 'setpriv', '--bounding-set', opts.bounding, '--no-new-privs'];
    if (opts.uid !== 0) argv.push('--reuid', String(opts.uid), '--regid', String(opts.uid), '--clear-groups');
    argv.push(...(opts.ambient ? ['--inh-caps', '+net_raw', '--ambient-caps', '+net_raw'] : ['--inh-caps', '-all']));
    return (await check([...argv, probe])).stdout.trim();
  };

  it('uid 0, every capability dropped but NET_RAW, no privilege escalation (the DaemonSet): opens it', async () => {
    expect(await asContainer({ uid: 0, bounding: '-all,+net_raw' })).toBe('ok');
  });

  it('uid 0 without NET_RAW: EPERM, so NET_RAW is what grants it', async () => {
    expect(await asContainer({ uid: 0, bounding: '-all' })).toBe('EPERM');
  });

  it('a non-root user with NET_RAW added (capabilities.add, no ambient set): EPERM', async () => {
    expect(await asContainer({ uid: 65532, bounding: '-all,+net_raw' })).toBe('EPERM');
  });

  it('a non-root user with NET_RAW also ambient would open it, but Kubernetes cannot set ambient capabilities', async () => {
    expect(await asContainer({ uid: 65532, bounding: '-all,+net_raw', ambient: true })).toBe('ok');
  });
});
