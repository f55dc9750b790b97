import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Job, Queue } from 'bull';
import { QueueRegistry } from '../queue-registry';

/** The raw job hash Bull reads from Redis when it takes a job. */
type RawJob = Record<string, string | undefined>;

/** The one Bull internal used here: it turns the raw hash of a just-taken job into a Job. */
interface BullInternals {
  nextJobFromJobData(jobData: RawJob | null, jobId: string): Job | null | Promise<Job | null>;
}

/**
 * Bull parses a job's stored JSON (`data`, `opts`) when a worker takes it, before any handler
 * runs. A body that does not parse (written by hand, truncated, another serializer) throws
 * inside Bull: the job stays active with nobody renewing its lock, stalls, is taken again by
 * every worker in turn, and minutes later fails as "job stalled more than allowable limit",
 * with nothing said about why. This fails such a job at once, with the parse error as its
 * reason, and keeps its original text (as a JSON string) for inspection, so the queue API can
 * list and show it like any other failed job.
 */
@Injectable()
export class CorruptJobGuard implements OnModuleInit {
  private readonly logger = new Logger('Jobs');

  constructor(private readonly queues: QueueRegistry) {}

  /** Before the dispatcher starts processing (onApplicationBootstrap). */
  onModuleInit(): void {
    for (const queue of this.queues.all()) this.guard(queue);
  }

  private guard(queue: Queue): void {
    const internals = queue as unknown as BullInternals;
    const next = internals.nextJobFromJobData.bind(queue);
    internals.nextJobFromJobData = (jobData, jobId) => {
      try {
        return next(jobData, jobId);
      } catch (error) {
        if (!jobData || !(error instanceof SyntaxError)) throw error;
        return this.fail(queue, next, jobData, jobId, error).then(() => null);
      }
    };
  }

  private async fail(
    queue: Queue,
    next: BullInternals['nextJobFromJobData'],
    jobData: RawJob,
    jobId: string,
    error: SyntaxError,
  ): Promise<void> {
    const reason =
      `Stored job is not valid JSON (${error.message}); written by another producer or ` +
      `corrupted: its original text is kept as { corruptData, corruptOpts }`;
    const repaired: RawJob = {
      ...jobData,
      data: JSON.stringify({
        corruptData: jobData.data ?? null,
        corruptOpts: jobData.opts ?? null,
      }),
      opts: isJson(jobData.opts) ? jobData.opts : '{}',
    };
    try {
      await queue.client.hset(`${queue.toKey(jobId)}`, {
        data: repaired.data,
        opts: repaired.opts,
      });
      const job = (await next(repaired, jobId)) as Job;
      job.discard();
      await job.moveToFailed({ message: reason });
      this.logger.warn(`Job ${queue.name}#${jobId} failed permanently: ${reason}`);
    } catch (failure) {
      // Left active: Bull's stalled-job check fails it later, as it would have without this.
      this.logger.error(
        `Could not fail corrupt job ${queue.name}#${jobId}: ${(failure as Error).message}`,
      );
    }
  }
}

function isJson(text: string | undefined): boolean {
  if (text === undefined) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
