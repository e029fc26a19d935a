import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { analyze } from './analyze.ts';
import { formatCount, renderStatus, reportToJson, usageBar, visibleLength, wrap } from './render.ts';
import { healthy, pool, readyStatus, service, warning } from './fixtures.test-util.ts';

/** The healthy cluster plus a Service without an IP and a nearly full pool. */
function troubled() {
  const s = healthy();
  s.services.push(service('shop', 'db', []));
  s.events.push(warning('shop', 'db', 'AllocationFailed', 'no available IPs in pool "default"; every pool that matches this Service is full', '2025-01-02T00:00:00Z'));
  s.pools.push(pool('small', ['198.51.100.0/29'], { status: readyStatus(7, 1) }));
  return analyze(s);
}

const ESC = '\x1b[';

describe('renderStatus', () => {
  it('shows pools with usage bars, Services with IP, pool and node, and the problems', () => {
    const out = renderStatus(troubled(), { color: false, width: 100 });
    expect(out).toEqual([
      'Ballast in namespace ballast-system · speakers ready on 2/2 nodes',
      '',
      'IP address pools (2)',
      '  default  Ready',
      '    203.0.113.0/24, 2001:db8:100::/64',
      '    IPv4 ▎░░░░░░░░░░░░░░░░░░░░░░░  2/256 used (<1%)',
      '    IPv6 ▏░░░░░░░░░░░░░░░░░░░░░░░  1/2^64 used (<1%)',
      '  small  Ready',
      '    198.51.100.0/29',
      '    IPv4 █████████████████████░░░  7/8 used (88%)',
      '',
      'LoadBalancer Services (3)',
      '  SERVICE   IPS                           POOL     NODE',
      '  shop/api  203.0.113.2                   default  node-2',
      '  shop/db   —                             —        —',
      '  shop/web  203.0.113.1, 2001:db8:100::1  default  node-1',
      '',
      'Problems (1)',
      '  ✗ Service shop/db: has no IP: AllocationFailed: no available IPs in pool "default"; every pool',
      '    that matches this Service is full',
    ]);
  });

  it('says so when there is nothing wrong', () => {
    expect(renderStatus(analyze(healthy()), { color: false, width: 100 }).at(-1)).toBe('✓ No problems found.');
  });

  it('uses no escape codes without colour, and colours errors red with it', () => {
    const report = troubled();
    expect(renderStatus(report, { color: false, width: 100 }).join('\n')).not.toContain(ESC);
    const coloured = renderStatus(report, { color: true, width: 100 });
    expect(coloured.find((l) => l.includes('Service shop/db'))).toContain(`${ESC}31m✗${ESC}0m`);
    // Colour changes nothing but the escape codes.
    expect(coloured.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''))).toEqual(renderStatus(report, { color: false, width: 100 }));
  });

  it('stacks the Service table on a narrow terminal', () => {
    const out = renderStatus(troubled(), { color: false, width: 40 });
    const start = out.indexOf('LoadBalancer Services (3)');
    expect(out.slice(start + 1, start + 5)).toEqual(['  shop/api', '    ips  203.0.113.2', '    pool default', '    node node-2']);
  });

  it('keeps every line within the width, with or without colour (property)', () => {
    const report = troubled();
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 160 }), fc.boolean(), (width, color) => {
        for (const line of renderStatus(report, { color, width })) expect(visibleLength(line)).toBeLessThanOrEqual(width);
      }),
    );
  });

  it('drops the bars, not the figures, when there is no room for them', () => {
    const out = renderStatus(troubled(), { color: false, width: 30 });
    expect(out).toContain('    IPv4 2/256 used (<1%)');
    expect(out.join('\n')).not.toContain('█');
  });
});

describe('usageBar', () => {
  it('draws 1 of 191 used as a sliver, not a whole block', () => {
    expect(usageBar(1n, 190n, 24)).toEqual({ filled: '▏', empty: '░'.repeat(23) });
  });

  it('is exact to an eighth of a cell, never empty when something is used, never full when something is free', () => {
    expect(usageBar(0n, 8n, 8).filled).toBe('');
    expect(usageBar(4n, 4n, 8).filled).toBe('████');
    expect(usageBar(7n, 1n, 24).filled).toBe('█'.repeat(21));
    expect(usageBar(1n, 15n, 8).filled).toBe('▌');
    expect(usageBar(1n, (1n << 64n) - 1n, 24).filled).toBe('▏');
    expect(usageBar(999n, 1n, 10).filled).toBe('█'.repeat(9) + '▉');
    expect(usageBar(8n, 0n, 10).filled).toBe('█'.repeat(10));
  });

  it('always spans exactly its cells (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 70n }), fc.bigInt({ min: 0n, max: 1n << 70n }), fc.integer({ min: 1, max: 40 }), (used, free, cells) => {
        const { filled, empty } = usageBar(used, free, cells);
        expect([...filled].length + empty.length).toBe(cells);
        if (used > 0n) expect(filled).not.toBe('');
        if (free > 0n) expect(empty.length > 0 || !filled.endsWith('█')).toBe(true);
      }),
    );
  });
});

describe('formatCount', () => {
  it.each([
    [0n, '0'],
    [254n, '254'],
    [9_999_999n, '9999999'],
    [1n << 64n, '2^64'],
    [(1n << 64n) - 1n, '1.84e19'],
    [12_345_678n, '1.23e7'],
  ])('%s → %s', (n, text) => expect(formatCount(n)).toBe(text));
});

describe('wrap', () => {
  it('breaks at spaces with a hanging indent and cuts words longer than a line', () => {
    expect(wrap('  one two three four', 10, 4)).toEqual(['  one two', '    three', '    four']);
    expect(wrap('abcdefghijkl', 5, 1)).toEqual(['abcde', ' fghi', ' jkl']);
  });

  it('never loses a word and never exceeds the width (property)', () => {
    const word = fc.stringMatching(/^[a-z]{1,30}$/);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 20 }), fc.integer({ min: 8, max: 60 }), fc.integer({ min: 0, max: 6 }), (words, width, indent) => {
        const lines = wrap(words.join(' '), width, indent);
        for (const l of lines) expect(visibleLength(l)).toBeLessThanOrEqual(width);
        expect(lines.join('').replace(/ /g, '')).toBe(words.join(''));
      }),
    );
  });
});

describe('reportToJson', () => {
  it('writes bigints as decimal strings', () => {
    const json = JSON.parse(reportToJson(analyze(healthy())));
    expect(json.pools[0].usage[1]).toEqual({ family: 'IPv6', assigned: '1', available: '18446744073709551615', source: 'status' });
    expect(json.services[1]).toEqual({ namespace: 'shop', name: 'web', ips: ['203.0.113.1', '2001:db8:100::1'], pool: 'default', nodes: ['node-1'] });
  });
});
