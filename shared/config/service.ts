// Service → ServiceRequest: what the allocator needs to know about one
// Service, checked once here. MetalLB's annotation spellings are honoured,
// with a warning naming the new key (DESIGN §1).
import type { V1Service } from '@kubernetes/client-node';
import { ANNOTATION } from '../api/index.ts';
import type { Labels } from '../labels/index.ts';
import { familyName, parseIP, type Family, type IPAddress } from '../net/index.ts';
import { err, ok, type Result } from '../result.ts';
import type { ConfigError } from './config-error.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** A Service parse fails on its first error: the Event that reports it should say one thing. */
export type ServiceConfigError = ConfigError & { readonly kind: 'Service' };
export type IPFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

export interface ServicePort {
  readonly protocol: Protocol;
  readonly port: number;
}

export interface ServiceRequest {
  readonly namespace: string;
  readonly name: string;
  /** At most one per family, IPv4 first; each of a family in `ipFamilies`. */
  readonly requestedIPs: readonly IPAddress[];
  /** `address-pool`: allocate only from this pool. */
  readonly pool: string | undefined;
  /** `allow-shared-ip`; '' = never share. */
  readonly sharingKey: string;
  /** Sorted by protocol, then port. */
  readonly ports: readonly ServicePort[];
  /** Services sharing an IP must reach the same backends: with externalTrafficPolicy Local, the canonical selector; else ''. */
  readonly backendKey: string;
  readonly ipFamilyPolicy: IPFamilyPolicy;
  /** The Service's cluster families, primary first: one for SingleStack, two for RequireDualStack, one or two for PreferDualStack. */
  readonly ipFamilies: readonly Family[];
  readonly loadBalancerClass: string | undefined;
  readonly labels: Labels;
  readonly namespaceLabels: Labels;
  /** One line each, for Warning events: deprecated annotation spellings in use. */
  readonly warnings: readonly string[];
}

/** Type LoadBalancer, and the class this controller serves: no class unless a class flag is given, then exactly it. */
export function isLoadBalancer(svc: V1Service, classFlag?: string): boolean {
  if (svc.spec?.type !== 'LoadBalancer') return false;
  const cls = svc.spec.loadBalancerClass;
  return classFlag ? cls === classFlag : cls === undefined || cls === null || cls === '';
}

const annotationField = (key: string): string => `metadata.annotations["${key}"]`;

// Thrown only inside this module to leave a nested parse at its first error;
// parseServiceRequest turns it into a value before the caller sees it.
class ServiceParseError {
  readonly field: string;
  readonly message: string;
  constructor(field: string, message: string) {
    this.field = field;
    this.message = message;
  }
}

export function parseServiceRequest(svc: V1Service, namespaceLabels: Labels): Result<ServiceRequest, ServiceConfigError> {
  const namespace = svc.metadata?.namespace ?? '';
  const name = svc.metadata?.name ?? '';
  try {
    if (name === '') throw new ServiceParseError('metadata.name', 'is empty');
    return ok(parse(svc, namespace, name, namespaceLabels));
  } catch (e) {
    if (!(e instanceof ServiceParseError)) throw e;
    return err({ kind: 'Service', namespace, name, field: e.field, message: e.message });
  }
}

function parse(svc: V1Service, namespace: string, name: string, namespaceLabels: Labels): ServiceRequest {
  const annotations = svc.metadata?.annotations ?? {};
  const warnings: string[] = [];
  const annotation = (spellings: readonly string[]): { key: string; value: string } | undefined => {
    const present = spellings.filter((key) => annotations[key] !== undefined);
    for (const key of present) {
      if (key !== spellings[0]) warnings.push(`annotation "${key}" is deprecated; use "${spellings[0]}"`);
    }
    const key = present[0];
    return key === undefined ? undefined : { key, value: annotations[key]!.trim() };
  };

  const ipFamilyPolicy = parsePolicy(svc.spec?.ipFamilyPolicy);
  const ipFamilies = parseFamilies(svc, ipFamilyPolicy);
  const requestedIPs = parseRequestedIPs(svc, annotation(ANNOTATION.loadBalancerIPs), ipFamilyPolicy, ipFamilies);
  const pool = annotation(ANNOTATION.addressPool)?.value || undefined;
  const sharingKey = annotation(ANNOTATION.allowSharedIP)?.value ?? '';

  return {
    namespace,
    name,
    requestedIPs,
    pool,
    sharingKey,
    ports: parsePorts(svc),
    backendKey: svc.spec?.externalTrafficPolicy === 'Local' ? canonicalSelector(svc.spec.selector) : '',
    ipFamilyPolicy,
    ipFamilies,
    loadBalancerClass: svc.spec?.loadBalancerClass || undefined,
    labels: { ...(svc.metadata?.labels ?? {}) },
    namespaceLabels,
    warnings,
  };
}

