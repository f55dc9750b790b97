import type { Job } from 'bull';
import { QueueName } from '../queue';
import { JobDetailView, JobRowView } from './dto/job.views';
import { redactJobData } from './job-redaction';

/** What a job row is made of: a Bull job, or the same fields read straight from its hash. */
export type JobRowSource = Pick<
  Job,
  | 'id'
  | 'name'
  | 'data'
  | 'opts'
  | 'attemptsMade'
  | 'timestamp'
  | 'processedOn'
  | 'finishedOn'
  | 'failedReason'
>;

/** One row of a job list: what an operator scans, without the payload. */
export function toJobRow(queue: QueueName, job: JobRowSource, state: string): JobRowView {
  const delay = job.opts.delay ?? 0;
  return {
    id: String(job.id),
    queue,
    name: job.name,
    state,
    attemptsMade: job.attemptsMade,
    attempts: job.opts.attempts ?? 1,
    createdAt: isoOrNull(job.timestamp) ?? new Date(0).toISOString(),
    processedAt: isoOrNull(job.processedOn),
    finishedAt: isoOrNull(job.finishedOn),
    delayedUntil: state === 'delayed' && delay > 0 ? isoOrNull(job.timestamp + delay) : null,
    failedReason: job.failedReason ? firstLine(job.failedReason) : null,
    correlationId: correlationIdOf(job.data),
  };
}

/** The whole job, its data passed through the queue's redaction list. */
export function toJobDetail(
  queue: QueueName,
  job: Job,
  state: string,
  logs: string[],
): JobDetailView {
  return {
    ...toJobRow(queue, job, state),
    data: redactJobData(queue, job.data),
    options: job.opts as Record<string, unknown>,
    progress: job.progress() as unknown,
    returnValue: job.returnvalue as unknown,
    failedReasonFull: job.failedReason ?? null,
    stacktrace: job.stacktrace ?? [],
    logs,
  };
}

export function correlationIdOf(data: unknown): string | null {
  const id = (data as { meta?: { correlationId?: unknown } } | null)?.meta?.correlationId;
  return typeof id === 'string' ? id : null;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0].slice(0, 500);
}

function isoOrNull(ms: number | undefined | null): string | null {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0
    ? new Date(ms).toISOString()
    : null;
}
