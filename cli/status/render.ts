// `ballast status`, the text: a report in, lines out, no wider than the
// terminal. Colour is optional (--no-color, NO_COLOR, or not a terminal); the
// text says everything without it (symbols, words), colour only helps the eye.
import type { FamilyUsage, PoolReport, Problem, ServiceReport, StatusReport } from './analyze.ts';

export interface RenderOptions {
  readonly color: boolean;
  /** Terminal columns; lines are wrapped or tables stacked to fit. */
  readonly width: number;
}

type Paint = (text: string) => string;

const ansi = (code: string): Paint => (text) => `\x1b[${code}m${text}\x1b[0m`;

export function renderStatus(report: StatusReport, opts: RenderOptions): string[] {
  const width = Math.max(20, opts.width);
  const plain: Paint = (t) => t;
  const c = opts.color
    ? { bold: ansi('1'), dim: ansi('2'), red: ansi('31'), green: ansi('32'), yellow: ansi('33'), cyan: ansi('36') }
    : { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };

  const lines: string[] = [];
  const { ready, nodes } = report.speakers;
  const speakers = nodes === 0 ? 'no nodes' : `speakers ready on ${ready}/${nodes} node${nodes === 1 ? '' : 's'}`;
  lines.push(...wrap(`${c.bold('Ballast')} in namespace ${c.bold(report.namespace)} · ${ready < nodes ? c.yellow(speakers) : speakers}`, width, 0));

  lines.push('', ...wrap(c.bold(`IP address pools (${report.pools.length})`), width, 2));
  if (report.pools.length === 0) lines.push(`  ${c.dim('none')}`);
  // One bar length for every pool, so bars compare at a glance: "    IPv4 " + bar + "  " + figures fits the width.
  const longest = Math.max(0, ...report.pools.flatMap((p) => p.usage.map((u) => figures(u).length)));
  const cells = Math.min(24, width - 4 - 5 - 2 - longest);
  for (const pool of report.pools) lines.push(...renderPool(pool, width, cells < 5 ? 0 : cells, c));

  lines.push('', ...wrap(c.bold(`LoadBalancer Services (${report.services.length})`), width, 2));
  if (report.services.length === 0) lines.push(`  ${c.dim('none')}`);
  else lines.push(...renderServices(report.services, width, c));

  lines.push('');
  if (report.problems.length === 0) lines.push(c.green('✓ No problems found.'));
  else {
    lines.push(c.bold(`Problems (${report.problems.length})`));
    for (const p of report.problems) lines.push(...renderProblem(p, width, c));
  }
  return lines;
}

type Palette = Record<'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan', Paint>;

function renderPool(pool: PoolReport, width: number, cells: number, c: Palette): string[] {
  const flags = [pool.terminating ? c.yellow('terminating') : '', pool.autoAssign ? '' : c.dim('autoAssign off'), ...conditionWords(pool, c)].filter(Boolean);
  const lines = wrap(`  ${c.cyan(pool.name)}${flags.length ? `  ${flags.join('  ')}` : ''}`, width, 4);
  lines.push(...wrap(`    ${c.dim(pool.addresses.join(', '))}`, width, 4));
  for (const u of pool.usage) lines.push(...wrap(usageLine(u, cells, c), width, 9));
  return lines;
}

/** Ready, and any condition that is True besides it (Conflict, Exhausted). */
function conditionWords(pool: PoolReport, c: Palette): string[] {
  const words: string[] = [];
  for (const cond of pool.conditions) {
    if (cond.type === 'Ready') words.push(cond.status === 'True' ? c.green('Ready') : c.red(`not Ready (${cond.reason})`));
    else if (cond.status === 'True') words.push(cond.type === 'Exhausted' ? c.yellow(cond.type) : c.red(cond.type));
  }
  return words;
}

/** "12/256 used (5%)"; a trailing "~" marks figures counted from Services, not the controller's pool status. */
function figures(u: FamilyUsage): string {
  const total = u.assigned + u.available;
  return `${formatCount(u.assigned)}/${formatCount(total)} used (${percent(u.assigned, total)})${u.source === 'services' ? ' ~' : ''}`;
}

/** A bar of `cells` cells (none when 0) and the figures. */
function usageLine(u: FamilyUsage, cells: number, c: Palette): string {
  if (cells === 0) return `    ${u.family} ${figures(u)}`;
  const { filled, empty } = usageBar(u.assigned, u.available, cells);
  const colour = u.available === 0n ? c.red : filled.length >= cells * 0.85 ? c.yellow : c.green;
  return `    ${u.family} ${colour(filled)}${c.dim(empty)}  ${figures(u)}`;
}

/** Left-aligned blocks of one to seven eighths of a cell. */
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'] as const;

/**
 * The bar in eighths of a cell, so a small share draws a sliver (1 of 191 in
 * 24 cells is one eighth, ▏), not a whole block. Anything used shows at least
 * a sliver, and a pool with a free address never looks full.
 */
export function usageBar(assigned: bigint, available: bigint, cells: number): { filled: string; empty: string } {
  const total = assigned + available;
  const steps = BigInt(cells * 8);
  let eighths = total === 0n ? 0n : (assigned * steps + total / 2n) / total;
  if (assigned > 0n && eighths === 0n) eighths = 1n;
  if (available > 0n && eighths === steps) eighths = steps - 1n;
  const whole = Number(eighths / 8n);
  const part = EIGHTHS[Number(eighths % 8n)]!;
  return { filled: '█'.repeat(whole) + part, empty: '░'.repeat(cells - whole - (part ? 1 : 0)) };
}

