import { BenchServices } from './services';

export interface BenchContext {
  services: BenchServices;
  /** Rounds of each measurement (at least 3 for a real run, 1 for the smoke run). */
  rounds: number;
  /** CI-sized run: tiny sizes, proves the benchmark runs and prints its line. */
  smoke: boolean;
  /** When set, every child process writes a --cpu-prof profile into this directory. */
  profileDir?: string;
  /** Only measurements whose key contains this text run (for profiling one variant). */
  filter?: string;
  out(line: string): void;
}

export type Outcome = { line: string } | { skipped: string };

export interface Scenario {
  name: string;
  summary: string;
  run(context: BenchContext): Promise<Outcome>;
}
