import { describe, expect, it } from 'vitest';
import { runCli, type CliIO } from './run.ts';

function io(files: Record<string, string> = {}): CliIO & { out: string; err: string } {
  const state = {
    out: '',
    err: '',
    stdout: (t: string) => void (state.out += t),
    stderr: (t: string) => void (state.err += t),
    readInput: async (path: string) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
    env: {},
    isTTY: false,
    columns: undefined,
  };
  return state;
}

describe('runCli', () => {
  it('prints usage for help (exit 0) and for no command (exit 2)', async () => {
    const a = io();
    expect(await runCli(['help'], a)).toBe(0);
    expect(a.out).toContain('Usage: ballast <command>');
    expect(await runCli([], io())).toBe(2);
  });

  it('refuses an unknown command or flag with exit 2', async () => {
    const a = io();
    expect(await runCli(['frobnicate'], a)).toBe(2);
    expect(a.err).toContain('unknown command "frobnicate"');
    const b = io();
    expect(await runCli(['status', '--colour'], b)).toBe(2);
    expect(b.err).toMatch(/^ballast status: Unknown option '--colour'/);
    const c = io();
    expect(await runCli(['status', '--output', 'yaml'], c)).toBe(2);
    expect(c.err).toContain('--output must be text or json');
  });

  it('convert-metallb: YAML on stdout, what was not converted on stderr, exit 1 when something was dropped', async () => {
    const a = io({
      'mlb.yaml': `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lan, namespace: metallb-system}
spec: {addresses: [198.51.100.0/28]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: lan, namespace: metallb-system}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 198.51.100.1}
`,
    });
    expect(await runCli(['convert-metallb', 'mlb.yaml', '--namespace', 'lb'], a)).toBe(1);
    expect(a.out).toContain('apiVersion: ballast.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: lan\n  namespace: lb\n');
    expect(a.err).toBe(
      'not converted: BGPPeer metallb-system/tor: BGPPeer is BGP configuration; Ballast announces in layer 2 (ARP/NDP) only\nconverted 2 objects; 1 problem (see above)\n',
    );
  });

  it('convert-metallb exits 0 when everything converted, 2 when the file is missing', async () => {
    const a = io({ 'ok.yaml': 'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: all}\n' });
    expect(await runCli(['convert-metallb', 'ok.yaml'], a)).toBe(0);
    expect(a.err).toBe('converted 1 object\n');
    const b = io();
    expect(await runCli(['convert-metallb', 'missing.yaml'], b)).toBe(2);
    expect(b.err).toContain("ENOENT: no such file, open 'missing.yaml'");
  });
});
