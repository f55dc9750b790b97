import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { QueueName } from '../queue';
import { RedisConnections } from '../redis/redis-connections';
import { BUCKET_MS, MinuteCounts, slidingWindow, ThroughputWindow } from './throughput.window';

export type JobOutcome = 'completed' | 'failed';

export interface QueueThroughput {
  lastMinute: ThroughputWindow;
  lastHour: ThroughputWindow;
}

/** An hour of buckets plus the partial one at each end, and a margin for clock skew. */
const HOUR_BUCKETS = 60;
const BUCKET_TTL_MS = (HOUR_BUCKETS + 5) * BUCKET_MS;

/**
 * Finished-job counts per queue and minute, in Redis, so every worker process adds to the same
 * numbers and any API instance can read them. One hash per queue and minute
 * (`<prefix>:throughput:<queue>:<minute>` with fields completed/failed) that expires after an
 * hour: a worker writes HINCRBY + PEXPIRE in one pipelined round trip per finished job, off the
 * producer's path. (Counting finishedOn of the jobs kept in Redis would undercount: completed
 * jobs are trimmed to COMPLETED_JOB_RETENTION, and it costs a scan per read.)
 */
@Injectable()
export class ThroughputStore {
  constructor(
    private readonly redis: RedisConnections,
    private readonly config: AppConfig,
  ) {}

  async record(queue: QueueName, outcome: JobOutcome, at = Date.now()): Promise<void> {
    const key = this.key(queue, Math.floor(at / BUCKET_MS));
    await this.redis.commands
      .pipeline()
      .hincrby(key, outcome, 1)
      .pexpire(key, BUCKET_TTL_MS)
      .exec();
  }

  /** Last minute and last hour for each queue, in one round trip. */
  async read(
    queues: readonly QueueName[],
    now = Date.now(),
  ): Promise<Map<QueueName, QueueThroughput>> {
    const minute = Math.floor(now / BUCKET_MS);
    const pipeline = this.redis.commands.pipeline();
    for (const queue of queues) {
      for (let k = 0; k <= HOUR_BUCKETS; k += 1) {
        pipeline.hmget(this.key(queue, minute - k), 'completed', 'failed');
      }
    }
    const replies = (await pipeline.exec()) ?? [];
    const result = new Map<QueueName, QueueThroughput>();
    queues.forEach((queue, index) => {
      const buckets: MinuteCounts[] = replies
        .slice(index * (HOUR_BUCKETS + 1), (index + 1) * (HOUR_BUCKETS + 1))
        .map(([error, value]) => {
          if (error) throw error;
          const [completed, failed] = value as Array<string | null>;
          return { completed: Number(completed ?? 0), failed: Number(failed ?? 0) };
        });
      result.set(queue, {
        lastMinute: slidingWindow(buckets, 1, now),
        lastHour: slidingWindow(buckets, HOUR_BUCKETS, now),
      });
    });
    return result;
  }

  private key(queue: QueueName, minute: number): string {
    return `${this.config.redis.prefix}:throughput:${queue}:${minute}`;
  }
}
