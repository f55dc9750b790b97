import { Injectable } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { AppConfig } from '../config';
import { JOB_STATES, QUEUE_NAMES } from '../queue';
import { CorrelationTrailView, JobDetailView, JobPageView, JobRowView } from './dto/job.views';
import { ListJobsQuery } from './dto/list-jobs.query';
import { decodeCursor, encodeCursor } from './job-cursor';
import { jobIdsInState } from './job-states';
import { correlationIdOf, toJobDetail, toJobRow } from './job-view';
import { QueueLocator } from './queue-locator';
import { retentionMayHaveTrimmed } from './trail-retention';

/** Jobs examined at most per page when filtering by name, so one request stays bounded. */
const MAX_SCAN_PER_PAGE = 1_000;
const NAME_FILTER_BATCH = 200;
/** Newest jobs examined per queue and state by the correlation lookup. */
export const CORRELATION_SCAN_PER_STATE = 2_000;
const DATA_BATCH = 500;

/** Reads jobs for the API: pages by state, one job in full, a request's trail of jobs. */
@Injectable()
export class QueueJobsService {
  constructor(
    private readonly locator: QueueLocator,
    private readonly config: AppConfig,
  ) {}

  async list(queueName: string, query: ListJobsQuery): Promise<JobPageView> {
    const { name, queue } = this.locator.queue(queueName);
    let offset = decodeCursor(query.cursor);
    const jobs: JobRowView[] = [];
    let scanned = 0;
    let exhausted = false;
    while (jobs.length < query.limit && scanned < MAX_SCAN_PER_PAGE && !exhausted) {
      const size = query.name ? NAME_FILTER_BATCH : query.limit - jobs.length;
      const ids = await jobIdsInState(queue, query.state, offset, offset + size - 1);
      const loaded = await Promise.all(ids.map((id) => queue.getJob(id)));
      let consumed = 0;
      for (const job of loaded) {
        consumed += 1;
        // A job removed since its ID was read is skipped.
        if (job && (!query.name || job.name === query.name)) {
          jobs.push(toJobRow(name, job, query.state));
          if (jobs.length === query.limit) break;
        }
      }
      offset += consumed;
      scanned += consumed;
      exhausted = ids.length < size && consumed === ids.length;
    }
    return { jobs, nextCursor: exhausted ? null : encodeCursor(offset) };
  }

  async detail(queueName: string, id: string): Promise<JobDetailView> {
    const { name, queue, job } = await this.locator.job(queueName, id);
    const [state, logs] = await Promise.all([job.getState(), queue.getJobLogs(String(job.id))]);
    return toJobDetail(name, job, state, logs.logs);
  }

  /**
   * Every job carrying the correlation ID, across the queues, oldest first. No index is kept
   * (the producer stays one round trip per enqueue): the newest CORRELATION_SCAN_PER_STATE jobs
   * of each queue and state are examined, reading only their `data` field in pipelined batches
   * and parsing only those that contain the ID.
   */
  async byCorrelation(correlationId: string): Promise<CorrelationTrailView> {
    const needle = `"correlationId":${JSON.stringify(correlationId)}`;
    let scanned = 0;
    let truncated = false;
    const rows: JobRowView[] = [];
    for (const name of QUEUE_NAMES) {
      const { queue } = this.locator.queue(name);
      const seen = new Set<string>();
      for (const state of JOB_STATES) {
        const ids = await jobIdsInState(queue, state, 0, CORRELATION_SCAN_PER_STATE - 1);
        scanned += ids.length;
        if (ids.length === CORRELATION_SCAN_PER_STATE) truncated = true;
        const matches = await this.matching(queue, ids, needle, correlationId);
        for (const job of matches) {
          if (seen.has(String(job.id))) continue;
          seen.add(String(job.id));
          rows.push(toJobRow(name, job, state));
        }
      }
    }
    rows.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const trimmed = await retentionMayHaveTrimmed(
      QUEUE_NAMES.map((name) => this.locator.queue(name).queue),
      rows.length > 0 ? Date.parse(rows[0].createdAt) : undefined,
      this.config,
    );
    return {
      correlationId,
      jobs: rows,
      scanned,
      truncated,
      trimmed,
      complete: !truncated && !trimmed,
    };
  }

  private async matching(
    queue: Queue,
    ids: string[],
    needle: string,
    correlationId: string,
  ): Promise<Job[]> {
    const found: string[] = [];
    for (let start = 0; start < ids.length; start += DATA_BATCH) {
      const batch = ids.slice(start, start + DATA_BATCH);
      const pipeline = queue.client.pipeline();
      for (const id of batch) pipeline.hget(queue.toKey(id), 'data');
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([error, data], index) => {
        if (error || typeof data !== 'string' || !data.includes(needle)) return;
        if (correlationIdOf(safeParse(data)) === correlationId) found.push(batch[index]);
      });
    }
    const jobs = await Promise.all(found.map((id) => queue.getJob(id)));
    return jobs.filter((job): job is Job => job !== null);
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
