// One measured number of a benchmark run, and the markdown table that
// docs/benchmarks.md shows.

export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly note: string;
}

export function formatBenchTable(rows: readonly BenchResult[]): string {
  const lines = ['| Measure | Value | Unit | Note |', '| --- | ---: | --- | --- |'];
  for (const r of rows) lines.push(`| ${r.name} | ${formatValue(r.value)} | ${r.unit} | ${r.note} |`);
  return lines.join('\n');
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toPrecision(3);
}
