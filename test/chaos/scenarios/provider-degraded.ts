import { setTimeout as sleep } from 'node:timers/promises';
import { Scenario, ScenarioContext } from '../scenario';

const DEGRADED = { PROVIDER_LATENCY: '400ms', PROVIDER_TRANSIENT_FAILURE_RATE: '0.3' };

/** Restarts the workers one at a time (SIGTERM, then start) with other provider settings. */
async function rollWorkers(ctx: ScenarioContext, overrides: Record<string, string>): Promise<void> {
  ctx.cluster.workerOverrides = overrides;
  for (let index = 0; index < ctx.cluster.workers.length; index += 1) {
    await ctx.cluster.workers[index].stop('SIGTERM');
    await ctx.cluster.startWorker(index);
  }
}

interface Phase {
  name: string;
  from: number;
  to: number;
}

/** Payouts finished per second, and the median time from creation to payment, per phase. */
async function phaseFigures(ctx: ScenarioContext, phases: Phase[]): Promise<string[]> {
  const lines: string[] = [];
  for (const phase of phases) {
    const [row] = await ctx.cluster.sql<{ paid: number; p50: number | null }>(
      `select count(*)::int as paid,
              (percentile_cont(0.5) within group (order by extract(epoch from finished_at - created_at)))::float as p50
       from payouts where status = 'paid' and created_at >= to_timestamp($1 / 1000.0) and created_at < to_timestamp($2 / 1000.0)`,
      [phase.from, phase.to],
    );
    const seconds = (phase.to - phase.from) / 1000;
    lines.push(
      `${phase.name}: ${(row.paid / seconds).toFixed(1)} paid/s, p50 ${(row.p50 ?? 0).toFixed(2)} s`,
    );
  }
  return lines;
}

/**
 * The provider turns slow (400 ms) and flaky (30% transient errors) for a while, then heals:
 * retries back off and succeed, every payout ends paid once, throughput comes back.
 */
export const providerDegraded: Scenario = {
  name: 'provider-degraded',
  title:
    'payment provider slow and failing 30% of calls: backoff retries, every payout pays once, throughput recovers',
  async run(ctx) {
    const third = ctx.size.loadMs / 3;
    const t0 = Date.now();
    await sleep(third);
    const t1 = Date.now();
    await rollWorkers(ctx, DEGRADED);
    ctx.faults += 1;
    await sleep(third);
    const t2 = Date.now();
    await rollWorkers(ctx, {});
    ctx.faultDone();
    await sleep(third);
    const t3 = Date.now();
    ctx.afterSettle = async () => {
      const lines = await phaseFigures(ctx, [
        { name: 'before', from: t0, to: t1 },
        { name: 'degraded', from: t1, to: t2 },
        { name: 'after', from: t2, to: t3 },
      ]);
      ctx.note(lines.join('; '));
      const [retries] = await ctx.cluster.sql<{ retried: number; max: number }>(
        `select count(*) filter (where attempts > 1)::int as retried, coalesce(max(attempts), 0)::int as max from payouts`,
      );
      ctx.note(`${retries.retried} payouts needed more than one attempt (at most ${retries.max})`);
      ctx.expect(
        retries.retried > 0,
        'no payout was retried although the provider failed 30% of calls',
      );
    };
  },
};
