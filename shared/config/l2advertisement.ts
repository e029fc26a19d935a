// L2Advertisement → checked value: selectors compiled once, interface names
// checked the way the kernel checks them, every problem reported with its field.
import type { L2Advertisement } from '../api/index.ts';
import { compileSelector, type LabelSelector, type Selector } from '../labels/index.ts';
import { err, ok, type Result } from '../result.ts';
import type { ConfigError } from './config-error.ts';

/** Interfaces an IP may be announced on: every interface, or only these names. */
export type InterfaceSet = 'all' | ReadonlySet<string>;

export interface L2AdvertisementConfig {
  readonly namespace: string;
  readonly name: string;
  /** spec.ipAddressPools by name. With no poolSelectors either, the advertisement covers every pool. */
  readonly poolNames: ReadonlySet<string>;
  readonly poolSelectors: readonly Selector[];
  /** OR-ed; empty ⇒ every node. */
  readonly nodeSelectors: readonly Selector[];
  /** OR-ed; empty ⇒ every Service. */
  readonly serviceSelectors: readonly Selector[];
  readonly interfaces: InterfaceSet;
}

const KIND = 'L2Advertisement';

export function parseL2Advertisement(raw: L2Advertisement): Result<L2AdvertisementConfig, ConfigError[]> {
  const namespace = raw.metadata?.namespace;
  const name = raw.metadata?.name;
  const errors: ConfigError[] = [];
  const fail = (field: string, message: string): void => {
    errors.push({ kind: KIND, namespace, name, field, message });
  };
  if (!name) fail('metadata.name', 'is empty');
  if (!namespace) fail('metadata.namespace', 'is empty');

  const spec = raw.spec ?? {};
  const poolNames = new Set<string>();
  for (const [i, pool] of listField(spec.ipAddressPools, 'spec.ipAddressPools', fail).entries()) {
    if (typeof pool !== 'string' || pool === '') fail(`spec.ipAddressPools[${i}]`, 'must be a non-empty pool name');
    else poolNames.add(pool);
  }
  const compileAll = (field: string, selectors: LabelSelector[] | undefined): Selector[] =>
    listField(selectors, field, fail).flatMap((s, i) => {
      const compiled = compileSelector(s);
      if (compiled.ok) return [compiled.value];
      fail(`${field}[${i}]`, compiled.error);
      return [];
    });
  const poolSelectors = compileAll('spec.ipAddressPoolSelectors', spec.ipAddressPoolSelectors);
  const nodeSelectors = compileAll('spec.nodeSelectors', spec.nodeSelectors);
  const serviceSelectors = compileAll('spec.serviceSelectors', spec.serviceSelectors);

  const names = new Set<string>();
  for (const [i, ifname] of listField(spec.interfaces, 'spec.interfaces', fail).entries()) {
    const problem = interfaceNameProblem(ifname);
    if (problem) fail(`spec.interfaces[${i}]`, problem);
    else names.add(ifname);
  }

  if (errors.length > 0 || !name || !namespace) return err(errors);
  return ok({
    namespace,
    name,
    poolNames,
    poolSelectors,
    nodeSelectors,
    serviceSelectors,
    // MetalLB: an advertisement without interfaces announces on all of them.
    interfaces: names.size === 0 ? 'all' : names,
  });
}

function listField<T>(value: T[] | undefined, field: string, fail: (field: string, message: string) => void): T[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  fail(field, 'must be a list');
  return [];
}

/** The kernel's dev_valid_name (net/core/dev.c): 1–15 bytes, not "." or "..", no "/", ":" or whitespace. */
function interfaceNameProblem(ifname: unknown): string | undefined {
  if (typeof ifname !== 'string' || ifname === '') return 'must be a non-empty interface name';
  if (Buffer.byteLength(ifname) > 15) return `"${ifname}" is longer than the kernel's 15-byte limit (IFNAMSIZ)`;
  if (ifname === '.' || ifname === '..') return `"${ifname}" is not a valid interface name`;
  if (/[/:\s]/.test(ifname)) return `"${ifname}" contains "/", ":" or whitespace, which interface names cannot`;
  return undefined;
}
