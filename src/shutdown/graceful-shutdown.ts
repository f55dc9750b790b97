import { INestApplicationContext, Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import { GivenUpJob } from '../queue/active-jobs';
import { handBack } from '../queue/job-handback';
import { QueueLifecycle } from '../queue/queue-lifecycle';
import { createRedisClient } from '../redis/redis-options';
import { ExitCode } from './exit-codes';
import { HttpDrain } from './http-drain';

const logger = new Logger('Shutdown');

/**
 * The shutdown sequence after SIGTERM/SIGINT, bounded by `deadlineAt` (SHUTDOWN_TIMEOUT after
 * the signal); answers the exit code.
 *   1. at once: stop accepting connections and taking jobs;
 *   2. until the deadline: in-flight requests and active jobs finish; at the deadline the
 *      requests still running are cut and the jobs still running are given up;
 *   3. app.close(): throughput counts flushed, scheduler stopped, PostgreSQL and Redis closed
 *      (connections a given-up job still holds are ended: its open transaction rolls back);
 *   4. the given-up jobs are handed back to their queues (a fresh connection, one script per
 *      job), so another worker takes them now rather than after their lock lapses. A given-up
 *      payout's lease still runs: its job waits for it ("busy", retried when the lease ends).
 */
export async function gracefulShutdown(
  app: INestApplicationContext,
  config: AppConfig,
  deadlineAt: number,
  http?: HttpDrain,
): Promise<number> {
  const [givenUp, cut] = await Promise.all([
    app.get(QueueLifecycle).drain(deadlineAt),
    http ? http.drain(deadlineAt) : Promise.resolve(0),
  ]);
  if (cut > 0) {
    logger.warn(`${cut} HTTP request(s) still running at the shutdown deadline were cut`);
  }
  await app.close();
  if (givenUp.length > 0) await handBackAll(config, givenUp);
  return givenUp.length > 0 || cut > 0 ? ExitCode.DeadlineReached : ExitCode.Ok;
}

async function handBackAll(config: AppConfig, jobs: GivenUpJob[]): Promise<void> {
  const redis = createRedisClient(config.redis, {
    connectionName: 'shutdown-hand-back',
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    for (const job of jobs) {
      const outcome = await handBack(redis, job).catch((error: Error) => error);
      const what = `Job ${job.queue}#${job.jobId} (${job.name})`;
      if (outcome === 'requeued') {
        logger.warn(
          `${what} handed back to its queue (shutdown deadline): another worker runs it now`,
        );
      } else if (outcome instanceof Error) {
        logger.error(
          `${what} could not be handed back (${outcome.message}): Bull's stalled-job check ` +
            'moves it back once its lock lapses (QUEUE_LOCK_DURATION)',
        );
      } else {
        logger.log(`${what} not handed back: ${outcome} (another worker has it already)`);
      }
    }
  } finally {
    redis.disconnect();
  }
}
