import { describe, expect, it } from 'vitest';
import { ClusterModel } from './cluster-model.ts';
import { nodeObject, svc } from './cluster-model.test.ts';
import { decodeState, encodeState } from './state-file.ts';

describe('state file', () => {
  it('round-trips a model snapshot', () => {
    const model = new ClusterModel();
    model.set('nodes', nodeObject('node-a', { rack: 'a' }));
    model.set('services', svc('web', ['198.51.100.7']));
    const text = encodeState('node-a', new Date('2026-03-01T00:00:00Z'), model.snapshot());
    const decoded = decodeState(text, 'node-a');
    expect(decoded).toEqual({ ok: true, value: { savedAt: '2026-03-01T00:00:00.000Z', model: JSON.parse(JSON.stringify(model.snapshot())) } });
  });

  it.each([
    ['{', /^not JSON/],
    ['[]', /^version undefined/],
    ['{"version":2}', /^version 2, expected 1/],
    ['{"version":1,"node":"node-b","savedAt":"x","model":{}}', /^written by node "node-b", this is node-a/],
    ['{"version":1,"node":"node-a","savedAt":"x","model":{"services":[]}}', /^model.endpointSlices is not a list/],
    ['{"version":1,"node":"node-a","savedAt":"x","model":{"services":[1],"endpointSlices":[],"nodes":[],"advertisements":[],"pools":[],"speakerPods":[]}}', /services holds something that is not an object/],
  ])('refuses %s', (text, message) => {
    const decoded = decodeState(text, 'node-a');
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error).toMatch(message);
  });
});
