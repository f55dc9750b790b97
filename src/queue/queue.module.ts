import { BullModule } from '@nestjs/bull';
import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config';
import { RedisConnections } from '../redis/redis-connections';
import { ActiveJobs } from './active-jobs';
import { CorrelationIndex } from './correlation-index';
import { BACKOFF_STRATEGY, backoffDelay } from './worker/retry-later-error';
import { defaultJobOptions } from './queue.options';
import { QueueLifecycle } from './queue-lifecycle';
import { QUEUE_NAMES } from './queue-names';
import { JobProducer } from './queue.producer';
import { QueueRegistry } from './queue-registry';
import { RetryChecks } from './retry-checks';

const queues = BullModule.registerQueue(...QUEUE_NAMES.map((name) => ({ name })));

/**
 * The four queues and their producer, for every role. Processing is wired separately by
 * QueueWorkerModule, which only the worker roles import.
 */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig, RedisConnections],
      useFactory: (config: AppConfig, redis: RedisConnections) => ({
        prefix: config.redis.prefix,
        createClient: (type) => redis.forBull(type),
        defaultJobOptions: defaultJobOptions(config),
        settings: {
          // A killed worker's jobs are picked up again once their lock lapses (lockDuration).
          lockDuration: config.queue.lockDurationMs,
          stalledInterval: config.queue.stalledIntervalMs,
          // Payout processing is idempotent, so a job may safely stall (and rerun) a few times.
          maxStalledCount: 3,
          backoffStrategies: { [BACKOFF_STRATEGY]: backoffDelay },
        },
      }),
    }),
    queues,
  ],
  providers: [
    QueueRegistry,
    JobProducer,
    QueueLifecycle,
    CorrelationIndex,
    ActiveJobs,
    RetryChecks,
  ],
  exports: [
    queues,
    QueueRegistry,
    JobProducer,
    QueueLifecycle,
    CorrelationIndex,
    ActiveJobs,
    RetryChecks,
  ],
})
export class QueueModule {}
