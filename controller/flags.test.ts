import { describe, expect, it } from 'vitest';
import { parseBindAddress, parseControllerFlags, parseDuration } from './flags.ts';

describe('controller flags', () => {
  it('has the documented defaults', () => {
    const r = parseControllerFlags([], { POD_NAMESPACE: 'ballast-system', POD_NAME: 'ballast-controller-abc' });
    expect(r).toMatchObject({
      ok: true,
      value: {
        namespace: 'ballast-system',
        instance: 'ballast-controller-abc',
        leaderElect: true,
        leaseName: 'ballast-controller',
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
        metricsBindAddress: ':7472',
        webhookEnabled: true,
        webhookBindAddress: ':9443',
        loadBalancerClass: undefined,
        logLevel: 'info',
      },
    });
  });

  it('takes --name=value for every flag, booleans included, and BALLAST_* from the environment', () => {
    const r = parseControllerFlags(['--leader-elect=false', '--lease-duration=3s', '--load-balancer-class=example.com/lb'], { BALLAST_LOG_LEVEL: 'debug', BALLAST_WEBHOOK_ENABLED: 'false' });
    expect(r).toMatchObject({ ok: true, value: { leaderElect: false, leaseDurationMs: 3_000, loadBalancerClass: 'example.com/lb', logLevel: 'debug', webhookEnabled: false } });
  });

  it('says which flag is wrong and why', () => {
    expect(parseControllerFlags(['--leader-elect=maybe'])).toEqual({ ok: false, error: '--leader-elect: "maybe" is not true or false' });
    expect(parseControllerFlags(['--retry-period=2'])).toEqual({ ok: false, error: '--retry-period: "2" is not a duration such as 500ms, 15s or 2m' });
    expect(parseControllerFlags(['--nonsense=1']).ok).toBe(false);
    expect(parseDuration('x', '1.5s', 0)).toEqual({ ok: true, value: 1500 });
  });

  it('parses bind addresses with an empty, IPv4 or bracketed IPv6 host', () => {
    expect(parseBindAddress('m', ':7472')).toEqual({ ok: true, value: { host: '::', port: 7472 } });
    expect(parseBindAddress('m', '127.0.0.1:0')).toEqual({ ok: true, value: { host: '127.0.0.1', port: 0 } });
    expect(parseBindAddress('m', '[::1]:9443')).toEqual({ ok: true, value: { host: '::1', port: 9443 } });
    expect(parseBindAddress('m', '7472').ok).toBe(false);
  });
});
