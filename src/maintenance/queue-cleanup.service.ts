import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bull';
import { AppConfig } from '../config';
import { QUEUE_NAMES, QueueName, QueueRegistry } from '../queue';
import { ScheduleRunRepository } from '../scheduler/schedule-run.repository';

/** Jobs removed per Lua call: large sets are trimmed in steps, so Redis is never blocked long. */
const BATCH = 1_000;

export interface QueueCleanupReport {
  queues: Array<{ queue: QueueName; completedRemoved: number; failedRemoved: number }>;
  /** schedule_runs rows older than SCHEDULER_RUN_RETENTION removed. */
  scheduleRunsRemoved: number;
}

/**
 * Trims finished jobs in every queue: completed ones down to the newest COMPLETED_JOB_RETENTION,
 * failed ones older than FAILED_JOB_RETENTION (recent failures stay, for inspection and retry).
 * The per-job removeOnComplete/removeOnFail options do most of this as jobs finish; this catches
 * what they miss (a lowered retention, a queue that went quiet, jobs added by other tools).
 * It also trims the scheduler's run records (schedule_runs) past SCHEDULER_RUN_RETENTION.
 */
@Injectable()
export class QueueCleanupService {
  private readonly logger = new Logger(QueueCleanupService.name);

  constructor(
    private readonly queues: QueueRegistry,
    private readonly config: AppConfig,
    private readonly scheduleRuns: ScheduleRunRepository,
  ) {}

  async cleanAll(): Promise<QueueCleanupReport> {
    const { completedRetention, failedRetentionMs } = this.config.queue;
    const report: QueueCleanupReport = { queues: [], scheduleRunsRemoved: 0 };
    for (const name of QUEUE_NAMES) {
      const queue = this.queues.get(name);
      const completedRemoved = await this.trimCompleted(queue, completedRetention);
      const failedRemoved = await this.removeFailedOlderThan(queue, failedRetentionMs);
      report.queues.push({ queue: name, completedRemoved, failedRemoved });
      if (completedRemoved + failedRemoved > 0) {
        this.logger.log(
          `Queue ${name}: removed ${completedRemoved} completed and ${failedRemoved} failed job(s)`,
        );
      }
    }
    report.scheduleRunsRemoved = await this.scheduleRuns.trimOlderThan(
      new Date(Date.now() - this.config.scheduler.runRetentionMs),
    );
    if (report.scheduleRunsRemoved > 0)
      this.logger.log(`Removed ${report.scheduleRunsRemoved} schedule run record(s)`);
    return report;
  }

  /** Keeps the newest `keep` completed jobs: removes the oldest ones beyond that count. */
  private async trimCompleted(queue: Queue, keep: number): Promise<number> {
    let excess = (await queue.getCompletedCount()) - keep;
    let removed = 0;
    while (excess > 0) {
      // With a limit, Bull's clean takes the set's lowest scores first: the oldest finished.
      const batch = await queue.clean(0, 'completed', Math.min(excess, BATCH));
      if (batch.length === 0) break;
      removed += batch.length;
      excess -= batch.length;
    }
    return removed;
  }

  private async removeFailedOlderThan(queue: Queue, ageMs: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const batch = await queue.clean(ageMs, 'failed', BATCH);
      removed += batch.length;
      if (batch.length < BATCH) return removed;
    }
  }
}
