import { Child } from '../lib/child';
import { printTable, saveResults } from '../lib/report';
import { compare, Comparison, figures, measuredOnly, Measurement, runRounds } from '../lib/rounds';
import { BenchContext, Scenario } from '../lib/scenario';
import { finalLine, fmt, percentile } from '../lib/stats';
import { measureWorkers, Side, startQueueChildren, stopAll } from './queue-children';

/** The worker's concurrency: the project's default MAX_QUEUE_CONCURRENCY. */
const CONCURRENCY = 5;
const INTERVAL_MS = 5;
const METRICS = ['p50', 'p95', 'p99', 'max'] as const;

/**
 * Pickup latency: jobs added one every 5 ms to an idle worker; for each job, the time from its
 * add() resolving in the producer process to its handler starting in the worker process (both
 * on the machine-wide monotonic clock). It can be slightly negative: the worker may start a job
 * before the producer has read Redis's reply to its add.
 */
async function measure(
  context: BenchContext,
  side: Side,
  jobs: number,
): Promise<Record<string, number>> {
  await context.services.flushRedis();
  const [worker] = await startQueueChildren(context, side, 'worker', 1, CONCURRENCY);
  let producer: Child | undefined;
  try {
    [producer] = await startQueueChildren(context, side, 'producer', 1);
    await trickle(worker, producer, Math.max(20, Math.ceil(jobs / 10)), false);
    const latencies = await trickle(worker, producer, jobs, true);
    return Object.fromEntries(
      METRICS.map((m) => [
        m,
        m === 'max' ? latencies[latencies.length - 1] : percentile(latencies, Number(m.slice(1))),
      ]),
    );
  } finally {
    await stopAll(producer ? [worker, producer] : [worker]);
  }
}

async function trickle(
  worker: Child,
  producer: Child,
  jobs: number,
  timed: boolean,
): Promise<number[]> {
  const done = await measureWorkers([worker], { recordStarts: timed });
  producer.send({ type: 'trickle', count: jobs, intervalMs: INTERVAL_MS });
  const { resolved } = await producer.next<{ type: string; resolved: string[][] }>(
    'trickled',
    600_000,
  );
  await done(jobs);
  if (!timed) return [];
  worker.send({ type: 'starts' });
  const { starts } = await worker.next<{ type: string; starts: string[][] }>('starts');
  const startedAt = new Map(starts.map(([id, ns]) => [id, BigInt(ns)]));
  const latencies = resolved.map(([id, ns]) => {
    const start = startedAt.get(id);
    if (start === undefined) throw new Error(`job ${id} was never started by the worker`);
    return Number(start - BigInt(ns)) / 1e6;
  });
  return latencies.sort((a, b) => a - b);
}

export const latencyScenario: Scenario = {
  name: 'latency',
  summary: `pickup latency (add resolved -> handler start), jobs ${INTERVAL_MS} ms apart to an idle worker`,
  async run(context) {
    const jobs = context.smoke ? 100 : 2_000;
    context.out(
      `${fmt(jobs)} jobs per measurement, worker concurrency ${CONCURRENCY}, ${context.rounds} round(s)`,
    );
    const measurements: Measurement[] = (['project', 'baseline'] as const).map((side) => ({
      key: side,
      run: () => measure(context, side, jobs),
    }));
    const values = await runRounds(measurements, context.rounds, context.out, context.filter);
    const rows: Comparison[] = measuredOnly(
      METRICS.map((metric) =>
        compare(metric, figures(values, 'project', metric), figures(values, 'baseline', metric), {
          unit: 'ms',
          lowerIsBetter: true,
        }),
      ),
    );
    printTable(
      context.out,
      `latency: pickup latency of ${fmt(jobs)} jobs, ms (lower is better)`,
      rows,
    );
    const p99 = rows[2];
    const gap = p99.project.median - p99.baseline.median;
    context.out(
      `p99 gap (medians): ${gap.toFixed(3)} ms; target: within 1 ms of raw Bull: ${gap <= 1 ? 'met' : 'NOT met'}`,
    );
    context.out(`results: ${saveResults('latency', { jobs, rounds: context.rounds, rows })}`);
    return {
      line: finalLine(
        'latency',
        p99.ratio,
        `p99 ${p99.project.median.toFixed(3)} ms`,
        `p99 ${p99.baseline.median.toFixed(3)} ms`,
      ),
    };
  },
};
