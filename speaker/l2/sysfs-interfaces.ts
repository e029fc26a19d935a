// Reads interface descriptors from /sys/class/net (the shell side of
// interface-filter.ts). Interfaces that vanish mid-read are left out.
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { InterfaceDescriptor } from './interface-filter.ts';

// linux/if.h
const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_LOOPBACK = 0x8;
const IFF_NOARP = 0x80;

export async function readInterfaces(root = '/sys/class/net'): Promise<InterfaceDescriptor[]> {
  const names = await readdir(root);
  const read = await Promise.all(names.map((name) => readInterface(join(root, name), name)));
  return read.filter((d): d is InterfaceDescriptor => d !== null).sort((a, b) => a.index - b.index);
}

async function readInterface(dir: string, name: string): Promise<InterfaceDescriptor | null> {
  try {
    const [index, address, type, flags, master, kind, carrier] = await Promise.all([
      readText(join(dir, 'ifindex')),
      readText(join(dir, 'address')),
      readText(join(dir, 'type')),
      readText(join(dir, 'flags')),
      readlink(join(dir, 'master')).then((target) => basename(target), () => null),
      deviceKind(dir),
      readCarrier(join(dir, 'carrier')),
    ]);
    const flagBits = Number.parseInt(flags, 16);
    return {
      name,
      index: Number.parseInt(index, 10),
      mac: /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(address) ? address : null,
      hardwareType: Number.parseInt(type, 10),
      up: (flagBits & IFF_UP) !== 0,
      broadcast: (flagBits & IFF_BROADCAST) !== 0,
      noArp: (flagBits & IFF_NOARP) !== 0,
      loopback: (flagBits & IFF_LOOPBACK) !== 0,
      master,
      kind,
      ...(carrier === undefined ? {} : { carrier }),
    };
  } catch {
    return null;
  }
}

/** The kernel answers EINVAL for a device that is administratively down: no carrier either. */
export async function readCarrier(path: string): Promise<boolean | undefined> {
  try {
    return (await readText(path)) === '1';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EINVAL' ? false : undefined;
  }
}

const readText = async (path: string): Promise<string> => (await readFile(path, 'utf8')).trim();
const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

/** Best effort: DEVTYPE from uevent, else the bridge/bonding/tun attribute directories. */
async function deviceKind(dir: string): Promise<string | null> {
  const uevent = await readFile(join(dir, 'uevent'), 'utf8').catch(() => '');
  const devtype = /^DEVTYPE=(.+)$/m.exec(uevent)?.[1];
  if (devtype !== undefined) return devtype;
  if (await exists(join(dir, 'bridge'))) return 'bridge';
  if (await exists(join(dir, 'bonding'))) return 'bond';
  if (await exists(join(dir, 'tun_flags'))) return 'tun';
  return null;
}
