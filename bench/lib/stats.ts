/** Summaries of repeated measurements: the benchmarks report min/median/max, never a single run. */
export interface Summary {
  min: number;
  median: number;
  max: number;
  values: number[];
}

export function summarize(values: number[]): Summary {
  if (values.length === 0) throw new Error('No measurement to summarize');
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0], median: percentile(sorted, 50), max: sorted[sorted.length - 1], values };
}

/** Percentile of sorted values, linear interpolation between the closest ranks. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

export function nsToMs(ns: bigint | number): number {
  return Number(ns) / 1e6;
}

export function perSecond(count: number, elapsedNs: bigint | number): number {
  return count / (Number(elapsedNs) / 1e9);
}

/** Numbers people read: 3 significant digits, thousands separated. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function fmtSummary(summary: Summary, unit = ''): string {
  return `${fmt(summary.min)} / ${fmt(summary.median)} / ${fmt(summary.max)}${unit}`;
}

/** A number for the tracked line: no thousands separators, so any parser reads it. */
export function plain(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

/** The one line each scenario ends with, for tracking across runs. */
export function finalLine(name: string, ratio: number, project: string, baseline: string): string {
  // The Node.js both sides ran on: runs on different versions are told apart by their lines too.
  return `${name}: ratio=${ratio.toFixed(3)} (project ${project} vs baseline ${baseline}, node ${process.version})`;
}
