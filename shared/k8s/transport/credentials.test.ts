import { describe, expect, it } from 'vitest';
import { staticToken, tokenFile } from './credentials.ts';

function fakeFile(initial: string | Error) {
  let content: string | Error = initial;
  let reads = 0;
  return {
    set: (c: string | Error) => void (content = c),
    reads: () => reads,
    readFile: () => {
      reads++;
      if (content instanceof Error) throw content;
      return content;
    },
  };
}

describe('bearer tokens', () => {
  it('a static token never changes, and a 401 does not make it retry', () => {
    const t = staticToken('abc');
    expect(t.current()).toEqual({ ok: true, value: 'abc' });
    expect(t.refresh()).toBe(false);
  });

  it('a token file is read at most once per maxAge, so a rotated token is picked up within a minute', () => {
    let now = 0;
    const file = fakeFile('one\n');
    const t = tokenFile('/sa/token', { readFile: file.readFile, now: () => now, maxAgeMs: 60_000 });
    expect(t.current()).toEqual({ ok: true, value: 'one' });
    file.set('two');
    now = 59_999;
    expect(t.current()).toEqual({ ok: true, value: 'one' });
    expect(file.reads()).toBe(1);
    now = 60_000;
    expect(t.current()).toEqual({ ok: true, value: 'two' });
    expect(file.reads()).toBe(2);
  });

  it('after a 401, refresh re-reads at once and says whether a retry can help', () => {
    const file = fakeFile('one');
    const t = tokenFile('/sa/token', { readFile: file.readFile, now: () => 0 });
    t.current();
    expect(t.refresh()).toBe(false);
    file.set('two');
    expect(t.refresh()).toBe(true);
    expect(t.current()).toEqual({ ok: true, value: 'two' });
  });

  it('an unreadable or empty file keeps the last good token, or the kubeconfig’s token; without either, says why', () => {
    let now = 0;
    const file = fakeFile('one');
    const t = tokenFile('/sa/token', { readFile: file.readFile, now: () => now, maxAgeMs: 10 });
    t.current();
    file.set(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }));
    now = 10;
    expect(t.current()).toEqual({ ok: true, value: 'one' });

    const fallback = tokenFile('/x', { readFile: fakeFile(new Error('EACCES: permission denied')).readFile, now: () => 0, fallback: 'from-kubeconfig' });
    expect(fallback.current()).toEqual({ ok: true, value: 'from-kubeconfig' });
    expect(tokenFile('/x', { readFile: fakeFile('  \n').readFile, now: () => 0 }).current()).toEqual({ ok: false, error: 'token file /x is empty' });
    expect(tokenFile('/x', { readFile: fakeFile(new Error('EACCES: permission denied')).readFile, now: () => 0 }).current()).toEqual({
      ok: false,
      error: 'token file /x: EACCES: permission denied',
    });
  });
});
