import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChaosCluster } from './cluster';
import { checkInvariants, settle } from './invariants';
import { LoadDriver } from './load';
import { Scenario, ScenarioContext } from './scenario';
import { ChaosSize } from './sizes';
import { report, ScenarioResult } from './summary';
import { createHostNetwork, HostNetwork } from './support/hosts';
import { ChaosPostgres } from './support/servers';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../scripts/lib/services.cjs');

/** Runs one scenario on a fresh cluster: load, fault, settle, checks, summary line. */
async function runScenario(
  scenario: Scenario,
  size: ChaosSize,
  network: HostNetwork,
  postgres: ChaosPostgres,
  runDir: string,
): Promise<ScenarioResult> {
  const started = Date.now();
  const cluster = await ChaosCluster.start({
    name: scenario.name,
    network,
    postgres,
    runDir,
    appendfsync: scenario.appendfsync ?? 'everysec',
    env: scenario.env,
    sentinel: scenario.sentinel,
  });
  try {
    const load = new LoadDriver(cluster, {
      payees: size.payees,
      perRound: size.perRound,
      roundMs: size.roundMs,
    });
    await load.seed();
    const ctx = new ScenarioContext(cluster, load, size, network);
    const loadStarted = Date.now();
    load.start();
    try {
      await scenario.run(ctx);
      // The load lasts at least loadMs, so work keeps arriving after the fault too.
      await sleep(Math.max(0, loadStarted + size.loadMs - Date.now()));
    } finally {
      await load.stop();
    }
    ctx.faultEndedAt ??= Date.now();
    const settleMs = await settle(cluster, size.settleMs);
    const settledAt = Date.now();
    const loss = ctx.redisDataLoss;
    const verdict = await checkInvariants(
      cluster,
      loss ? load.accepted.filter((j) => j.round > loss.round).map((j) => j.id) : load.acceptedJobs,
      loss,
    );
    await ctx.afterSettle?.(verdict);
    if (load.http.serverErrors > 0) {
      ctx.violations.push(
        `the API answered 5xx other than 503: ${load.http.unexpected.join(' | ')}`,
      );
      // What the APIs logged at error level: the 500's stack is only in the log.
      for (const api of cluster.history.filter((p) => p.name.startsWith('api')))
        for (const line of api.problems.filter((l) => Number(l.level) >= 50).slice(0, 3))
          ctx.violations.push(`  ${api.name}: ${JSON.stringify(line).slice(0, 1500)}`);
    }
    const crashed = cluster.history.filter((p) =>
      p.problems.some((l) => /uncaught|unhandled/i.test(String(l.msg))),
    );
    if (crashed.length > 0)
      ctx.violations.push(`uncaught errors in ${crashed.map((p) => p.name).join(', ')}`);
    const result: ScenarioResult = {
      scenario: scenario.name,
      size: size.name,
      hosts: network.kind === 'netns' ? 'separate hosts' : `loopback: ${network.note}`,
      figures: verdict.figures,
      faults: ctx.faults,
      recoveryMs: ctx.recoveryMs ?? settledAt - ctx.faultEndedAt,
      settleMs,
      durationMs: Date.now() - started,
      http: load.http.toString(),
      extra: ctx.summary,
      notes: [
        `${load.rounds} load rounds, ${load.acceptedJobs.size} jobs accepted by the API`,
        ...verdict.notes,
        ...ctx.notes,
        ...verdict.failures.map((failure) => `failed job: ${failure}`),
      ],
      violations: [...verdict.violations, ...ctx.violations],
    };
    report(result);
    return result;
  } finally {
    await cluster.stop();
  }
}

/**
 * The chaos suite as Jest tests, one per scenario, sharing one test network and one
 * PostgreSQL cluster (each scenario gets its own database and Redis).
 */
export function defineChaosSuite(size: ChaosSize, scenarios: Scenario[]): void {
  describe(`Chaos suite (${size.name} size)`, () => {
    let network: HostNetwork;
    let postgres: ChaosPostgres | undefined;
    let runDir: string;

    beforeAll(async () => {
      runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-'));
      fs.chmodSync(runDir, 0o755); // the postgres user reaches its folder and socket inside
      network = createHostNetwork();
      if (network.kind === 'loopback')
        process.stdout.write(`[chaos] hosts: loopback (${network.note})\n`);
      postgres = await ChaosPostgres.start(
        network.host('db'),
        path.join(runDir, 'pg'),
        await freePort(),
      );
    }, 120_000);

    afterAll(async () => {
      await postgres?.stop();
      network?.close();
      if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
    }, 60_000);

    for (const scenario of scenarios) {
      it(
        scenario.title,
        async () => {
          const result = await runScenario(
            scenario,
            size,
            network,
            postgres as ChaosPostgres,
            runDir,
          );
          expect(result.violations).toEqual([]);
        },
        size.loadMs + size.settleMs + 420_000,
      );
    }
  });
}
