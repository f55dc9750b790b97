import { summarize, Summary } from './stats';

/** One thing measured once per round: returns named figures (for example `{ rate: 4200 }`). */
export interface Measurement {
  key: string;
  run(): Promise<Record<string, number>>;
}

export type RoundValues = Map<string, Record<string, number[]>>;

/**
 * Runs every measurement once per round, one at a time (never two at once: 2 cores), in list
 * order on even rounds and reversed on odd rounds, so each project/baseline pair alternates
 * which goes first and slow drift of the machine falls on both sides alike.
 */
export async function runRounds(
  measurements: Measurement[],
  rounds: number,
  progress: (line: string) => void,
  filter?: string,
): Promise<RoundValues> {
  const values: RoundValues = new Map();
  if (filter) measurements = measurements.filter((m) => m.key.includes(filter));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? measurements : [...measurements].reverse();
    for (const measurement of order) {
      const figures = await measurement.run();
      const stored = values.get(measurement.key) ?? {};
      for (const [name, value] of Object.entries(figures)) (stored[name] ??= []).push(value);
      values.set(measurement.key, stored);
      const shown = Object.entries(figures)
        .map(([name, value]) => `${name}=${value.toFixed(2)}`)
        .join(' ');
      progress(`  round ${round + 1}/${rounds} ${measurement.key}: ${shown}`);
    }
  }
  return values;
}

export interface Comparison {
  label: string;
  unit: string;
  project: Summary;
  baseline: Summary;
  /** Project relative to baseline, higher is better: 1.0 = as fast, 0.9 = 10% slower. */
  ratio: number;
  target?: { minRatio: number; text: string };
}

/**
 * Project against baseline on the medians. For figures where lower is better (latency) the
 * ratio is inverted, so a ratio is always "higher is better".
 */
export function compare(
  label: string,
  project: number[],
  baseline: number[],
  options: { unit: string; lowerIsBetter?: boolean; target?: Comparison['target'] },
): Comparison | undefined {
  if (project.length === 0 || baseline.length === 0) return undefined;
  const p = summarize(project);
  const b = summarize(baseline);
  const ratio = options.lowerIsBetter ? b.median / p.median : p.median / b.median;
  return { label, unit: options.unit, project: p, baseline: b, ratio, target: options.target };
}

/** Figures of a measurement across rounds, or an explicit error when it never ran. */
export function figures(values: RoundValues, key: string, name: string): number[] {
  return values.get(key)?.[name] ?? [];
}

/** Comparisons of the pairs that were measured (all of them, unless a filter was given). */
export function measuredOnly(rows: Array<Comparison | undefined>): Comparison[] {
  const kept = rows.filter((row): row is Comparison => row !== undefined);
  if (kept.length === 0) throw new NothingToCompare();
  return kept;
}

/** A --filter kept no complete project/baseline pair: the run printed its figures, no ratio. */
export class NothingToCompare extends Error {
  constructor() {
    super('the filter left no complete pair to compare (figures above)');
  }
}
