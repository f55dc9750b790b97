import { Injectable } from '@nestjs/common';
import type { Job } from 'bull';
import { QueueName } from './queue-names';

/** A job this process gave up at the shutdown deadline: what it takes to hand it back. */
export interface GivenUpJob {
  queue: QueueName;
  jobId: string;
  name: string;
  /** Bull's key prefix of the queue (`<prefix>:<queue>:`) and the lock token of this process. */
  keyPrefix: string;
  lockToken: string;
}

interface Running {
  queue: QueueName;
  job: Job;
  givenUp: boolean;
}

/** Settles never: what Bull gets for a job given up, so it neither completes nor fails it. */
const NEVER = new Promise<never>(() => undefined);

/**
 * The jobs this process is running. At the shutdown deadline QueueLifecycle gives up the ones
 * still running: from then on their outcome is ignored (Bull is handed a promise that never
 * settles), so a late finish cannot complete, fail or count an attempt of a job that another
 * worker is about to run.
 */
@Injectable()
export class ActiveJobs {
  private readonly running = new Set<Running>();

  /** Wraps one run (JobDispatcher calls it for every job). */
  track(queue: QueueName, job: Job, run: () => Promise<unknown>): Promise<unknown> {
    const entry: Running = { queue, job, givenUp: false };
    this.running.add(entry);
    return run().then(
      (result) => {
        this.running.delete(entry);
        return entry.givenUp ? NEVER : result;
      },
      (error: unknown) => {
        this.running.delete(entry);
        return entry.givenUp ? NEVER : Promise.reject(error);
      },
    );
  }

  get count(): number {
    return this.running.size;
  }

  /** Gives up every job still running; their outcome is ignored from now on. */
  giveUpAll(): GivenUpJob[] {
    const given: GivenUpJob[] = [];
    for (const entry of this.running) {
      entry.givenUp = true;
      const queue = entry.job.queue as unknown as { token: string; toKey(id: string): string };
      given.push({
        queue: entry.queue,
        jobId: String(entry.job.id),
        name: entry.job.name,
        keyPrefix: queue.toKey(''),
        lockToken: queue.token,
      });
    }
    this.running.clear();
    return given;
  }
}
