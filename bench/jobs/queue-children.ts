import * as path from 'node:path';
import { appOverrides } from '../lib/app-env';
import { Child, ChildOptions, Message, startChildren } from '../lib/child';
import { BenchContext } from '../lib/scenario';

export type Side = 'project' | 'baseline';

const SCRIPTS: Record<Side, string> = {
  project: 'jobs/project-side',
  baseline: 'baselines/bull-side',
};

let started = 0;

/**
 * Starts queue children of one side (workers or producers) on the run's Redis. The project runs
 * as in production (NODE_ENV=production, JSON logs at info to a file), with its default job
 * options; the baseline reads only REDIS_URL and its concurrency.
 */
export async function startQueueChildren(
  context: BenchContext,
  side: Side,
  role: 'worker' | 'producer',
  count: number,
  concurrency = 1,
): Promise<Child[]> {
  const redisUrl = await context.services.redisUrl();
  const options: ChildOptions[] = Array.from({ length: count }, (_, i) => {
    started += 1;
    return {
      script: SCRIPTS[side],
      logFile: path.join(context.services.logDir, `${side}-${role}-${started}-${i}.log`),
      cpuProfDir: context.profileDir,
      env: {
        BENCH_ROLE: role,
        BENCH_CONCURRENCY: String(concurrency),
        REDIS_URL: redisUrl,
        ...(side === 'project' ? projectEnv(concurrency) : {}),
      },
    };
  });
  return startChildren(options);
}

function projectEnv(concurrency: number): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    // Not used by the queue modules, but the configuration requires them to be well-formed.
    DATABASE_URL: 'postgres://bench@127.0.0.1:1/unused',
    SESSION_SECRET: 'bench-only-session-secret-0123456789abcdef',
    QUEUE_CONCURRENCY_PAYOUTS: String(concurrency),
    ...appOverrides(),
  };
}

export async function stopAll(children: Child[]): Promise<void> {
  await Promise.all(children.map((child) => child.stop()));
}

interface Progress extends Message {
  completed: number;
  lastCompletedNs: string;
  cpuUs: number;
}

export interface BatchEnd {
  /** When the last of the jobs was moved to completed (hrtime, ns). */
  endNs: bigint;
  /** CPU the workers used together since `measure`, in microseconds. */
  cpuUs: number;
}

/** Resets the workers' counters, then waits until together they completed `count` jobs. */
export async function measureWorkers(
  workers: Child[],
  options: { recordStarts?: boolean } = {},
): Promise<(count: number, timeoutMs?: number) => Promise<BatchEnd>> {
  for (const worker of workers)
    worker.send({ type: 'measure', recordStarts: options.recordStarts });
  await Promise.all(workers.map((worker) => worker.next('measuring')));
  const latest = new Map<Child, Progress>();
  return async (count, timeoutMs = 300_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const worker of workers) {
        const reports = worker.drain<Progress>('progress');
        if (reports.length > 0) latest.set(worker, reports[reports.length - 1]);
        const failure = worker.drain('error')[0];
        if (failure) throw new Error(`worker failed: ${String(failure.message)}`);
      }
      const done = [...latest.values()].reduce((sum, p) => sum + p.completed, 0);
      if (done >= count) {
        const reports = [...latest.values()];
        return {
          endNs: reports.reduce(
            (max, p) => (BigInt(p.lastCompletedNs) > max ? BigInt(p.lastCompletedNs) : max),
            0n,
          ),
          cpuUs: reports.reduce((sum, p) => sum + p.cpuUs, 0),
        };
      }
      if (Date.now() > deadline)
        throw new Error(`workers completed ${done} of ${count} jobs in time`);
      await Promise.race(workers.map((worker) => worker.nextEvent(200)));
    }
  };
}
