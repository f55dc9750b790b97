import { Injectable } from '@nestjs/common';
import type { JobOptions, Queue } from 'bull';
import { AppConfig } from '../config';
import { JOB_CONTRACTS, jobsOfQueue, QUEUE_NAMES, QueueName } from '../queue';
import { defaultJobOptions } from '../queue/queue.options';
import { ThroughputStore } from '../metrics/throughput.store';
import { JobCountsView, QueueDetailView, QueueSummaryView } from './dto/queue.views';
import { QueueLocator } from './queue-locator';

/** Read-only queue statistics: counts, pause state and workers from Redis, throughput from the minute buckets. */
@Injectable()
export class QueueStatsService {
  constructor(
    private readonly locator: QueueLocator,
    private readonly throughput: ThroughputStore,
    private readonly config: AppConfig,
  ) {}

  async summaries(): Promise<QueueSummaryView[]> {
    const throughput = await this.throughput.read(QUEUE_NAMES);
    return Promise.all(
      QUEUE_NAMES.map((name) =>
        this.summary(name, this.locator.queue(name).queue, throughput.get(name)!),
      ),
    );
  }

  async detail(name: string): Promise<QueueDetailView> {
    const located = this.locator.queue(name);
    const [throughput, oldest] = await Promise.all([
      this.throughput.read([located.name]),
      this.oldestWaiting(located.queue),
    ]);
    const summary = await this.summary(located.name, located.queue, throughput.get(located.name)!);
    return {
      ...summary,
      defaultJobOptions: defaultJobOptions(this.config) as Record<string, unknown>,
      jobOptions: Object.fromEntries(
        jobsOfQueue(located.name).map((job) => [
          job,
          (JOB_CONTRACTS[job].options ?? {}) as JobOptions,
        ]),
      ),
      oldestWaitingAgeMs: oldest ? Math.max(0, Date.now() - oldest.timestamp) : null,
      oldestWaitingJobId: oldest?.id ?? null,
    };
  }

  private async summary(
    name: QueueName,
    queue: Queue,
    throughput: QueueSummaryView['throughput'],
  ): Promise<QueueSummaryView> {
    const [counts, paused, workers] = await Promise.all([
      queue.getJobCounts(),
      queue.isPaused(),
      // undefined when the Redis provider refuses CLIENT LIST.
      queue.getWorkers().then((list) => (Array.isArray(list) ? list.length : null)),
    ]);
    return { name, counts: counts as unknown as JobCountsView, paused, workers, throughput };
  }

  /**
   * The job that has waited longest: the tail of the wait list (Bull pushes new jobs at the head
   * and workers take from the tail), or of the paused list while the queue is paused.
   */
  private async oldestWaiting(
    queue: Queue,
  ): Promise<{ id: string; timestamp: number } | undefined> {
    for (const list of ['wait', 'paused']) {
      const [id] = await queue.client.lrange(queue.toKey(list), -1, -1);
      if (!id) continue;
      const timestamp = Number(await queue.client.hget(queue.toKey(id), 'timestamp'));
      if (Number.isFinite(timestamp) && timestamp > 0) return { id, timestamp };
    }
    return undefined;
  }
}
