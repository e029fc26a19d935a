// IPs that must move together: every IP of one Service (a dual-stack pair) and
// every Service on a shared IP. MetalLB elects per Service on its first IP, so two
// Services sharing an IP can land on different nodes (metallb#968); we elect per
// connected component of the "held by one Service" relation instead.
import type { AnnouncedService } from '../../shared/config/index.ts';
import type { IPAddress } from '../../shared/net/index.ts';

export interface IPGroup {
  /** The lowest IP (IPv4 before IPv6): the rendezvous key for the whole group. */
  readonly key: IPAddress;
  /** Sorted, IPv4 first. */
  readonly ips: readonly IPAddress[];
  /** Every Service holding one of the IPs, in the order given. */
  readonly services: readonly AnnouncedService[];
}

export function compareIP(a: IPAddress, b: IPAddress): number {
  return a.family - b.family || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
}

/** Services without IPs belong to no group. Groups come out sorted by key. */
export function groupSharedIPs(services: readonly AnnouncedService[]): IPGroup[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root)!;
    for (let y = x; y !== root; ) {
      const next = parent.get(y)!;
      parent.set(y, root);
      y = next;
    }
    return root;
  };
  const ipByText = new Map<string, IPAddress>();
  for (const service of services) {
    for (const ip of service.ips) {
      if (!parent.has(ip.text)) {
        parent.set(ip.text, ip.text);
        ipByText.set(ip.text, ip);
      }
      const first = service.ips[0]!;
      const [a, b] = [find(first.text), find(ip.text)];
      if (a !== b) parent.set(b, a);
    }
  }

  const byRoot = new Map<string, { ips: IPAddress[]; services: AnnouncedService[] }>();
  const groupOf = (ipText: string) => {
    const root = find(ipText);
    let group = byRoot.get(root);
    if (!group) byRoot.set(root, (group = { ips: [], services: [] }));
    return group;
  };
  for (const ip of ipByText.values()) groupOf(ip.text).ips.push(ip);
  for (const service of services) if (service.ips.length > 0) groupOf(service.ips[0]!.text).services.push(service);

  return [...byRoot.values()]
    .map(({ ips, services }) => {
      ips.sort(compareIP);
      return { key: ips[0]!, ips, services };
    })
    .sort((a, b) => compareIP(a.key, b.key));
}
