// Which network interfaces may announce. Pure: descriptors in, a choice with
// reasons out (the reasons become events / log lines when an advertisement
// names an interface that cannot be used).

export interface InterfaceDescriptor {
  readonly name: string;
  readonly index: number;
  /** "aa:bb:cc:dd:ee:ff", or null when the device has no 6-byte hardware address. */
  readonly mac: string | null;
  /** ARPHRD_* from /sys/class/net/X/type; 1 is Ethernet. */
  readonly hardwareType: number;
  /** IFF_UP: administratively up. */
  readonly up: boolean;
  /**
   * The link has carrier (cable in, peer up); undefined when unknown. Not a
   * filter criterion here: the speaker keeps watching a link that lost carrier
   * and stops answering on it until carrier returns.
   */
  readonly carrier?: boolean;
  readonly broadcast: boolean;
  readonly noArp: boolean;
  readonly loopback: boolean;
  /** The bridge or bond this interface is a member of. */
  readonly master: string | null;
  /** veth, bridge, bond, vlan, vxlan, tun, dummy, ... when known. */
  readonly kind: string | null;
}

export type SkipReason =
  | 'loopback'
  | 'down'
  | 'no-arp'
  | 'not-ethernet'
  | 'member-of-master'
  | 'excluded-by-name'
  | 'not-in-advertisement';

export interface InterfaceChoice {
  readonly eligible: readonly InterfaceDescriptor[];
  readonly skipped: readonly { readonly name: string; readonly reason: SkipReason; readonly detail: string }[];
  /** Names an advertisement asked for that this node does not have. */
  readonly missing: readonly string[];
}

/** MetalLB's default `metallb-excludel2` list: container, CNI and virtual plumbing, never the LAN uplink. */
export const DEFAULT_EXCLUDED_NAMES: readonly RegExp[] = [
  /^docker/,
  /^cbr/,
  /^dummy/,
  /^virbr/,
  /^lxcbr/,
  /^veth/,
  /^lo$/,
  /^cali/,
  /^tunl/,
  /^flannel/,
  /^kube-ipvs/,
  /^cni/,
  /^nodelocaldns/,
  /^lxc/,
];

const ARPHRD_ETHER = 1;

export interface InterfaceFilterOptions {
  /** Name patterns to leave out; defaults to DEFAULT_EXCLUDED_NAMES. */
  readonly excludeNames?: readonly RegExp[];
  /**
   * An advertisement's `interfaces`: when given and non-empty, only these.
   * A name listed here is taken even if a name pattern would exclude it (the
   * user asked for it by name); the structural checks still apply.
   */
  readonly only?: readonly string[];
}

export function chooseInterfaces(all: readonly InterfaceDescriptor[], options: InterfaceFilterOptions = {}): InterfaceChoice {
  const exclude = options.excludeNames ?? DEFAULT_EXCLUDED_NAMES;
  const only = options.only !== undefined && options.only.length > 0 ? new Set(options.only) : null;
  const eligible: InterfaceDescriptor[] = [];
  const skipped: { name: string; reason: SkipReason; detail: string }[] = [];
  for (const iface of all) {
    const skip = structuralSkip(iface);
    if (skip !== null) {
      if (only === null || only.has(iface.name)) skipped.push({ name: iface.name, ...skip });
      continue;
    }
    if (only !== null) {
      if (!only.has(iface.name)) {
        skipped.push({ name: iface.name, reason: 'not-in-advertisement', detail: 'not listed in the advertisement' });
        continue;
      }
    } else {
      const pattern = exclude.find((re) => re.test(iface.name));
      if (pattern !== undefined) {
        skipped.push({ name: iface.name, reason: 'excluded-by-name', detail: `matches ${pattern.source}` });
        continue;
      }
    }
    eligible.push(iface);
  }
  const present = new Set(all.map((i) => i.name));
  const missing = only === null ? [] : [...only].filter((name) => !present.has(name));
  return { eligible, skipped, missing };
}

function structuralSkip(iface: InterfaceDescriptor): { reason: SkipReason; detail: string } | null {
  if (iface.loopback) return { reason: 'loopback', detail: 'loopback device' };
  if (!iface.up) return { reason: 'down', detail: 'administratively down' };
  if (iface.noArp) return { reason: 'no-arp', detail: 'NOARP set: no neighbour resolution on this link' };
  if (iface.hardwareType !== ARPHRD_ETHER || iface.mac === null) {
    return { reason: 'not-ethernet', detail: `hardware type ${iface.hardwareType} has no Ethernet address` };
  }
  // A bridge port or bond slave: the master carries the node's L2 identity,
  // and answering on the member would hand out a MAC the LAN may never learn
  // for that port (metallb#316, #597, #894).
  if (iface.master !== null) return { reason: 'member-of-master', detail: `member of ${iface.master}` };
  return null;
}

/** ARP needs a broadcast-capable link; NDP runs on every eligible Ethernet link. */
export const canAnswerArp = (iface: InterfaceDescriptor): boolean => iface.broadcast;
