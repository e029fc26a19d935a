// The election: plain inputs in, every owner out. Each speaker runs it on the
// same inputs and reaches the same answer without talking to the others.
import { LABEL_EXCLUDE_FROM_LB } from '../../shared/api/index.ts';
import type { IPAddress } from '../../shared/net/index.ts';
import {
  advertisesFromNode,
  advertisesPool,
  advertisesService,
  serviceKey,
  unionInterfaces,
  type AnnouncedService,
  type L2AdvertisementConfig,
  type NodeInfo,
  type PoolRef,
} from '../../shared/config/index.ts';
import type { Announcement, Election, GroupDecision, NotAnnounced, NotAnnouncedCode, ServiceDecision } from './decision.ts';
import { compareIP, groupSharedIPs, type IPGroup } from './ip-groups.ts';
import { rendezvousWinner, type RendezvousMemo } from './rendezvous.ts';

export interface ElectionInput {
  /** Keys (namespace/name) are unique. Already filtered by loadBalancerClass. */
  readonly services: readonly AnnouncedService[];
  /** serviceKey → nodes hosting a ready endpoint; read only for externalTrafficPolicy Local (absent ⇒ none). */
  readonly readyEndpointNodes: ReadonlyMap<string, ReadonlySet<string>>;
  readonly nodes: readonly NodeInfo[];
  /** Nodes whose speaker is known alive (liveness membership); a live name with no Node object is ignored. */
  readonly liveSpeakers: ReadonlySet<string>;
  readonly advertisements: readonly L2AdvertisementConfig[];
  /** The pool holding an IP, or undefined when no pool does (pool deleted, config not loaded yet). */
  readonly poolOf: (ip: IPAddress) => PoolRef | undefined;
}

/**
 * `memo` (kept by the caller across elections) makes re-elections skip hashing;
 * the result is the same with or without it.
 */
export function elect(input: ElectionInput, memo?: RendezvousMemo): Election {
  const byKey = new Map(input.services.map((s) => [serviceKey(s), s]));
  const keys = [...byKey.keys()].sort();
  const services = keys.map((key) => byKey.get(key)!);
  const context = new ElectionContext(input, memo);

  memo?.begin(input.nodes.map((n) => n.name));
  const groups = groupSharedIPs(services).map((group) => context.decide(group));
  memo?.end();
  const byNode = new Map<string, Map<string, Announcement>>();
  const groupOf = new Map<string, GroupDecision>();
  for (const group of groups) {
    for (const key of group.services) groupOf.set(key, group);
    if (group.owner === undefined) continue;
    let own = byNode.get(group.owner);
    if (!own) byNode.set(group.owner, (own = new Map()));
    for (const [ip, announcement] of group.announcements) own.set(ip, announcement);
  }
  const decisions = new Map<string, ServiceDecision>();
  for (const [i, key] of keys.entries()) decisions.set(key, serviceDecision(key, services[i]!, groupOf.get(key)));
  return { groups, services: decisions, byNode };
}

function serviceDecision(key: string, service: AnnouncedService, group: GroupDecision | undefined): ServiceDecision {
  const { ips } = service;
  if (group === undefined) {
    return { service: key, ips, movesWith: [], announced: false, reason: notAnnounced('NoIP', 'the Service has no IP in status.loadBalancer.ingress') };
  }
  const movesWith = group.services.filter((k) => k !== key);
  if (group.owner === undefined) return { service: key, ips, movesWith, announced: false, reason: group.reason };
  const interfaces = unionInterfaces(ips.map((ip) => group.announcements.get(ip.text)!.interfaces));
  return { service: key, ips, movesWith, announced: true, node: group.owner, interfaces };
}

/** One (Service, IP) pair and the advertisements that cover it. */
interface Coverage {
  readonly service: AnnouncedService;
  readonly ip: IPAddress;
  readonly ads: readonly L2AdvertisementConfig[];
}

interface NodeList {
  readonly list: readonly string[];
  readonly set: ReadonlySet<string>;
}

class ElectionContext {
  readonly #input: ElectionInput;
  readonly #ads: readonly L2AdvertisementConfig[];
  readonly #nodes: ReadonlyMap<string, NodeInfo>;
  readonly #nodesOfAd = new Map<L2AdvertisementConfig, ReadonlySet<string>>();
  readonly #nodesOfAdSet = new Map<string, ReadonlySet<string>>();
  readonly #eligibleOfAdSet = new Map<string, NodeList>();
  readonly #adsOfPool = new Map<string, readonly L2AdvertisementConfig[]>();
  readonly #poolOf = new Map<string, PoolRef | undefined>();
  readonly #memo: RendezvousMemo | undefined;