/** Exact up to ten million, then 2^n for powers of two (IPv6 pools), else three significant digits. */
export function formatCount(n: bigint): string {
  if (n < 10_000_000n) return n.toString();
  if ((n & (n - 1n)) === 0n) return `2^${n.toString(2).length - 1}`;
  const digits = n.toString();
  return `${digits[0]}.${digits.slice(1, 3)}e${digits.length - 1}`;
}

function percent(part: bigint, whole: bigint): string {
  if (whole === 0n) return '0%';
  if (part === 0n) return '0%';
  const p = Number((part * 1000n) / whole) / 10;
  return p < 1 ? '<1%' : `${Math.round(p)}%`;
}

function renderServices(services: readonly ServiceReport[], width: number, c: Palette): string[] {
  const rows = services.map((s) => ({
    name: `${s.namespace}/${s.name}`,
    ips: s.ips.length ? s.ips.join(', ') : '—',
    pool: s.pool ?? '—',
    node: s.nodes.length ? s.nodes.join(', ') : '—',
    ok: s.ips.length > 0 && s.nodes.length === 1,
  }));
  const header = { name: 'SERVICE', ips: 'IPS', pool: 'POOL', node: 'NODE' };
  const cols = (['name', 'ips', 'pool', 'node'] as const).map((k) => Math.max(header[k].length, ...rows.map((r) => r[k].length)));
  const tableWidth = 2 + cols.reduce((a, b) => a + b, 0) + 2 * (cols.length - 1);
  if (tableWidth <= width) {
    const line = (r: typeof header, paint: (col: number, text: string) => string): string =>
      `  ${(['name', 'ips', 'pool', 'node'] as const).map((k, i) => paint(i, i === 3 ? r[k] : r[k].padEnd(cols[i]!))).join('  ')}`.trimEnd();
    return [line(header, (_, t) => c.dim(t)), ...rows.map((r) => line(r, (i, t) => (i === 1 && r.ips === '—') || (i === 3 && !r.ok) ? c.red(t) : t))];
  }
  // Too narrow for a table: one block per Service.
  return rows.flatMap((r) => [
    ...wrap(`  ${c.cyan(r.name)}`, width, 4),
    ...wrap(`    ips  ${r.ips === '—' ? c.red(r.ips) : r.ips}`, width, 9),
    ...wrap(`    pool ${r.pool}`, width, 9),
    ...wrap(`    node ${r.ok ? r.node : c.red(r.node)}`, width, 9),
  ]);
}

function renderProblem(p: Problem, width: number, c: Palette): string[] {
  const mark = p.severity === 'error' ? c.red('✗') : c.yellow('!');
  return wrap(`  ${mark} ${c.bold(p.object)}: ${p.message}`, width, 4);
}

const ANSI = /\x1b\[[0-9;]*m/g;
export const visibleLength = (s: string): number => s.replace(ANSI, '').length;

/**
 * Breaks at spaces so that no line is wider than `width` (visible characters);
 * continuation lines start with `indent` spaces; a word longer than a line is
 * cut. ANSI colour codes do not count and are never cut.
 */
export function wrap(text: string, width: number, indent: number): string[] {
  if (visibleLength(text) <= width) return [text];
  const lead = /^ */.exec(text)![0];
  const words = text.slice(lead.length).split(' ');
  const lines: string[] = [];
  let line = lead;
  let started = false;
  const pad = ' '.repeat(Math.min(indent, width - 1));
  for (let word of words) {
    while (visibleLength(word) > 0) {
      const sep = started ? ' ' : '';
      const room = width - visibleLength(line) - sep.length;
      if (visibleLength(word) <= room) {
        line += sep + word;
        started = true;
        break;
      }
      if (started && visibleLength(word) <= width - pad.length) {
        lines.push(line);
        line = pad;
        started = false;
        continue;
      }
      if (started && room < 1) {
        lines.push(line);
        line = pad;
        started = false;
        continue;
      }
      // Longer than any line: cut it.
      const [head, rest] = cutVisible(word, room);
      line += sep + head;
      lines.push(line);
      line = pad;
      started = false;
      word = rest;
    }
  }
  if (started || line.trim() !== '') lines.push(line);
  return lines;
}

/** Splits after `n` visible characters, keeping escape sequences whole. */
function cutVisible(s: string, n: number): [string, string] {
  let visible = 0;
  let i = 0;
  while (i < s.length && visible < n) {
    if (s[i] === '\x1b') {
      const end = s.indexOf('m', i);
      i = end === -1 ? s.length : end + 1;
      continue;
    }
    visible++;
    i++;
  }
  // Carry trailing escape codes (e.g. a colour reset) with the head.
  while (s[i] === '\x1b') {
    const end = s.indexOf('m', i);
    i = end === -1 ? s.length : end + 1;
  }
  return [s.slice(0, i), s.slice(i)];
}

/** JSON for --output json: bigints as decimal strings (IPv6 counts exceed 2^53). */
export function reportToJson(report: StatusReport): string {
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2);
}
