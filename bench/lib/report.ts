import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Comparison } from './rounds';
import { fmt, fmtSummary } from './stats';
import { REPO } from './paths';

/** Prints comparisons as an aligned table: min / median / max per side, ratio, target. */
export function printTable(out: (line: string) => void, title: string, rows: Comparison[]): void {
  const header = [
    '',
    'project min / median / max',
    'baseline min / median / max',
    'ratio',
    'target',
  ];
  const lines = rows.map((row) => [
    row.label,
    fmtSummary(row.project, ` ${row.unit}`),
    fmtSummary(row.baseline, ` ${row.unit}`),
    row.ratio.toFixed(3),
    row.target ? `${row.target.text}: ${row.ratio >= row.target.minRatio ? 'met' : 'NOT met'}` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  out('');
  out(title);
  out(format(header));
  for (const line of lines) out(format(line));
  out('');
}

/** Where each scenario's figures are written (JSON), for docs/performance.md and comparisons. */
export function saveResults(scenario: string, data: unknown): string {
  const dir = path.join(REPO, '.data', 'bench-results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // The Node.js major in the name, so the runs on two versions sit side by side.
  const node = `node${process.versions.node.split('.')[0]}`;
  const file = path.join(dir, `${stamp}-${scenario}-${node}.json`);
  fs.writeFileSync(file, JSON.stringify({ scenario, machine: machine(), data }, null, 2));
  return file;
}

export function machine(): Record<string, unknown> {
  return {
    date: new Date().toISOString(),
    node: process.version,
    nodeBinary: process.execPath,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
  };
}

export function mb(bytes: number): string {
  return `${fmt(bytes / 2 ** 20)} MB`;
}
