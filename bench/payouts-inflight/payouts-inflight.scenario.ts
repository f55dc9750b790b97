import { printTable, saveResults } from '../lib/report';
import { compare, figures, Measurement, measuredOnly, RoundValues, runRounds } from '../lib/rounds';
import { BenchContext, Scenario } from '../lib/scenario';
import { finalLine, fmt, plain, summarize } from '../lib/stats';
import {
  missingPayouts,
  ObserverClient,
  SeededDatabases,
  Stack,
} from '../payout-cycle/payout-stack';
import { REDIS_COMMANDS_PER_POLL, waitForCycle } from '../payout-cycle/quiescence';
import { RunCostMeter, StatementCost } from './run-cost';

/** One worker's payout concurrency and the simulated provider's answer time. */
interface Configuration {
  latencyMs: number;
  concurrency: number;
  payees: number;
}

const POOL_SIZE = 10;

function keyOf({ latencyMs, concurrency }: Configuration): string {
  return `latency ${latencyMs} ms, concurrency ${concurrency}`;
}

/**
 * Samples, every 100 ms, the payouts whose provider call is in flight (processing under a live
 * lease) and the worker's open connections by pool (pg_stat_activity by application name).
 */
class InFlightSampler {
  readonly samples: Array<{ at: number; inFlight: number; app: number; provider: number }> = [];
  private timer?: NodeJS.Timeout;
  private pending = Promise.resolve();

  constructor(readonly db: ObserverClient) {}

  start(): void {
    this.timer = setInterval(() => {
      // One sample at a time: a slow one is not overtaken (the client queues them anyway).
      this.pending = this.pending.then(() => this.sample()).catch(() => undefined);
    }, 100);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pending;
  }

  private async sample(): Promise<void> {
    const [row] = await this.db.query<{
      at: number;
      in_flight: string;
      app: string;
      provider: string;
    }>(
      `select extract(epoch from clock_timestamp()) * 1000 as at,
              (select count(*) from payouts where status = 'processing' and lease_owner is not null) as in_flight,
              (select count(*) from pg_stat_activity where application_name = 'bench-worker-1') as app,
              (select count(*) from pg_stat_activity where application_name = 'simulated-provider') as provider`,
    );
    this.samples.push({
      at: Number(row.at),
      inFlight: Number(row.in_flight),
      app: Number(row.app),
      provider: Number(row.provider),
    });
  }
}

/**
 * One payout cycle paid by ONE worker at a given payout concurrency, `DATABASE_POOL_SIZE=10`:
 * payouts/s from the first claim to the last payout finished, the payouts in flight meanwhile,
 * the worker's connections, and what the whole cycle (creation, payment, notification) cost
 * per payout in CPU, statements, commits and Redis commands.
 */
