import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import { ActiveJobs, GivenUpJob } from './active-jobs';
import { QueueRegistry } from './queue-registry';

/**
 * Stops the queues at shutdown, bounded by a deadline (SHUTDOWN_TIMEOUT after the signal): no
 * new job is taken, active jobs may finish until the deadline, and those still running then are
 * given up (ActiveJobs): bootstrap hands them back to their queue once this process has closed
 * its connections (see handBack). Bull's own close cannot do this: close(true) returns the close
 * already pending, which waits for the same active jobs.
 * Redis and the database close later (onApplicationShutdown), so finishing jobs can still use them.
 */
@Injectable()
export class QueueLifecycle implements BeforeApplicationShutdown {
  private readonly logger = new Logger(QueueLifecycle.name);
  private draining?: Promise<GivenUpJob[]>;

  constructor(
    private readonly queues: QueueRegistry,
    private readonly activeJobs: ActiveJobs,
    private readonly config: AppConfig,
  ) {}

  /**
   * Starts stopping (once; later calls get the same answer): resolves when every queue closed,
   * or at `deadlineAt` with the jobs given up.
   */
  drain(deadlineAt = Date.now() + this.config.shutdownTimeoutMs): Promise<GivenUpJob[]> {
    this.draining ??= this.stop(deadlineAt);
    return this.draining;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  private async stop(deadlineAt: number): Promise<GivenUpJob[]> {
    // Bull pauses each queue locally at once (no new job is taken), then waits for its active jobs.
    const closing = Promise.all(this.queues.all().map((queue) => queue.close()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), Math.max(0, deadlineAt - Date.now()));
    });
    const outcome = await Promise.race([closing.then(() => 'closed' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'closed') return [];
    // Bull's close stays pending on these jobs; RedisConnections closes its connections anyway.
    closing.catch(() => undefined);
    const givenUp = this.activeJobs.giveUpAll();
    // @nestjs/bull closes each queue again in the queue's own onApplicationShutdown, which
    // would wait on the same pending close: that second wait is dropped.
    for (const queue of this.queues.all()) {
      Object.assign(queue, { onApplicationShutdown: () => undefined });
    }
    for (const job of givenUp) {
      this.logger.warn(
        `Job ${job.queue}#${job.jobId} (${job.name}) given up: still running at the shutdown ` +
          `deadline (SHUTDOWN_TIMEOUT ${this.config.shutdownTimeoutMs} ms); it goes back to its ` +
          'queue for another worker once this process has closed its connections',
      );
    }
    return givenUp;
  }
}
