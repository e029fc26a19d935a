import { describe, expect, it } from 'vitest';
import { serviceKey } from '../../shared/config/index.ts';
import { groupSharedIPs } from './ip-groups.ts';
import { service } from './test-fixtures.ts';

const shape = (groups: ReturnType<typeof groupSharedIPs>) =>
  groups.map((g) => ({ key: g.key.text, ips: g.ips.map((ip) => ip.text), services: g.services.map(serviceKey) }));

describe('groupSharedIPs', () => {
  it('keeps a dual-stack pair together and keys it on the IPv4 address', () => {
    expect(shape(groupSharedIPs([service('a/web', ['2001:db8::5', '198.51.100.9'])]))).toEqual([
      { key: '198.51.100.9', ips: ['198.51.100.9', '2001:db8::5'], services: ['a/web'] },
    ]);
  });

  it('chains Services through shared IPs into one group (metallb#968 split them)', () => {
    // x holds .1; y holds .2 and .1 (first IP .2, so MetalLB keyed x and y differently); z holds .2 and .3.
    const groups = groupSharedIPs([
      service('a/x', ['198.51.100.1']),
      service('a/y', ['198.51.100.2', '198.51.100.1']),
      service('a/z', ['198.51.100.3', '198.51.100.2']),
      service('a/alone', ['203.0.113.5']),
      service('a/none', []),
    ]);
    expect(shape(groups)).toEqual([
      { key: '198.51.100.1', ips: ['198.51.100.1', '198.51.100.2', '198.51.100.3'], services: ['a/x', 'a/y', 'a/z'] },
      { key: '203.0.113.5', ips: ['203.0.113.5'], services: ['a/alone'] },
    ]);
  });

  it('orders IPs numerically, not as text', () => {
    const [group] = groupSharedIPs([service('a/s', ['198.51.100.10', '198.51.100.9'])]);
    expect(group?.ips.map((ip) => ip.text)).toEqual(['198.51.100.9', '198.51.100.10']);
  });
});
