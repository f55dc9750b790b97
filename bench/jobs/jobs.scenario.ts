import { Child } from '../lib/child';
import { printTable, saveResults } from '../lib/report';
import { compare, figures, measuredOnly, Measurement, runRounds } from '../lib/rounds';
import { BenchContext, Scenario } from '../lib/scenario';
import { finalLine, fmt, perSecond, plain } from '../lib/stats';
import { BatchEnd, measureWorkers, Side, startQueueChildren, stopAll } from './queue-children';

const TARGET = { minRatio: 0.9, text: '>= 0.9 of raw Bull' };

/** Jobs per second, and CPU microseconds per job in the measured process(es). */
interface Figures extends Record<string, number> {
  rate: number;
  cpu: number;
}

interface Variant {
  label: string;
  measure(context: BenchContext, side: Side, jobs: number): Promise<Figures>;
}

/** Timed adds from a producer child (after an untimed warm-up), in jobs per second. */
function enqueueVariant(mode: 'bulk' | 'single'): Variant {
  return {
    label: mode === 'bulk' ? 'enqueue bulk (1,000 per call)' : 'enqueue one by one',
    async measure(context, side, jobs) {
      await context.services.flushRedis();
      const [producer] = await startQueueChildren(context, side, 'producer', 1);
      try {
        producer.send({ type: 'enqueue', mode, count: Math.ceil(jobs / 10), chunk: 1_000 });
        await producer.next('enqueued');
        producer.send({ type: 'enqueue', mode, count: jobs, chunk: 1_000 });
        const { elapsedNs, cpuUs } = await producer.next<{
          type: string;
          elapsedNs: string;
          cpuUs: number;
        }>('enqueued');
        return { rate: perSecond(jobs, BigInt(elapsedNs)), cpu: cpuUs / jobs };
      } finally {
        await stopAll([producer]);
      }
    },
  };
}

/**
 * Processing rate: the queue is paused and filled, every worker process is up and waiting, then
 * the queue is resumed; the time runs from the resume to the last job moved to completed.
 * A warm-up batch goes through the same way first, untimed.
 */
function processVariant(concurrency: number, processes: number): Variant {
  return {
    label: `process c=${concurrency}, ${processes} process${processes > 1 ? 'es' : ''}`,
    async measure(context, side, jobs) {
      await context.services.flushRedis();
      const workers = await startQueueChildren(context, side, 'worker', processes, concurrency);
      try {
        await runBatch(workers, Math.max(50, Math.ceil(jobs / 20)));
        const { startNs, endNs, cpuUs } = await runBatch(workers, jobs);
        return { rate: perSecond(jobs, endNs - startNs), cpu: cpuUs / jobs };
      } finally {
        await stopAll(workers);
      }
    },
  };
}

async function runBatch(workers: Child[], jobs: number): Promise<{ startNs: bigint } & BatchEnd> {
  const [first] = workers;
  first.send({ type: 'fill', count: jobs });
  await first.next('filled');
  // Counters (and CPU) start after the fill, which the first worker does through its producer.
  const done = await measureWorkers(workers);
  first.send({ type: 'resume' });
  const { startNs } = await first.next<{ type: string; startNs: string }>('resumed');
  const end = await done(jobs);
  return { startNs: BigInt(startNs), ...end };
}

export const jobsScenario: Scenario = {
  name: 'jobs',
  summary:
    'no-op jobs through the project producer and dispatcher (CLS, validation, metrics, logging at info) vs raw Bull',
  async run(context) {
    const jobs = context.smoke ? 200 : 20_000;
    // The smoke run checks both paths (enqueue, process) once; every child it starts is a boot.
    const variants: Variant[] = context.smoke
      ? [enqueueVariant('bulk'), processVariant(10, 1)]
      : [
          enqueueVariant('bulk'),
          enqueueVariant('single'),
          ...[1, 10, 50].flatMap((c) => [1, 2].map((processes) => processVariant(c, processes))),
        ];
    context.out(`${fmt(jobs)} jobs per measurement, ${context.rounds} round(s), sides alternating`);
    const measurements: Measurement[] = variants.flatMap((variant) =>
      (['project', 'baseline'] as const).map((side) => ({
        key: `${variant.label} [${side}]`,
        run: () => variant.measure(context, side, jobs),
      })),
    );
    const values = await runRounds(measurements, context.rounds, context.out, context.filter);
    const pairs = (figure: 'rate' | 'cpu', options: Parameters<typeof compare>[3]) =>
      measuredOnly(
        variants.map((variant) =>
          compare(
            variant.label,
            figures(values, `${variant.label} [project]`, figure),
            figures(values, `${variant.label} [baseline]`, figure),
            options,
          ),
        ),
      );
    const rows = pairs('rate', { unit: 'jobs/s', target: TARGET });
    const cpu = pairs('cpu', { unit: 'us', lowerIsBetter: true });
    printTable(context.out, `jobs: ${fmt(jobs)} no-op jobs, jobs/s`, rows);
    printTable(
      context.out,
      'jobs: CPU per job in the measured process(es), microseconds (lower is better; steadier than rates on a busy machine)',
      cpu,
    );
    context.out(`results: ${saveResults('jobs', { jobs, rounds: context.rounds, rows, cpu })}`);
    const worst = rows.reduce((a, b) => (b.ratio < a.ratio ? b : a));
    context.out(`lowest ratio: ${worst.label}`);
    return {
      line: finalLine(
        'jobs',
        worst.ratio,
        `${plain(worst.project.median)}/s`,
        `${plain(worst.baseline.median)}/s`,
      ),
    };
  },
};
