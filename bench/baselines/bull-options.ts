import type { AdvancedSettings, JobOptions } from 'bull';

/*
 * Bare Bull with the options the project gives its jobs and queues by default (the project's
 * defaults: src/queue/queue.options.ts, src/queue/queue.module.ts, the env defaults), written out
 * here because a baseline does not use the project's code. The smoke test checks they agree.
 */

export const BASELINE_JOB_OPTIONS: JobOptions = {
  attempts: 5,
  // The project's strategy: exponential from 1 s unless the handler says when (RetryLaterError).
  backoff: { type: 'exponential-or-retry-after', options: { delay: 1_000 } },
  timeout: 300_000,
  removeOnComplete: 1_000,
  removeOnFail: { age: 604_800 },
};

export const BASELINE_QUEUE_SETTINGS: AdvancedSettings = {
  lockDuration: 30_000,
  stalledInterval: 15_000,
  maxStalledCount: 3,
  backoffStrategies: {
    'exponential-or-retry-after': (attemptsMade: number, _error: Error, options?: unknown) =>
      Math.round((2 ** attemptsMade - 1) * (options as { delay: number }).delay),
  },
};
