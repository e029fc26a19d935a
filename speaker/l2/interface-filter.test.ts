import { describe, expect, it } from 'vitest';
import { iface } from './fixtures.test-util.ts';
import { chooseInterfaces } from './interface-filter.ts';

const host = [
  iface('lo', { loopback: true, mac: '00:00:00:00:00:00', hardwareType: 772, broadcast: false }),
  iface('eno1'),
  iface('eno2', { master: 'bond0' }),
  iface('eno3', { master: 'bond0' }),
  iface('bond0', { kind: 'bond' }),
  iface('eth9', { up: false }),
  iface('br0', { kind: 'bridge' }),
  iface('enp5s0', { master: 'br0' }),
  iface('docker0', { kind: 'bridge' }),
  iface('veth12ab', { master: null }),
  iface('cali1234'),
  iface('flannel.1', { kind: 'vxlan' }),
  iface('kube-ipvs0', { noArp: true, kind: 'dummy' }),
  iface('wg0', { mac: null, hardwareType: 65534, broadcast: false, noArp: true }),
  iface('tun0', { mac: null, hardwareType: 65534, kind: 'tun', broadcast: false }),
];

describe('chooseInterfaces', () => {
  it('keeps uplinks, bonds and bridges; drops loopback, down, NOARP, members, non-Ethernet and CNI plumbing', () => {
    const choice = chooseInterfaces(host);
    expect(choice.eligible.map((i) => i.name)).toEqual(['eno1', 'bond0', 'br0']);
    const reasons = Object.fromEntries(choice.skipped.map((s) => [s.name, s.reason]));
    expect(reasons).toEqual({
      lo: 'loopback',
      eno2: 'member-of-master',
      eno3: 'member-of-master',
      eth9: 'down',
      enp5s0: 'member-of-master',
      docker0: 'excluded-by-name',
      veth12ab: 'excluded-by-name',
      cali1234: 'excluded-by-name',
      'flannel.1': 'excluded-by-name',
      'kube-ipvs0': 'no-arp',
      wg0: 'no-arp',
      tun0: 'not-ethernet',
    });
  });

  it("intersects with an advertisement's interfaces and names the ones that cannot be used", () => {
    const choice = chooseInterfaces(host, { only: ['bond0', 'eno2', 'eth7'] });
    expect(choice.eligible.map((i) => i.name)).toEqual(['bond0']);
    expect(choice.skipped.find((s) => s.name === 'eno2')).toMatchObject({ reason: 'member-of-master', detail: 'member of bond0' });
    expect(choice.missing).toEqual(['eth7']);
  });

  it('takes an interface the advertisement names even if a default name pattern excludes it', () => {
    expect(chooseInterfaces(host, { only: ['veth12ab'] }).eligible.map((i) => i.name)).toEqual(['veth12ab']);
  });

  it('treats an empty interfaces list as no restriction', () => {
    expect(chooseInterfaces(host, { only: [] }).eligible.map((i) => i.name)).toEqual(['eno1', 'bond0', 'br0']);
  });

  it('accepts custom exclusion patterns', () => {
    expect(chooseInterfaces(host, { excludeNames: [/^eno/] }).eligible.map((i) => i.name)).toContain('docker0');
  });
});