  constructor(input: ElectionInput, memo: RendezvousMemo | undefined) {
    this.#input = input;
    this.#memo = memo;
    this.#ads = [...input.advertisements].sort((a, b) => compareText(adName(a), adName(b)));
    this.#nodes = new Map([...input.nodes].sort((a, b) => compareText(a.name, b.name)).map((n) => [n.name, n]));
  }

  decide(group: IPGroup): GroupDecision {
    const base = { key: group.key, ips: group.ips, services: group.services.map(serviceKey) };
    const coverage = this.#coverage(group);
    if (!Array.isArray(coverage)) return { ...base, owner: undefined, reason: coverage };
    const candidates = this.#candidates(group, coverage);
    if (!Array.isArray(candidates)) return { ...base, owner: undefined, reason: candidates };
    const owner = (this.#memo ? this.#memo.winner(candidates, group.key) : rendezvousWinner(candidates, group.key))!;
    return { ...base, owner, announcements: this.#announcements(owner, group, coverage) };
  }

  /** Every IP of every Service in the group must be covered, or the group as a whole is not announced (as MetalLB withholds a shared IP, #3025). */
  #coverage(group: IPGroup): Coverage[] | NotAnnounced {
    const coverage: Coverage[] = [];
    for (const service of group.services) {
      for (const ip of [...service.ips].sort(compareIP)) {
        const pool = this.#pool(ip);
        const where = `${ip.text} of ${serviceKey(service)}`;
        if (!pool) return notAnnounced('NotInPool', `${where} is in no IPAddressPool`);
        const forPool = this.#adsForPool(pool);
        if (forPool.length === 0) return notAnnounced('NoAdvertisement', `no L2Advertisement selects pool ${pool.name} (holding ${where})`);
        const ads = forPool.filter((ad) => advertisesService(ad, service.labels));
        if (ads.length === 0) {
          return notAnnounced('NoAdvertisement', `the serviceSelectors of ${names(forPool.map(adName))} (for pool ${pool.name}) do not match ${serviceKey(service)}`);
        }
        coverage.push({ service, ip, ads });
      }
    }
    return coverage;
  }

  /**
   * The nodes eligible for every covered pair, then for ETP Local endpoints. The
   * node-only checks are cached per advertisement set (most groups share a few);
   * when they leave nobody, #whyNoNode walks the steps again to name the reason.
   */
  #candidates(group: IPGroup, coverage: readonly Coverage[]): string[] | NotAnnounced {
    // A group has at least one IP, so coverage has at least one pair.
    let nodes: readonly string[] = this.#eligibleFor(coverage[0]!.ads).list;
    for (const { ads } of coverage.slice(1)) {
      const eligible = this.#eligibleFor(ads);
      nodes = nodes.filter((n) => eligible.set.has(n));
    }
    if (nodes.length === 0) return this.#whyNoNode(group, coverage);
    for (const service of group.services) {
      if (service.externalTrafficPolicy !== 'Local') continue;
      const key = serviceKey(service);
      const ready = this.#input.readyEndpointNodes.get(key) ?? new Set<string>();
      const kept = nodes.filter((n) => ready.has(n));
      if (kept.length === 0) {
        return notAnnounced('NoReadyEndpoint', `no candidate node (${names(nodes)}) hosts a ready endpoint of ${key} (externalTrafficPolicy Local)`);
      }
      nodes = kept;
    }
    return [...nodes];
  }