async function measure(
  context: BenchContext,
  seeded: SeededDatabases,
  config: Configuration,
  statementsByKey: Map<string, StatementCost[]>,
  redisByKey: Map<string, Record<string, number>>,
): Promise<Record<string, number>> {
  const template = await seeded.template(config.payees);
  const databaseUrl = await seeded.copy(template);
  const cluster = await context.services.cluster({ statements: true });
  const adminUrl = new URL(cluster.url);
  adminUrl.pathname = '/postgres';
  await context.services.flushRedis();
  const redis = await context.services.redis();
  const stack = await Stack.start(
    context,
    databaseUrl,
    1,
    `inflight-${config.latencyMs}ms-c${config.concurrency}`,
    {
      PROVIDER_LATENCY: `${config.latencyMs}ms`,
      DATABASE_POOL_SIZE: String(POOL_SIZE),
      QUEUE_CONCURRENCY_PAYOUTS: String(config.concurrency),
    },
  );
  const waiter = await ObserverClient.connect(databaseUrl);
  const sampler = new InFlightSampler(await ObserverClient.connect(databaseUrl));
  const observers = [waiter, sampler.db];
  const meter = await RunCostMeter.open({
    adminUrl: adminUrl.toString(),
    databaseUrl,
    clusterDir: cluster.dir,
    redis,
    workerPid: stack.workers[0].pid,
    observers,
  });
  try {
    await meter.begin();
    sampler.start();
    const session = await stack.login();
    await stack.post('/payouts/cycle', session);
    const outcome = await waitForCycle(waiter, redis, 3_600_000, context.out);
    await sampler.stop();
    const cost = await meter.end(outcome.polls * REDIS_COMMANDS_PER_POLL);
    const [window] = await waiter.query<{
      paid: string;
      other: string;
      first_claim: number;
      last_finish: number;
    }>(
      `select count(*) filter (where status = 'paid') as paid,
              count(*) filter (where status <> 'paid') as other,
              extract(epoch from min(processing_started_at)) * 1000 as first_claim,
              extract(epoch from max(finished_at)) * 1000 as last_finish
       from payouts`,
    );
    if (Number(window.other) > 0)
      context.out(`  warning: ${window.other} payouts did not end paid`);
    const payouts = outcome.payouts;
    const seconds = (window.last_finish - window.first_claim) / 1000;
    const during = sampler.samples.filter(
      (s) => s.at >= window.first_claim && s.at <= window.last_finish,
    );
    const inFlight = during.map((s) => s.inFlight);
    await Promise.all(observers.map((o) => o.end()));
    await stack.stop();
    const { commits, statements } = await meter.statementsAndCommits();
    statementsByKey.set(keyOf(config), statements);
    redisByKey.set(keyOf(config), cost.redisByCommand);
    const count = statements.reduce((sum, s) => sum + s.calls, 0);
    return {
      rate: Number(window.paid) / seconds,
      seconds,
      payouts,
      inFlightMean: inFlight.length ? inFlight.reduce((a, b) => a + b, 0) / inFlight.length : 0,
      inFlightMax: Math.max(0, ...inFlight),
      appConnectionsMax: Math.max(0, ...sampler.samples.map((s) => s.app)),
      providerConnectionsMax: Math.max(0, ...sampler.samples.map((s) => s.provider)),
      workerCpuMs: cost.workerCpuMs / payouts,
      postgresCpuMs: cost.postgresCpuMs / payouts,
      providerBackendsCpuMs: cost.providerBackendsCpuMs / payouts,
      totalCpuMs: (cost.workerCpuMs + cost.postgresCpuMs) / payouts,
      redisCpuMs: cost.redisCpuMs / payouts,
      statements: count / payouts,
      commits: commits / payouts,
      redisCommands: cost.redisCommands / payouts,
      redisScripts: cost.redisScripts / payouts,
    };
  } finally {
    await sampler.stop();
    await Promise.all(observers.map((o) => o.end().catch(() => undefined)));
    await meter.close().catch(() => undefined);
    await stack.stop();
  }
}

function printStatements(
  context: BenchContext,
  key: string,
  statements: StatementCost[],
  payouts: number,
): void {
  const total = statements.reduce((sum, s) => sum + s.totalMs, 0);
  context.out(
    `payouts-inflight: statements per payout at ${key} (pg_stat_statements, last round; ${fmt(total / payouts)} ms of statement time per payout)`,
  );
  context.out('  calls/payout  ms/payout  mean ms  statement');
  for (const s of statements.slice(0, 15)) {
    context.out(
      `  ${fmt(s.calls / payouts).padStart(12)}  ${fmt(s.totalMs / payouts).padStart(9)}  ${fmt(s.totalMs / s.calls).padStart(7)}  ${s.query.slice(0, 110)}`,
    );
  }
}

function printRates(context: BenchContext, values: RoundValues): void {
  context.out('');
  context.out(
    `payouts-inflight: one worker, DATABASE_POOL_SIZE=${POOL_SIZE} (min / median / max over rounds; connections: max of the 100 ms samples)`,
  );
  for (const [key, figuresOf] of values) {
    const s = (name: string) => summarize(figuresOf[name]);
    context.out(
      `  ${key}: ${fmt(s('payouts').median)} payouts, ${fmt(s('rate').min)} / ${fmt(s('rate').median)} / ${fmt(s('rate').max)} payouts/s; ` +
        `in flight mean ${fmt(s('inFlightMean').median)}, max ${fmt(s('inFlightMax').max)}; ` +
        `worker connections max ${fmt(s('appConnectionsMax').max)} (app pool) + ${fmt(s('providerConnectionsMax').max)} (simulated provider's pool)`,
    );
  }
  context.out('');
  context.out(
    'payouts-inflight: cost per payout, whole cycle (create, pay, notify), medians over rounds',
  );
  for (const [key, figuresOf] of values) {
    const m = (name: string) => fmt(summarize(figuresOf[name]).median);
    context.out(
      `  ${key}: CPU worker ${m('workerCpuMs')} ms + PostgreSQL ${m('postgresCpuMs')} ms = ${m('totalCpuMs')} ms ` +
        `(of PostgreSQL's, the simulated provider's backends ${m('providerBackendsCpuMs')} ms; Redis ${m('redisCpuMs')} ms); ` +
        `${m('statements')} statements, ${m('commits')} commits, ${m('redisCommands')} Redis commands (${m('redisScripts')} scripts)`,
    );
  }
}

