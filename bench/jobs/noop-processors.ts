import { Injectable } from '@nestjs/common';
import type { Job } from 'bull';
import { JobData, JobHandler, JobName, QueueName, QueueProcessor } from '../../src/queue';
import type { WorkerProbe } from '../lib/worker-probe';

/** Set by the child before boot: the benchmark job's handler reports its start to it. */
export const probeRef: { probe?: WorkerProbe } = {};

/**
 * No-op handlers for every job name (the dispatcher refuses to boot with a name unhandled), so
 * what is measured is the project's machinery around a handler: CLS restore, payload
 * validation, logging, Bull. Only payout.process is used by the benchmarks.
 */
@Injectable()
@QueueProcessor(QueueName.Payouts)
export class BenchPayoutsProcessor {
  @JobHandler(JobName.PayoutProcess)
  async handleProcess(job: Job<JobData<JobName.PayoutProcess>>): Promise<void> {
    probeRef.probe?.started(job.id);
  }

  @JobHandler(JobName.PayoutCycle)
  async handleCycle(): Promise<void> {}

  @JobHandler(JobName.PayoutPayPayee)
  async handlePayPayee(): Promise<void> {}

  @JobHandler(JobName.PayoutReconcile)
  async handleReconcile(): Promise<void> {}
}

@Injectable()
@QueueProcessor(QueueName.Analytics)
export class BenchAnalyticsProcessor {
  @JobHandler(JobName.AnalyticsDailyStats)
  async handleDailyStats(): Promise<void> {}

  @JobHandler(JobName.QueueCleanup)
  async handleQueueCleanup(): Promise<void> {}

  @JobHandler(JobName.RedisLossCheck)
  async handleRedisLossCheck(): Promise<void> {}
}

@Injectable()
@QueueProcessor(QueueName.Notifications)
export class BenchNotificationsProcessor {
  @JobHandler(JobName.NotificationPayout)
  async handleNotification(): Promise<void> {}
}

@Injectable()
@QueueProcessor(QueueName.Exports)
export class BenchExportsProcessor {
  @JobHandler(JobName.ExportPayouts)
  async handleExport(): Promise<void> {}
}

export const BENCH_PROCESSORS = [
  BenchPayoutsProcessor,
  BenchAnalyticsProcessor,
  BenchNotificationsProcessor,
  BenchExportsProcessor,
];
