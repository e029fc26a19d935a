import { Registry } from '../../shared/observability/index.ts';
import { describe, expect, it } from 'vitest';
import type { ClaimEntry } from '../l2/index.ts';
import { createSpeakerMetrics, recordWireStats } from './metrics.ts';
import { fromEntries, monotonicMs, toEntries } from './wire-protocol.ts';

describe('ownership over postMessage', () => {
  it('round-trips a table through plain arrays (structured clone keeps no Sets of our shape)', () => {
    const table = new Map<string, ClaimEntry>([
      ['198.51.100.7', { allowed: 'all', mode: 'agreed' }],
      ['2001:db8::7', { allowed: new Set(['eth1', 'eth0']), mode: 'probe-first' }],
    ]);
    const copy = fromEntries(structuredClone(toEntries(table)));
    expect(copy.get('198.51.100.7')).toEqual({ allowed: 'all', mode: 'agreed' });
    expect(copy.get('2001:db8::7')).toEqual({ allowed: new Set(['eth0', 'eth1']), mode: 'probe-first' });
    expect(copy.size).toBe(2);
  });
});

describe('monotonicMs', () => {
  it('never goes back', () => {
    const a = monotonicMs();
    const b = monotonicMs();
    expect(b).toBeGreaterThanOrEqual(a);
  });
});

describe('recordWireStats', () => {
  it('adds the worker\'s counts to the labelled series', async () => {
    const registry = new Registry();
    const m = createSpeakerMetrics(registry);
    recordWireStats(m, { sent: 30, received: 20, rejected: { 'bad-mac': 2 }, kernelDrops: { raw: 3, udp: 0 } }, [
      ['replySent', 'arp', '198.51.100.7', 5],
      ['garbled', 'ndp', 'bad-checksum', 1],
    ]);
    recordWireStats(m, { sent: 10, received: 0, rejected: {}, kernelDrops: { raw: 1, udp: 2 } }, [['replySent', 'arp', '198.51.100.7', 1]]);
    const text = await registry.metrics();
    expect(text).toContain('ballast_speaker_heartbeats_sent_total 40');
    expect(text).toContain('ballast_speaker_heartbeats_rejected_total{reason="bad-mac"} 2');
    expect(text).toContain('ballast_speaker_heartbeats_received_total 20');
    expect(text).toContain('ballast_speaker_heartbeat_kernel_drops_total{path="raw"} 4');
    expect(text).toContain('ballast_speaker_heartbeat_kernel_drops_total{path="udp"} 2');
    expect(text).toContain('ballast_speaker_replies_sent_total{protocol="arp",ip="198.51.100.7"} 6');
    expect(text).toContain('ballast_speaker_garbled_frames_total{protocol="ndp",reason="bad-checksum"} 1');
  });
});
