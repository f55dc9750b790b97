import { Injectable } from '@nestjs/common';
import { JobDetailView, JobPageView, JobRowView } from './dto/job.views';
import { ListJobsQuery } from './dto/list-jobs.query';
import { decodeCursor, encodeCursor } from './job-cursor';
import { jobIdsInState } from './job-states';
import { toJobDetail, toJobRow } from './job-view';
import { QueueLocator } from './queue-locator';

/** Jobs examined at most per page when filtering by name, so one request stays bounded. */
const MAX_SCAN_PER_PAGE = 1_000;
const NAME_FILTER_BATCH = 200;

/** Reads jobs for the API: pages by state, one job in full. */
@Injectable()
export class QueueJobsService {
  constructor(private readonly locator: QueueLocator) {}

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
}