export const payoutsInflightScenario: Scenario = {
  name: 'payouts-inflight',
  summary:
    'one worker, provider at 200 ms, pool of 10: payouts/s and payouts in flight at payout concurrency 10/50/200/500; CPU, statements, commits, Redis commands per payout at 0 ms',
  async run(context) {
    const missing = missingPayouts();
    if (missing) return { skipped: missing };
    // Runs of at least 10 s: 600 payees at concurrency 10 (about 50/s), 3,000 above.
    const configurations: Configuration[] = context.smoke
      ? [
          { latencyMs: 200, concurrency: 10, payees: 20 },
          { latencyMs: 200, concurrency: 200, payees: 20 },
        ]
      : [
          { latencyMs: 200, concurrency: 10, payees: 600 },
          { latencyMs: 200, concurrency: 50, payees: 3_000 },
          { latencyMs: 200, concurrency: 200, payees: 3_000 },
          { latencyMs: 200, concurrency: 500, payees: 3_000 },
          { latencyMs: 0, concurrency: 50, payees: 3_000 },
        ];
    const seeded = new SeededDatabases(context, { statements: true });
    const statementsByKey = new Map<string, StatementCost[]>();
    const redisByKey = new Map<string, Record<string, number>>();
    const measurements: Measurement[] = configurations.map((config) => ({
      key: keyOf(config),
      run: () => measure(context, seeded, config, statementsByKey, redisByKey),
    }));
    const values = await runRounds(measurements, context.rounds, context.out, context.filter);
    printRates(context, values);
    // The statements of the 0 ms run (the CPU one), or of the last run when it was filtered out.
    const shown =
      [...statementsByKey.keys()].find((k) => k.startsWith('latency 0 ms')) ??
      [...statementsByKey.keys()].pop();
    if (shown) {
      const payouts = summarize(figures(values, shown, 'payouts')).median;
      context.out('');
      printStatements(context, shown, statementsByKey.get(shown) ?? [], payouts);
      const commands = Object.entries(redisByKey.get(shown) ?? {}).sort((a, b) => b[1] - a[1]);
      context.out(
        `payouts-inflight: Redis commands per payout at ${shown} (INFO commandstats, last round; commands run by scripts included): ` +
          commands
            .slice(0, 12)
            .map(([name, calls]) => `${name} ${fmt(calls / payouts)}`)
            .join(', '),
      );
    }
    context.out(
      `results: ${saveResults('payouts-inflight', {
        rounds: context.rounds,
        poolSize: POOL_SIZE,
        configurations,
        values: Object.fromEntries(values),
        statements: Object.fromEntries(statementsByKey),
        redisCommands: Object.fromEntries(redisByKey),
      })}`,
    );
    const rows = measuredOnly([
      compare(
        'payouts/s, concurrency 200 vs 10',
        figures(values, keyOf({ latencyMs: 200, concurrency: 200, payees: 0 }), 'rate'),
        figures(values, keyOf({ latencyMs: 200, concurrency: 10, payees: 0 }), 'rate'),
        { unit: 'payouts/s', target: { minRatio: 5, text: '>= 5x' } },
      ),
    ]);
    printTable(
      context.out,
      'payouts-inflight: throughput at payout concurrency 200 vs 10 (provider at 200 ms)',
      rows,
    );
    const [row] = rows;
    return {
      line: finalLine(
        'payouts-inflight',
        row.ratio,
        `${plain(row.project.median)}/s`,
        `${plain(row.baseline.median)}/s`,
      ),
    };
  },
};
