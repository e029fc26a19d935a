import { describe, expect, it } from 'vitest';
import { parseSpeakerFlags } from './flags.ts';

describe('parseSpeakerFlags', () => {
  it('applies the defaults', () => {
    const f = parseSpeakerFlags([], { NODE_NAME: 'node-a' });
    expect(f).toEqual({
      ok: true,
      value: {
        kubeconfig: undefined,
        namespace: 'ballast-system',
        nodeName: 'node-a',
        loadBalancerClass: undefined,
        heartbeatSecret: 'ballast-heartbeat',
        heartbeatIntervalMs: 100,
        heartbeatPort: 7947,
        metricsBindAddress: { host: '::', port: 7473 },
        logLevel: 'info',
        stateDir: '/var/lib/ballast',
        interfacesExclude: [],
        podName: undefined,
      },
    });
  });

  it('reads flags before BALLAST_* variables, and POD_NAMESPACE / POD_NAME from the downward API', () => {
    const f = parseSpeakerFlags(
      ['--node-name=node-b', '--heartbeat-interval=50ms', '--interfaces-exclude=^eno', '--interfaces-exclude', '^wl,^ib', '--metrics-bind-address=127.0.0.1:0'],
      { NODE_NAME: 'ignored', POD_NAMESPACE: 'lb', POD_NAME: 'ballast-speaker-x', BALLAST_STATE_DIR: '/tmp/s', BALLAST_LOAD_BALANCER_CLASS: 'example.com/lb' },
    );
    if (!f.ok) throw new Error(f.error);
    expect(f.value).toMatchObject({ nodeName: 'node-b', namespace: 'lb', podName: 'ballast-speaker-x', stateDir: '/tmp/s', loadBalancerClass: 'example.com/lb', heartbeatIntervalMs: 50 });
    expect(f.value.metricsBindAddress).toEqual({ host: '127.0.0.1', port: 0 });
    expect(f.value.interfacesExclude.map((r) => r.source)).toEqual(['^eno', '^wl', '^ib']);
  });

  it.each([
    [[], {}, '--node-name (or NODE_NAME) is required: the speaker must know which node it runs on'],
    [['--node-name=Node_A'], {}, '--node-name: "Node_A" is not a Kubernetes node name (an RFC 1123 subdomain)'],
    [['--node-name=a', '--heartbeat-interval=5ms'], {}, '--heartbeat-interval: 5 ms is outside 10ms–10s (whole milliseconds)'],
    [['--node-name=a', '--heartbeat-interval=100'], {}, '--heartbeat-interval: "100" is not a duration such as 500ms, 15s or 2m'],
    [['--node-name=a', '--interfaces-exclude=('], {}, /^--interfaces-exclude: "\(" is not a regular expression/],
    [['--node-name=a', '--log-level=loud'], {}, /is not a log level/],
    [['--node-name=a', '--heartbeat-port=0'], {}, '--heartbeat-port: "0" is not a port number (1–65535)'],
    [['--node-name=a'], { BALLAST_HEARTBEAT_PORT: '79x' }, '--heartbeat-port: "79x" is not a port number (1–65535)'],
    [['--node-name=a', '--no-such-flag'], {}, /Unknown option '--no-such-flag'/],
  ])('refuses %j', (argv, env, message) => {
    const f = parseSpeakerFlags(argv, env);
    expect(f.ok).toBe(false);
    if (!f.ok) expect(f.error).toMatch(message);
  });
});
