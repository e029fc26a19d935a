import { describe, expect, it } from 'vitest';
import { createLogger, parseLogLevel } from './logger.ts';

function capture(): { lines: () => Array<Record<string, unknown>>; destination: { write(s: string): void } } {
  const chunks: string[] = [];
  return {
    destination: { write: (s: string) => void chunks.push(s) },
    lines: () => chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('parseLogLevel', () => {
  it('takes the flag over LOG_LEVEL over the default', () => {
    expect(parseLogLevel('DEBUG', { LOG_LEVEL: 'warn' })).toEqual({ ok: true, value: 'debug' });
    expect(parseLogLevel(undefined, { LOG_LEVEL: 'warn' })).toEqual({ ok: true, value: 'warn' });
    expect(parseLogLevel(undefined, {})).toEqual({ ok: true, value: 'info' });
  });

  it('rejects an unknown level and says where it came from', () => {
    const r = parseLogLevel(undefined, { LOG_LEVEL: 'verbose' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toBe('LOG_LEVEL "verbose" is not a log level (one of fatal, error, warn, info, debug, trace, silent)');
    expect(parseLogLevel('loud', {})).toMatchObject({ ok: false, error: expect.stringContaining('--log-level "loud"') });
  });
});

describe('createLogger', () => {
  it('writes one JSON object per line with the level name, an ISO time, the component and child fields', () => {
    const out = capture();
    const log = createLogger({ component: 'ballast-controller', level: 'debug', destination: out.destination });
    log.child({ component: 'allocator', pool: 'default' }).debug({ ip: '203.0.113.7' }, 'allocated');
    log.trace('not written below debug');
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'debug', component: 'allocator', pool: 'default', ip: '203.0.113.7', msg: 'allocated' });
    expect(Date.parse(String(lines[0]!.time))).not.toBeNaN();
  });

  it('serialises errors with their message and stack', () => {
    const out = capture();
    createLogger({ component: 'c', destination: out.destination }).error({ err: new Error('boom') }, 'failed');
    expect(out.lines()[0]).toMatchObject({ level: 'error', component: 'c', err: { message: 'boom', type: 'Error' } });
  });
});
