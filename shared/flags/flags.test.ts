import { describe, expect, it } from 'vitest';
import { flagValue, parseBindAddress, parseBool, parseDuration } from './index.ts';

describe('flagValue', () => {
  it('prefers the command line, then BALLAST_<UPPER_SNAKE>, and joins repeated flags', () => {
    expect(flagValue({ 'state-dir': '/a' }, { BALLAST_STATE_DIR: '/b' }, 'state-dir')).toBe('/a');
    expect(flagValue({}, { BALLAST_STATE_DIR: '/b' }, 'state-dir')).toBe('/b');
    expect(flagValue({ x: ['^a', '^b'] }, {}, 'x')).toBe('^a,^b');
    expect(flagValue({ x: [] }, { BALLAST_X: 'env' }, 'x')).toBe('env');
    expect(flagValue({}, {}, 'missing')).toBeUndefined();
  });
});

describe('parseBool', () => {
  it.each([['true', true], ['1', true], ['YES', true], ['false', false], ['0', false], ['no', false]])('%s → %s', (raw, want) => {
    expect(parseBool('f', raw, !want)).toEqual({ ok: true, value: want });
  });
  it('falls back when unset and names the flag when wrong', () => {
    expect(parseBool('f', undefined, true)).toEqual({ ok: true, value: true });
    expect(parseBool('leader-elect', 'maybe', true)).toEqual({ ok: false, error: '--leader-elect: "maybe" is not true or false' });
  });
});

describe('parseBindAddress', () => {
  it('reads host:port, [v6]:port and :port (every address)', () => {
    expect(parseBindAddress('m', ':7473')).toEqual({ ok: true, value: { host: '::', port: 7473 } });
    expect(parseBindAddress('m', '127.0.0.1:0')).toEqual({ ok: true, value: { host: '127.0.0.1', port: 0 } });
    expect(parseBindAddress('m', '[::1]:9')).toEqual({ ok: true, value: { host: '::1', port: 9 } });
  });
  it('rejects what is not host:port', () => {
    expect(parseBindAddress('m', '7473').ok).toBe(false);
    expect(parseBindAddress('m', ':70000')).toEqual({ ok: false, error: '--m: port 70000 is out of range' });
  });
});

describe('parseDuration', () => {
  it('reads ms, s and m', () => {
    expect(parseDuration('d', '100ms', 0)).toEqual({ ok: true, value: 100 });
    expect(parseDuration('d', '1.5s', 0)).toEqual({ ok: true, value: 1500 });
    expect(parseDuration('d', '2m', 0)).toEqual({ ok: true, value: 120_000 });
    expect(parseDuration('d', undefined, 42)).toEqual({ ok: true, value: 42 });
  });
  it('rejects a number without a unit', () => {
    expect(parseDuration('heartbeat-interval', '100', 0)).toEqual({ ok: false, error: '--heartbeat-interval: "100" is not a duration such as 500ms, 15s or 2m' });
  });
});
