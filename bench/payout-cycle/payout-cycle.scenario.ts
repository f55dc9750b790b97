import { mb, printTable, saveResults } from '../lib/report';
import { compare, figures, measuredOnly, Measurement, runRounds } from '../lib/rounds';
import { BenchContext, Scenario } from '../lib/scenario';
import { finalLine, fmt, plain, summarize } from '../lib/stats';
import { missingPayouts, ObserverClient, SeededDatabases, Stack } from './payout-stack';
import { waitForCycle } from './quiescence';

/**
 * One full payout cycle on a copy of a seeded database: POST /payouts/cycle, then the cycle job
 * creates the payouts, enqueues them, workers pay them through the simulated provider (0 ms)
 * and notify. Time runs from the request to the last payout or notification written.
 */
async function cycle(
  context: BenchContext,
  seeded: SeededDatabases,
  payees: number,
  workers: number,
): Promise<Record<string, number>> {
  const databaseUrl = await seeded.copy(await seeded.template(payees));
  await context.services.flushRedis();
  const stack = await Stack.start(context, databaseUrl, workers, `cycle-${payees}-${workers}w`);
  try {
    const session = await stack.login();
    const startMs = Date.now();
    await stack.post('/payouts/cycle', session);
    const observer = await ObserverClient.connect(databaseUrl);
    const redis = await context.services.redis();
    const outcome = await waitForCycle(observer, redis, 3_600_000, context.out).finally(() =>
      observer.end(),
    );
    const seconds = (outcome.lastWriteMs - startMs) / 1000;
    const rss = stack.peakRss();
    if (outcome.notifications < outcome.payouts)
      context.out(
        `  warning: ${outcome.notifications} notifications for ${outcome.payouts} payouts`,
      );
    return {
      rate: outcome.payouts / seconds,
      seconds,
      payouts: outcome.payouts,
      apiRss: rss[0].bytes,
      workerRss: Math.max(...rss.slice(1).map((r) => r.bytes)),
      redisPeak: outcome.redisPeakBytes,
    };
  } finally {
    await stack.stop();
  }
}

export const payoutCycleScenario: Scenario = {
  name: 'payout-cycle',
  summary:
    'full payout cycle (create, enqueue, pay at 0 ms, notify): 10k vs 100k payees, 1 and 3 workers (needs the payouts branch)',
  async run(context) {
    const missing = missingPayouts();
    if (missing) return { skipped: missing };
    const [small, large] = context.smoke ? [20, 200] : [10_000, 100_000];
    // The smoke run proves the scenario works (one worker); the real one compares 1 and 3.
    const workerCounts = context.smoke ? [1] : [1, 3];
    const seeded = new SeededDatabases(context);
    const measurements: Measurement[] = workerCounts.flatMap((workers) =>
      [small, large].map((payees) => ({
        key: `${payees} payees, ${workers} worker${workers > 1 ? 's' : ''}`,
        run: () => cycle(context, seeded, payees, workers),
      })),
    );
    const values = await runRounds(measurements, context.rounds, context.out, context.filter);
    context.out('');
    context.out('payout-cycle: min / median / max per configuration');
    for (const [key, figuresOf] of values) {
      const s = (name: string) => summarize(figuresOf[name]);
      context.out(
        `  ${key}: ${fmt(s('payouts').median)} payouts, ${fmt(s('rate').min)} / ${fmt(s('rate').median)} / ${fmt(s('rate').max)} payouts/s, ` +
          `${fmt(s('seconds').median)} s; peak RSS api ${mb(s('apiRss').max)}, worker ${mb(s('workerRss').max)}; Redis peak ${mb(s('redisPeak').max)}`,
      );
    }
    // Linearity: the large run against the small one, per worker count (1.0 = perfectly linear).
    const rows = measuredOnly(
      workerCounts.map((workers) => {
        const suffix = `, ${workers} worker${workers > 1 ? 's' : ''}`;
        return compare(
          `${fmt(large)} vs ${fmt(small)} payees${suffix}`,
          figures(values, `${large} payees${suffix}`, 'rate'),
          figures(values, `${small} payees${suffix}`, 'rate'),
          { unit: 'payouts/s', target: { minRatio: 0.8, text: 'close to 1 (linear)' } },
        );
      }),
    );
    printTable(
      context.out,
      'payout-cycle: throughput of the large run vs the small one (ratio 1 = linear; time ratio = 10 / ratio)',
      rows,
    );
    for (const workers of workerCounts) {
      const suffix = `, ${workers} worker${workers > 1 ? 's' : ''}`;
      const seconds = (payees: number) => figures(values, `${payees} payees${suffix}`, 'seconds');
      if (seconds(large).length === 0 || seconds(small).length === 0) continue;
      const ratio = summarize(seconds(large)).median / summarize(seconds(small)).median;
      context.out(
        `  time ${fmt(large)} / time ${fmt(small)}${suffix}: ${ratio.toFixed(2)} (target: close to ${large / small}, linear)`,
      );
    }
    context.out(
      `results: ${saveResults('payout-cycle', { small, large, rounds: context.rounds, values: Object.fromEntries(values), rows })}`,
    );
    const worst = rows.reduce((a, b) => (b.ratio < a.ratio ? b : a));
    return {
      line: finalLine(
        'payout-cycle',
        worst.ratio,
        `${plain(worst.project.median)}/s`,
        `${plain(worst.baseline.median)}/s`,
      ),
    };
  },
};
