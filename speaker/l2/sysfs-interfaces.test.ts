import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chooseInterfaces } from './interface-filter.ts';
import { readInterfaces } from './sysfs-interfaces.ts';

let root: string | undefined;
afterEach(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

async function fakeInterface(name: string, files: Record<string, string>, extra: { master?: string; dirs?: string[] } = {}): Promise<void> {
  const dir = join(root!, name);
  await mkdir(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), `${content}\n`);
  for (const sub of extra.dirs ?? []) await mkdir(join(dir, sub));
  if (extra.master !== undefined) await symlink(`../${extra.master}`, join(dir, 'master'));
}

describe('readInterfaces', () => {
  it('builds descriptors from /sys/class/net files', async () => {
    root = await mkdtemp(join(tmpdir(), 'bl2-sysfs-'));
    const ethernet = { type: '1', uevent: 'INTERFACE=x' };
    await fakeInterface('lo', { ifindex: '1', address: '00:00:00:00:00:00', type: '772', flags: '0x9', uevent: 'INTERFACE=lo' });
    await fakeInterface('eno1', { ...ethernet, ifindex: '2', address: '02:00:00:00:00:01', flags: '0x1003' }, { master: 'br0' });
    await fakeInterface('br0', { ...ethernet, ifindex: '3', address: '02:00:00:00:00:01', flags: '0x1003', uevent: 'DEVTYPE=bridge\nINTERFACE=br0' });
    await fakeInterface('bond0', { ...ethernet, ifindex: '4', address: '02:00:00:00:00:02', flags: '0x1002' }, { dirs: ['bonding'] });
    await fakeInterface('wg0', { ifindex: '5', address: '', type: '65534', flags: '0x90', uevent: 'DEVTYPE=wireguard' });
    await fakeInterface('half-gone', { ifindex: '6' });

    const interfaces = await readInterfaces(root);
    expect(interfaces.map((i) => [i.name, i.index, i.kind, i.master])).toEqual([
      ['lo', 1, null, null],
      ['eno1', 2, null, 'br0'],
      ['br0', 3, 'bridge', null],
      ['bond0', 4, 'bond', null],
      ['wg0', 5, 'wireguard', null],
    ]);
    expect(interfaces[0]).toMatchObject({ loopback: true, up: true, broadcast: false });
    expect(interfaces[3]).toMatchObject({ up: false, broadcast: true, mac: '02:00:00:00:00:02' });
    expect(interfaces[4]).toMatchObject({ noArp: true, mac: null, hardwareType: 65534 });
    expect(chooseInterfaces(interfaces).eligible.map((i) => i.name)).toEqual(['br0']);
  });

  it('reads carrier: 1 up, 0 down, absent unknown', async () => {
    root = await mkdtemp(join(tmpdir(), 'bl2-sysfs-'));
    const base = { type: '1', uevent: 'INTERFACE=x', flags: '0x1003' };
    await fakeInterface('eth0', { ...base, ifindex: '2', address: '02:00:00:00:00:01', carrier: '1' });
    await fakeInterface('eth1', { ...base, ifindex: '3', address: '02:00:00:00:00:02', carrier: '0' });
    await fakeInterface('eth2', { ...base, ifindex: '4', address: '02:00:00:00:00:03' });
    const interfaces = await readInterfaces(root);
    expect(interfaces.map((i) => [i.name, i.carrier])).toEqual([
      ['eth0', true],
      ['eth1', false],
      ['eth2', undefined],
    ]);
  });
});
