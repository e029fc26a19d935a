import { describe, expect, it } from 'vitest';
import { compileSelector, matchesAny, type LabelSelector } from './index.ts';

const compile = (s: LabelSelector) => {
  const r = compileSelector(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('label selectors', () => {
  it('requires every matchLabels pair', () => {
    const s = compile({ matchLabels: { app: 'web', tier: 'front' } });
    expect(s.matches({ app: 'web', tier: 'front', x: 'y' })).toBe(true);
    expect(s.matches({ app: 'web' })).toBe(false);
    expect(s.matches(undefined)).toBe(false);
  });

  it('evaluates In, NotIn, Exists and DoesNotExist like the API server', () => {
    const s = compile({
      matchExpressions: [
        { key: 'zone', operator: 'In', values: ['a', 'b'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'rack', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
    expect(s.matches({ zone: 'a', rack: '1' })).toBe(true);
    expect(s.matches({ zone: 'c', rack: '1' })).toBe(false);
    expect(s.matches({ zone: 'a', rack: '1', env: 'prod' })).toBe(false);
    expect(s.matches({ zone: 'a' })).toBe(false);
    expect(s.matches({ zone: 'a', rack: '1', legacy: '' })).toBe(false);
    expect(s.text).toBe('zone in (a,b),env notin (prod),rack,!legacy');
  });

  it('matches everything when empty, and OR-s a list', () => {
    expect(compile({}).matches({})).toBe(true);
    const a = compile({ matchLabels: { a: '1' } });
    const b = compile({ matchLabels: { b: '1' } });
    expect(matchesAny([], { z: '1' })).toBe(true);
    expect(matchesAny([a, b], { b: '1' })).toBe(true);
    expect(matchesAny([a, b], { c: '1' })).toBe(false);
  });

  it('rejects malformed expressions with the index and reason', () => {
    const r1 = compileSelector({ matchExpressions: [{ key: 'k', operator: 'In', values: [] }] });
    expect(r1).toEqual({ ok: false, error: 'matchExpressions[0] (k In) needs at least one value' });
    const r2 = compileSelector({ matchExpressions: [{ key: 'k', operator: 'Exists', values: ['x'] }] });
    expect(r2.ok).toBe(false);
    const r3 = compileSelector({ matchExpressions: [{ key: 'k', operator: 'Near' as never }] });
    expect(!r3.ok && r3.error).toContain('"Near" is not one of');
  });
});
