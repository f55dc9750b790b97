import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { exportScenario } from './export/export.scenario';
import { httpScenario } from './http/http.scenario';
import { jobsScenario } from './jobs/jobs.scenario';
import { latencyScenario } from './jobs/latency.scenario';
import { machine } from './lib/report';
import { NothingToCompare } from './lib/rounds';
import { stopEverythingOnInterrupt } from './lib/interrupt';
import { BenchContext, Scenario } from './lib/scenario';
import { BenchServices } from './lib/services';
import { payoutCycleScenario } from './payout-cycle/payout-cycle.scenario';
import { payoutsInflightScenario } from './payouts-inflight/payouts-inflight.scenario';

const SCENARIOS: Scenario[] = [
  jobsScenario,
  latencyScenario,
  httpScenario,
  payoutCycleScenario,
  payoutsInflightScenario,
  exportScenario,
];

const USAGE = `Usage: npm run bench -- [scenario...] [--rounds N] [--smoke] [--node system|pinned|PATH] [--profile] [--keep-logs]
  scenarios: ${SCENARIOS.map((s) => s.name).join(', ')} (default: all)
  --rounds N   rounds per measurement (default 3; at least 3 for figures worth comparing)
  --smoke      CI-sized run: tiny sizes, 1 round; checks the benchmarks run, not their speed
  --filter T   only the measurements whose name contains T (both sides of a pair, to profile it)
  --node N     the Node.js that runs the orchestrator and every child, both sides alike: pinned
               (default: this node when supported, else the project's Node.js 24), system (the
               machine's own node, even an unsupported one) or the path of a node binary
  --profile    child processes write V8 CPU profiles (node --cpu-prof) to .data/bench-profiles/
  --keep-logs  keep the children's log files (.data/bench-<pid>/logs) after the run`;

/** Entry point (called by bench/bench.mjs after compiling); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rounds: { type: 'string' },
      filter: { type: 'string' },
      // Handled by bench/bench.mjs before this runs (it picks the node this process runs on).
      node: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'keep-logs': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = positionals.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`Unknown scenario: ${unknown.join(', ')}\n${USAGE}\n`);
    return 64;
  }
  const selected =
    positionals.length > 0 ? SCENARIOS.filter((s) => positionals.includes(s.name)) : SCENARIOS;
  const rounds = Number(values.rounds ?? (values.smoke ? 1 : 3));
  if (!Number.isInteger(rounds) || rounds < 1) {
    process.stderr.write(`--rounds must be a whole number >= 1\n`);
    return 64;
  }
  const services = new BenchServices();
  stopEverythingOnInterrupt(() => services.stop());
  const profileDir = values.profile ? path.join(services.dir, '..', 'bench-profiles') : undefined;
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const context: BenchContext = {
    services,
    rounds,
    smoke: values.smoke,
    profileDir,
    filter: values.filter,
    out,
  };
  out(
    `bench: ${selected.map((s) => s.name).join(', ')}; ${rounds} round(s)${values.smoke ? ', smoke sizes' : ''}`,
  );
  out(`machine: ${JSON.stringify(machine())}`);
  out(`node: ${process.version} (${process.execPath}) runs the orchestrator and every child`);
  let failed = 0;
  const finals: string[] = [];
  try {
    for (const scenario of selected) {
      out(`\n== ${scenario.name}: ${scenario.summary}`);
      const started = Date.now();
      try {
        const outcome = await scenario.run(context);
        out(`(${scenario.name} took ${((Date.now() - started) / 1000).toFixed(1)} s)`);
        if ('skipped' in outcome) {
          out(`${scenario.name}: skipped (${outcome.skipped})`);
        } else {
          out(outcome.line);
          finals.push(outcome.line);
        }
      } catch (error) {
        if (error instanceof NothingToCompare) {
          out(`${scenario.name}: skipped (${error.message})`);
          continue;
        }
        failed += 1;
        out(`${scenario.name}: FAILED: ${(error as Error).stack ?? String(error)}`);
      }
    }
  } finally {
    await services.stop();
    if (!values['keep-logs']) fs.rmSync(services.dir, { recursive: true, force: true });
  }
  if (finals.length > 1) {
    out('\n== summary');
    for (const line of finals) out(line);
  }
  if (profileDir) out(`\nCPU profiles: ${profileDir} (open in Chrome DevTools or speedscope)`);
  return failed > 0 ? 1 : 0;
}
