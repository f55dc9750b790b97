import * as fs from 'node:fs';
import * as path from 'node:path';
import { Figures } from './invariants';

export interface ScenarioResult {
  scenario: string;
  size: string;
  hosts: string;
  figures: Figures;
  faults: number;
  recoveryMs?: number;
  settleMs: number;
  durationMs: number;
  http: string;
  /** The scenario's own figures (Redis downtime, jobs lost and recovered). */
  extra?: string;
  notes: string[];
  violations: string[];
}

const seconds = (ms?: number) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)}s`);

/** One line per scenario, the figures the issue asks for first. */
export function summaryLine(result: ScenarioResult): string {
  const f = result.figures;
  const ticks =
    f.ticks === undefined ? '' : ` ticks=${f.ticks} tick-duplicates=${f.tickDuplicates}`;
  return (
    `[chaos] ${result.scenario} (${result.size}, ${result.hosts}): ` +
    `jobs=${f.jobs} (failed ${f.jobsFailed}) payouts=${f.payouts} (paid ${f.paid}, failed ${f.failed}) ` +
    `charges=${f.charges} duplicates=${f.duplicates} lost=${f.lost} stuck=${f.stuck} ` +
    `ledger-mismatches=${f.ledgerMismatches} replays=${f.replays} stalled=${f.stalledJobs}${ticks} ` +
    `faults=${result.faults} recover=${seconds(result.recoveryMs)} settle=${seconds(result.settleMs)} ` +
    `duration=${seconds(result.durationMs)} http={${result.http}}` +
    `${result.extra ? ` ${result.extra}` : ''} -> ${result.violations.length === 0 ? 'OK' : 'FAILED'}`
  );
}

/** Printed, and appended to .data/chaos/results.jsonl (the figures of docs/reliability.md). */
export function report(result: ScenarioResult): void {
  process.stdout.write(`${summaryLine(result)}\n`);
  for (const note of result.notes) process.stdout.write(`        ${note}\n`);
  for (const violation of result.violations) process.stdout.write(`   !!!  ${violation}\n`);
  const dir = path.resolve(__dirname, '..', '..', '.data', 'chaos');
  fs.mkdirSync(dir, { recursive: true });
  fs.appendFileSync(
    path.join(dir, 'results.jsonl'),
    `${JSON.stringify({ at: new Date().toISOString(), ...result })}\n`,
  );
}
