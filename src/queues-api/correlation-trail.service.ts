import { Injectable } from '@nestjs/common';

import { isQueueName, QueueName } from '../queue';
import { CorrelationEntry, CorrelationIndex } from '../queue/correlation-index';
import { QueueRegistry } from '../queue/queue-registry';
import { CorrelationTrailView, JobRowView } from './dto/job.views';
import { JobRowSource, toJobRow } from './job-view';
import { decodeTrailCursor, encodeTrailCursor } from './trail-cursor';

/** The job hash fields a trail row needs (not the stack traces or the return value). */
const ROW_FIELDS = [
  'name',
  'data',
  'opts',
  'timestamp',
  'processedOn',
  'finishedOn',
  'attemptsMade',
  'failedReason',
] as const;
/** Redis replies per entry in the page pipeline: the fields, then three sets and the lock. */
const REPLIES_PER_ENTRY = 5;

/**
 * A request's trail, a page at a time, from the correlation index (CorrelationIndex): one
 * command for the page of entries, then one pipeline that reads each job's row fields and
 * state. The cost depends on the page size only, never on how many jobs Redis holds.
 */
@Injectable()
export class CorrelationTrailService {
  constructor(
    private readonly index: CorrelationIndex,
    private readonly queues: QueueRegistry,
  ) {}

  async page(
    correlationId: string,
    cursor: string | undefined,
    limit: number,
  ): Promise<CorrelationTrailView> {
    const { entries, next } = await this.index.page(
      correlationId,
      decodeTrailCursor(cursor),
      limit,
    );
    const known = entries.filter((entry) => isQueueName(entry.queue));
    const jobs = await this.rows(known);
    return {
      correlationId,
      jobs,
      // Entries whose job is gone: trimmed by its retention (or removed) after it was indexed.
      missing: entries.length - jobs.length,
      nextCursor: next ? encodeTrailCursor(next) : null,
    };
  }

  private async rows(entries: CorrelationEntry[]): Promise<JobRowView[]> {
    if (entries.length === 0) return [];
    const client = this.queues.get(QueueName.Payouts).client;
    const pipeline = client.pipeline();
    const queuesInPage = [...new Set(entries.map((entry) => entry.queue as QueueName))];
    for (const name of queuesInPage) pipeline.exists(this.queues.get(name).toKey('meta-paused'));
    for (const { queue, jobId } of entries) {
      const q = this.queues.get(queue as QueueName);
      const key = q.toKey(jobId);
      pipeline.hmget(key, ...ROW_FIELDS);
      pipeline.zscore(q.toKey('completed'), jobId);
      pipeline.zscore(q.toKey('failed'), jobId);
      pipeline.zscore(q.toKey('delayed'), jobId);
      pipeline.exists(`${key}:lock`);
    }
    const replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    const paused = new Set(queuesInPage.filter((_, i) => replies[i] === 1));
    const rows: JobRowView[] = [];
    entries.forEach((entry, i) => {
      const at = queuesInPage.length + i * REPLIES_PER_ENTRY;
      const fields = replies[at] as Array<string | null>;
      // A job hash without its name is gone (HMGET answers nulls for a missing key).
      if (!fields[0]) return;
      const [completed, failed, delayed, locked] = replies.slice(at + 1, at + REPLIES_PER_ENTRY);
      const state =
        completed !== null
          ? 'completed'
          : failed !== null
            ? 'failed'
            : delayed !== null
              ? 'delayed'
              : locked === 1
                ? 'active'
                : paused.has(entry.queue as QueueName)
                  ? 'paused'
                  : 'waiting';
      rows.push(toJobRow(entry.queue as QueueName, fromHash(entry.jobId, fields), state));
    });
    return rows;
  }
}

function fromHash(id: string, fields: Array<string | null>): JobRowSource {
  const [name, data, opts, timestamp, processedOn, finishedOn, attemptsMade, failedReason] = fields;
  return {
    id,
    name: name ?? '',
    data: parseOr(data, null),
    opts: parseOr(opts, {}) as JobRowSource['opts'],
    timestamp: Number(timestamp ?? 0),
    processedOn: numberOrUndefined(processedOn),
    finishedOn: numberOrUndefined(finishedOn),
    attemptsMade: Number(attemptsMade ?? 0),
    failedReason: failedReason ?? undefined,
  };
}

function parseOr(text: string | null, fallback: unknown): unknown {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A corrupt body still gets its row (see CorruptJobGuard); only its correlation ID is lost.
    return fallback;
  }
}

function numberOrUndefined(text: string | null): number | undefined {
  const value = Number(text);
  return text !== null && Number.isFinite(value) && value > 0 ? value : undefined;
}
