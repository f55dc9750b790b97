import { JobOptions } from 'bull';
import { AppConfig } from '../config';
import { BACKOFF_STRATEGY } from './worker/retry-later-error';

/** Default options of every job, from config; a job's contract may override some of them. */
export function defaultJobOptions(config: AppConfig): JobOptions {
  const { attempts, backoffDelayMs, jobTimeoutMs, completedRetention, failedRetentionMs } =
    config.queue;
  return {
    attempts,
    // Exponential from backoffDelayMs, unless the handler's RetryLaterError says when.
    backoff: {
      type: BACKOFF_STRATEGY,
      options: { delay: backoffDelayMs },
    } as JobOptions['backoff'],
    timeout: jobTimeoutMs,
    removeOnComplete: completedRetention,
    // Bull counts age in seconds; the scheduled cleanup also trims what this misses.
    removeOnFail: { age: Math.ceil(failedRetentionMs / 1000) },
  };
}
