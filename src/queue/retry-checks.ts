import { Injectable } from '@nestjs/common';
import type { Job } from 'bull';
import { JobName } from './queue-names';

/** A reason why running this failed job again cannot help, or undefined when it may. */
export type RetryCheck = (job: Job) => Promise<string | undefined>;

/**
 * Checks an operator's retry must pass, registered by the feature that owns the job (at
 * onModuleInit), so the queue API refuses with a reason (409) instead of re-running a job that
 * would only fail again or do nothing.
 */
@Injectable()
export class RetryChecks {
  private readonly checks = new Map<string, RetryCheck>();

  register(jobName: JobName, check: RetryCheck): void {
    this.checks.set(jobName, check);
  }

  whyNotRetry(job: Job): Promise<string | undefined> {
    return this.checks.get(job.name)?.(job) ?? Promise.resolve(undefined);
  }
}