function parsePolicy(raw: string | undefined): IPFamilyPolicy {
  if (raw === undefined || raw === null || raw === '') return 'SingleStack';
  if (raw === 'SingleStack' || raw === 'PreferDualStack' || raw === 'RequireDualStack') return raw;
  throw new ServiceParseError('spec.ipFamilyPolicy', `"${raw}" is not one of SingleStack, PreferDualStack, RequireDualStack`);
}

/** From spec.ipFamilies when set (the API server always sets it), else from the cluster IPs. */
function parseFamilies(svc: V1Service, policy: IPFamilyPolicy): Family[] {
  const families: Family[] = [];
  const add = (f: Family): void => {
    if (!families.includes(f)) families.push(f);
  };
  const declared = svc.spec?.ipFamilies ?? [];
  declared.forEach((text, i) => {
    if (text === 'IPv4') add(4);
    else if (text === 'IPv6') add(6);
    else throw new ServiceParseError(`spec.ipFamilies[${i}]`, `"${text}" is not IPv4 or IPv6`);
  });
  if (families.length === 0) {
    const clusterIPs = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : [svc.spec?.clusterIP ?? ''];
    for (const text of clusterIPs) {
      const ip = parseIP(text);
      if (ip.ok) add(ip.value.family);
    }
  }
  if (families.length === 0) throw new ServiceParseError('spec.ipFamilies', 'is empty and the Service has no cluster IP to take a family from');
  if (policy === 'SingleStack') return families.slice(0, 1);
  if (policy === 'RequireDualStack' && families.length < 2) {
    throw new ServiceParseError('spec.ipFamilies', `ipFamilyPolicy RequireDualStack needs IPv4 and IPv6, but the Service has only ${familyName(families[0]!)}`);
  }
  return families;
}

function parseRequestedIPs(
  svc: V1Service,
  fromAnnotation: { key: string; value: string } | undefined,
  policy: IPFamilyPolicy,
  families: readonly Family[],
): IPAddress[] {
  const specText = svc.spec?.loadBalancerIP?.trim() ?? '';
  const fromSpec = specText === '' ? undefined : parseIPList('spec.loadBalancerIP', specText);
  const fromAnno = fromAnnotation && fromAnnotation.value !== '' ? parseIPList(annotationField(fromAnnotation.key), fromAnnotation.value) : undefined;
  if (fromSpec && fromAnno && !sameAddresses(fromSpec.ips, fromAnno.ips)) {
    throw new ServiceParseError(
      'spec.loadBalancerIP',
      `"${specText}" differs from annotation "${fromAnnotation!.key}" (${fromAnnotation!.value}); set only one of them`,
    );
  }
  const chosen = fromAnno ?? fromSpec;
  if (!chosen) return [];
  for (const ip of chosen.ips) {
    if (!families.includes(ip.family)) {
      throw new ServiceParseError(
        chosen.field,
        `requests ${familyName(ip.family)} address ${ip.text}, but the Service's IP families are ${families.map(familyName).join(', ')}`,
      );
    }
  }
  if (policy === 'RequireDualStack' && chosen.ips.length < 2) {
    throw new ServiceParseError(chosen.field, `ipFamilyPolicy RequireDualStack needs one address per family, but only ${familyName(chosen.ips[0]!.family)} is given`);
  }
  return chosen.ips;
}

function parseIPList(field: string, text: string): { field: string; ips: IPAddress[] } {
  const ips: IPAddress[] = [];
  for (const part of text.split(',')) {
    const ip = parseIP(part);
    if (!ip.ok) throw new ServiceParseError(field, ip.error);
    const same = ips.find((other) => other.family === ip.value.family);
    if (same) {
      throw new ServiceParseError(field, `gives two ${familyName(same.family)} addresses (${same.text}, ${ip.value.text}); at most one per family`);
    }
    ips.push(ip.value);
  }
  return { field, ips: ips.sort((a, b) => a.family - b.family) };
}

const sameAddresses = (a: readonly IPAddress[], b: readonly IPAddress[]): boolean =>
  a.length === b.length && a.every((ip, i) => ip.family === b[i]!.family && ip.value === b[i]!.value);

function parsePorts(svc: V1Service): ServicePort[] {
  const ports: ServicePort[] = [];
  (svc.spec?.ports ?? []).forEach((p, i) => {
    const protocol = p.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') {
      throw new ServiceParseError(`spec.ports[${i}].protocol`, `"${protocol}" is not TCP, UDP or SCTP`);
    }
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
      throw new ServiceParseError(`spec.ports[${i}].port`, `${JSON.stringify(p.port)} is not a port number (1-65535)`);
    }
    if (!ports.some((q) => q.protocol === protocol && q.port === p.port)) ports.push({ protocol, port: p.port });
  });
  return ports.sort((a, b) => (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : a.port - b.port));
}

/** Like MetalLB's labels.Set(selector).String(): keys sorted, "k=v" joined by commas. */
function canonicalSelector(selector: Record<string, string> | undefined): string {
  return Object.entries(selector ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
