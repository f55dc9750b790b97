import { IsOptional } from 'class-validator';
import { EnvDuration, EnvInt } from './decorators';

export class QueueEnv {
  /** Jobs each process runs at once per queue (a QUEUE_CONCURRENCY_<QUEUE> overrides it for one queue). */
  @EnvInt(1, 1000)
  MAX_QUEUE_CONCURRENCY = 5;

  @IsOptional()
  @EnvInt(1, 1000)
  QUEUE_CONCURRENCY_PAYOUTS?: number;

  @IsOptional()
  @EnvInt(1, 1000)
  QUEUE_CONCURRENCY_ANALYTICS?: number;

  @IsOptional()
  @EnvInt(1, 1000)
  QUEUE_CONCURRENCY_NOTIFICATIONS?: number;

  @IsOptional()
  @EnvInt(1, 1000)
  QUEUE_CONCURRENCY_EXPORTS?: number;

  /** A job running longer than this fails as timed out (and is retried if attempts remain). */
  @EnvDuration(1)
  JOB_TIMEOUT = 300_000;

  /** Attempts per job, the first run included. */
  @EnvInt(1, 100)
  JOB_ATTEMPTS = 5;

  /** First retry delay; each further retry doubles it (exponential backoff). */
  @EnvDuration(0)
  JOB_BACKOFF_DELAY = 1_000;

  /** Completed jobs kept per queue (the newest ones); older ones are trimmed. */
  @EnvInt(0, 1_000_000)
  COMPLETED_JOB_RETENTION = 1_000;

  /** How long failed jobs are kept for inspection and retry. */
  @EnvDuration(0)
  FAILED_JOB_RETENTION = 604_800_000;

  /** How often the cleanup schedule trims completed and expired failed jobs in every queue. */
  @EnvDuration(1_000)
  QUEUE_CLEANUP_INTERVAL = 3_600_000;

  /**
   * How long a worker's lock on an active job lasts (renewed at half this while it runs). A job
   * of a killed worker is picked up again once its lock lapses and the stalled check runs.
   */
  @EnvDuration(1_000)
  QUEUE_LOCK_DURATION = 30_000;

  /** How often each worker looks for stalled jobs (active jobs whose lock lapsed). */
  @EnvDuration(500)
  QUEUE_STALLED_INTERVAL = 15_000;
}
