import { JobOptions } from 'bull';
import { AppConfig } from '../config';

/** Default options of every job, from config; a job's contract may override some of them. */
export function defaultJobOptions(config: AppConfig): JobOptions {
  const { attempts, backoffDelayMs, jobTimeoutMs, completedRetention, failedRetentionMs } =
    config.queue;
  return {
    attempts,
    backoff: { type: 'exponential', delay: backoffDelayMs },
    timeout: jobTimeoutMs,
    removeOnComplete: completedRetention,
    // Bull counts age in seconds; the scheduled cleanup also trims what this misses.
    removeOnFail: { age: Math.ceil(failedRetentionMs / 1000) },
  };
}
