import { Injectable } from '@nestjs/common';
import type { JobOptions, Queue } from 'bull';
import { AppConfig } from '../config';
import { JOB_CONTRACTS, jobsOfQueue, QUEUE_NAMES, QueueName } from '../queue';
import { defaultJobOptions } from '../queue/queue.options';
import { ThroughputStore } from '../metrics/throughput.store';
import { JobCountsView, QueueDetailView, QueueSummaryView } from './dto/queue.views';
import { QueueLocator } from './queue-locator';

type WorkerCounts = ReadonlyMap<QueueName, number>;

/** Read-only queue statistics: counts, pause state and workers from Redis, throughput from the minute buckets. */
@Injectable()
export class QueueStatsService {
  constructor(
    private readonly locator: QueueLocator,
    private readonly throughput: ThroughputStore,
    private readonly config: AppConfig,
  ) {}

  async summaries(): Promise<QueueSummaryView[]> {
    const [throughput, workers] = await Promise.all([
      this.throughput.read(QUEUE_NAMES),
      this.workerCounts(),
    ]);
    return Promise.all(
      QUEUE_NAMES.map((name) =>
        this.summary(name, this.locator.queue(name).queue, throughput.get(name)!, workers),
      ),
    );
  }

  async detail(name: string): Promise<QueueDetailView> {
    const located = this.locator.queue(name);
    const [throughput, oldest, workers] = await Promise.all([
      this.throughput.read([located.name]),
      this.oldestWaiting(located.queue),
      this.workerCounts(),
    ]);
    const summary = await this.summary(
      located.name,
      located.queue,
      throughput.get(located.name)!,
      workers,
    );
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
    workers: WorkerCounts | null,
  ): Promise<QueueSummaryView> {
    const [counts, paused] = await Promise.all([queue.getJobCounts(), queue.isPaused()]);
    return {
      name,
      counts: counts as unknown as JobCountsView,
      paused,
      workers: workers ? (workers.get(name) ?? 0) : null,
      throughput,
    };
  }

  /**
   * Workers attached to each queue, from ONE `CLIENT LIST` (Bull's getWorkers() runs one per
   * queue, and the list has a line per connection of every process): Bull names each worker's
   * blocking connection `<prefix>:<base64 queue name>`. null when the Redis provider refuses
   * CLIENT LIST.
   */
  private async workerCounts(): Promise<WorkerCounts | null> {
    let list: string;
    try {
      list = String(await this.locator.queue(QUEUE_NAMES[0]).queue.client.client('LIST'));
    } catch (error) {
      if (/unknown command/i.test((error as Error).message)) return null;
      throw error;
    }
    const names = [...list.matchAll(/(?:^| )name=(\S+)/gm)].map((match) => match[1]);
    return new Map(
      QUEUE_NAMES.map((name) => {
        const prefix = `${this.config.redis.prefix}:${Buffer.from(name).toString('base64')}`;
        return [name, names.filter((client) => client.startsWith(prefix)).length] as const;
      }),
    );
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