  /** Selected by one of `ads`, live, not excluded, network available; in name order. */
  #eligibleFor(ads: readonly L2AdvertisementConfig[]): NodeList {
    const key = adSetKey(ads);
    let eligible = this.#eligibleOfAdSet.get(key);
    if (!eligible) {
      const selected = this.#nodesOfAny(ads);
      const list = [...this.#nodes.values()]
        .filter((n) => selected.has(n.name) && this.#input.liveSpeakers.has(n.name) && !n.excluded && !n.networkUnavailable)
        .map((n) => n.name);
      eligible = { list, set: new Set(list) };
      this.#eligibleOfAdSet.set(key, eligible);
    }
    return eligible;
  }

  /** Narrows all nodes step by step; the step that leaves none names the reason. */
  #whyNoNode(group: IPGroup, coverage: readonly Coverage[]): NotAnnounced {
    let nodes = [...this.#nodes.keys()];
    for (const { ads } of coverage) {
      const selected = this.#nodesOfAny(ads);
      if (selected.size === 0) return notAnnounced('NoNodeMatchesSelectors', `no node matches the nodeSelectors of ${names(ads.map(adName))}`);
      nodes = nodes.filter((n) => selected.has(n));
    }
    if (nodes.length === 0) {
      return notAnnounced('NoCommonNode', `no node is selected by the L2Advertisements of every IP that must move together (${names(group.ips.map((ip) => ip.text))})`);
    }
    const steps: Array<[NotAnnouncedCode, (n: NodeInfo) => boolean, (left: string[]) => string]> = [
      ['NoLiveSpeaker', (n) => this.#input.liveSpeakers.has(n.name), (left) => `no live speaker on the nodes the L2Advertisements select (${names(left)})`],
      ['AllExcluded', (n) => !n.excluded, (left) => `every candidate node is labelled ${LABEL_EXCLUDE_FROM_LB} (${names(left)})`],
      ['AllNetworkUnavailable', (n) => !n.networkUnavailable, (left) => `every candidate node is NetworkUnavailable (${names(left)})`],
    ];
    for (const [code, keep, explain] of steps) {
      const kept = nodes.filter((n) => keep(this.#nodes.get(n)!));
      if (kept.length === 0) return notAnnounced(code, explain(nodes));
      nodes = kept;
    }
    throw new Error(`election: no eligible node for ${group.key.text}, yet every step left some`);
  }

  /** Interfaces per IP: the union over the covering advertisements that select the owner (MetalLB ipAdvertisementFor). */
  #announcements(owner: string, group: IPGroup, coverage: readonly Coverage[]): Map<string, Announcement> {
    const announcements = new Map<string, Announcement>();
    for (const ip of group.ips) {
      const ads = coverage.filter((c) => c.ip.text === ip.text).flatMap((c) => c.ads.filter((ad) => this.#nodesOf(ad).has(owner)));
      announcements.set(ip.text, { interfaces: unionInterfaces(ads.map((ad) => ad.interfaces)) });
    }
    return announcements;
  }

  /** Nodes selected by any of `ads`; memoised, since most IPs share one or two advertisement sets. */
  #nodesOfAny(ads: readonly L2AdvertisementConfig[]): ReadonlySet<string> {
    const key = adSetKey(ads);
    let nodes = this.#nodesOfAdSet.get(key);
    if (!nodes) {
      nodes = ads.length === 1 ? this.#nodesOf(ads[0]!) : new Set(ads.flatMap((ad) => [...this.#nodesOf(ad)]));
      this.#nodesOfAdSet.set(key, nodes);
    }
    return nodes;
  }

  #adsForPool(pool: PoolRef): readonly L2AdvertisementConfig[] {
    let ads = this.#adsOfPool.get(pool.name);
    if (!ads) this.#adsOfPool.set(pool.name, (ads = this.#ads.filter((ad) => advertisesPool(ad, pool))));
    return ads;
  }

  #nodesOf(ad: L2AdvertisementConfig): ReadonlySet<string> {
    let nodes = this.#nodesOfAd.get(ad);
    if (!nodes) {
      nodes = new Set([...this.#nodes.values()].filter((n) => advertisesFromNode(ad, n.labels)).map((n) => n.name));
      this.#nodesOfAd.set(ad, nodes);
    }
    return nodes;
  }

  #pool(ip: IPAddress): PoolRef | undefined {
    if (!this.#poolOf.has(ip.text)) this.#poolOf.set(ip.text, this.#input.poolOf(ip));
    return this.#poolOf.get(ip.text);
  }
}

const notAnnounced = (code: NotAnnouncedCode, message: string): NotAnnounced => ({ code, message });

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const adName = (ad: L2AdvertisementConfig): string => `L2Advertisement ${ad.namespace}/${ad.name}`;

const adSetKey = (ads: readonly L2AdvertisementConfig[]): string => ads.map((ad) => `${ad.namespace}/${ad.name}`).join(' ');

/** A readable list that stays one line on a 1000-node cluster. */
function names(items: readonly string[], most = 5): string {
  const shown = items.slice(0, most).join(', ');
  return items.length > most ? `${shown} and ${items.length - most} more` : shown;
}
