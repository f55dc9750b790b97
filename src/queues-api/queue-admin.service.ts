import { ConflictException, Injectable } from '@nestjs/common';
import type { JobStatusClean } from 'bull';
import { JobActionView } from './dto/job.views';
import { CleanableState } from './dto/queue-mutations.dto';
import { CleanView, PauseView, RetryFailedView } from './dto/queue.views';
import { RetryChecks } from '../queue';
import { QueueLocator } from './queue-locator';

const CLEAN_TYPES: Record<CleanableState, JobStatusClean> = {
  completed: 'completed',
  failed: 'failed',
  delayed: 'delayed',
  waiting: 'wait',
  paused: 'paused',
};

/** Queue and job mutations; each refuses (409) what Bull would do wrongly or not at all. */
@Injectable()
export class QueueAdminService {
  constructor(
    private readonly locator: QueueLocator,
    private readonly retryChecks: RetryChecks,
  ) {}

  async retryJob(queueName: string, id: string): Promise<JobActionView> {
    const { name, job } = await this.locator.job(queueName, id);
    const state = await job.getState();
    if (state !== 'failed') {
      throw new ConflictException(`Only failed jobs can be retried; job ${id} is ${state}`);
    }
    const cannotHelp = await this.retryChecks.whyNotRetry(job);
    if (cannotHelp) {
      throw new ConflictException(`Retrying job ${id} cannot help: ${cannotHelp}`);
    }
    await job.retry();
    return { queue: name, id: String(job.id), state: await job.getState() };
  }

  async promoteJob(queueName: string, id: string): Promise<JobActionView> {
    const { name, job } = await this.locator.job(queueName, id);
    const state = await job.getState();
    if (state !== 'delayed') {
      throw new ConflictException(`Only delayed jobs can be promoted; job ${id} is ${state}`);
    }
    await job.promote();
    return { queue: name, id: String(job.id), state: await job.getState() };
  }

  async removeJob(queueName: string, id: string): Promise<JobActionView> {
    const { name, job } = await this.locator.job(queueName, id);
    const state = await job.getState();
    if (state === 'active') {
      throw new ConflictException(
        `Job ${id} is active: a worker is running it. Wait for it to finish (or fail), then delete it.`,
      );
    }
    try {
      await job.remove();
    } catch (error) {
      // Bull refuses to remove a job whose lock a worker holds (it became active meanwhile).
      throw new ConflictException(`Job ${id} could not be removed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return { queue: name, id: String(job.id), state: 'removed' };
  }

  /** Retries up to `limit` failed jobs, newest first; answers how many moved and how many are left. */
  async retryFailed(queueName: string, limit: number): Promise<RetryFailedView> {
    const { name, queue } = this.locator.queue(queueName);
    const failed = await queue.getFailed(0, limit - 1);
    let retried = 0;
    for (const job of failed) {
      // A job a retry cannot help (see RetryChecks) stays failed, with its reason on the job.
      if (!job || (await this.retryChecks.whyNotRetry(job))) continue;
      // A job retried or removed by someone else meanwhile is skipped, not counted.
      const ok = await job.retry().then(
        () => true,
        () => false,
      );
      if (ok) retried += 1;
    }
    return { queue: name, retried, failedRemaining: await queue.getFailedCount() };
  }

  /** Global pause (a key in Redis): every worker process stops taking jobs; active ones finish. */
  async pause(queueName: string): Promise<PauseView> {
    const { name, queue } = this.locator.queue(queueName);
    await queue.pause();
    return { queue: name, paused: await queue.isPaused() };
  }

  async resume(queueName: string): Promise<PauseView> {
    const { name, queue } = this.locator.queue(queueName);
    await queue.resume();
    return { queue: name, paused: await queue.isPaused() };
  }

  async clean(
    queueName: string,
    state: CleanableState,
    graceMs: number,
    limit: number,
  ): Promise<CleanView> {
    const { name, queue } = this.locator.queue(queueName);
    const removed = await queue.clean(graceMs, CLEAN_TYPES[state], limit);
    return { queue: name, state, removed: removed.length };
  }
}
