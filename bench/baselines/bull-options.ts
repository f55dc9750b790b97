import type { AdvancedSettings, JobOptions } from 'bull';

/*
 * Bare Bull with the options the project gives its jobs and queues by default (the project's
 * defaults: src/queue/queue.options.ts, src/queue/queue.module.ts, the env defaults), written out
 * here because a baseline does not use the project's code. The smoke test checks they agree.
 */

/**
 * The project's jobs back off through a named strategy (exponential, unless a RetryLaterError
 * says when): the baseline registers one of the same name that is plain exponential, so both
 * sides store the same job options. No-op jobs never fail, so it never runs here.
 */
const BASELINE_BACKOFF = 'exponential-or-retry-after';

export const BASELINE_JOB_OPTIONS: JobOptions = {
  attempts: 5,
  backoff: { type: BASELINE_BACKOFF, options: { delay: 1_000 } } as JobOptions['backoff'],
  timeout: 300_000,
  removeOnComplete: 1_000,
  removeOnFail: { age: 604_800 },
};

export const BASELINE_QUEUE_SETTINGS: AdvancedSettings = {
  lockDuration: 30_000,
  stalledInterval: 15_000,
  maxStalledCount: 3,
};

/** Bull's own exponential formula under the project's strategy name (see BASELINE_JOB_OPTIONS). */
export const BASELINE_BACKOFF_STRATEGIES: AdvancedSettings['backoffStrategies'] = {
  [BASELINE_BACKOFF]: (attemptsMade: number, _error: Error, options: { delay: number }) =>
    Math.round((2 ** attemptsMade - 1) * options.delay),
};
